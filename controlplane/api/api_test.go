package api

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sidecard/sidecard/controlplane/auth"
	"github.com/sidecard/sidecard/controlplane/store"
	"github.com/sidecard/sidecard/controlplane/view"
)

var (
	_ Store   = (*store.Bolt)(nil)
	_ View    = (*view.View)(nil)
	_ Store   = (*fakeStore)(nil)
	_ View    = (*fakeStore)(nil)
	_ View    = laggingView{}
	_ Sources = SourcesFunc(nil)
)

// testToken is the token of testTokens, named "ci".
const testToken = "test-token-0123456789"

// authTokens returns the tokens of a file holding the one token.
func authTokens(token string) (*auth.Tokens, error) {
	return auth.ParseTokens([]byte(token + " ci\n"))
}

// testTokens returns a tokens func for testToken.
func testTokens(t *testing.T) func() *auth.Tokens {
	t.Helper()
	tokens, err := authTokens(testToken)
	if err != nil {
		t.Fatal(err)
	}
	return func() *auth.Tokens { return tokens }
}

// newTestAPI returns an API over opts, with metrics registered in a fresh
// registry that /metrics also serves, and debug logs kept in the returned
// buffer.
func newTestAPI(t *testing.T, opts Options) (*API, *bytes.Buffer) {
	t.Helper()
	reg := prometheus.NewRegistry()
	opts.Registerer, opts.Gatherer = reg, reg
	logs := &bytes.Buffer{}
	opts.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	a, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return a, logs
}

// req is a request to send to a handler.
type req struct {
	method, path, body string
	header             map[string]string
	// bodyReader, when set, is the body instead of body (with an unknown length).
	bodyReader io.Reader
}

// do serves r with h and returns the recorded response.
func do(t *testing.T, h http.Handler, r req) *httptest.ResponseRecorder {
	t.Helper()
	body := r.bodyReader
	if body == nil {
		body = strings.NewReader(r.body)
	}
	hr := httptest.NewRequest(r.method, r.path, body)
	if r.bodyReader != nil {
		hr.ContentLength = -1
	}
	for k, v := range r.header {
		hr.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, hr)
	return rec
}

// checkError checks that rec is an error in the §4 shape exactly, with status,
// code and field.
func checkError(t *testing.T, rec *httptest.ResponseRecorder, status int, code, field string) {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status = %d, want %d; body %s", rec.Code, status, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	dec := json.NewDecoder(bytes.NewReader(rec.Body.Bytes()))
	dec.DisallowUnknownFields()
	var body errorBody
	if err := dec.Decode(&body); err != nil {
		t.Fatalf("error body %s is not the §4 shape: %v", rec.Body, err)
	}
	if body.Error.Code != code || body.Error.Field != field || body.Error.Message == "" {
		t.Errorf("error = %+v, want code %q, field %q and a message", body.Error, code, field)
	}
	if field != "" && !strings.HasPrefix(body.Error.Message, field+": ") {
		t.Errorf("message %q does not name field %q", body.Error.Message, field)
	}
}

func TestNew(t *testing.T) {
	reg := prometheus.NewRegistry()
	st := newFakeStore()
	tests := []struct {
		name    string
		opts    Options
		wantErr string
	}{
		{name: "minimal", opts: Options{Store: st, View: st}},
		{name: "registers metrics", opts: Options{Store: st, View: st, Registerer: reg}},
		{name: "metrics registered twice", opts: Options{Store: st, View: st, Registerer: reg}, wantErr: "register API metrics"},
		{name: "no store", opts: Options{View: st}, wantErr: "store is required"},
		{name: "no view", opts: Options{Store: st}, wantErr: "view is required"},
		{name: "negative body limit", opts: Options{Store: st, View: st, MaxBodyBytes: -1}, wantErr: "max body bytes"},
		{name: "negative view wait", opts: Options{Store: st, View: st, ViewWait: -1}, wantErr: "view wait"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := New(tt.opts)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				if a.maxBody != DefaultMaxBodyBytes || a.viewWait != DefaultViewWait || a.Handler() == nil {
					t.Fatalf("defaults not applied: maxBody %d, viewWait %v", a.maxBody, a.viewWait)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("New error = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}
