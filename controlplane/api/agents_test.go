package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sidecard/sidecard/controlplane/auth"
	"github.com/sidecard/sidecard/registry"
)

// routeCase is one request against an API over a seeded fake store.
type routeCase struct {
	name       string
	seeds      []seed
	auth       bool // configure testToken
	maxBody    int64
	req        req
	wantStatus int
	wantCode   string // error code; "" for a success
	wantField  string
	wantHeader map[string]string // exact values; "" means absent
	noWrite    bool              // the request must not reach the store's writes
	check      func(t *testing.T, rec *httptest.ResponseRecorder, st *fakeStore)
}

func runRouteCases(t *testing.T, tests []routeCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := seeded(t, tt.seeds...)
			opts := Options{Store: st, View: st, MaxBodyBytes: tt.maxBody}
			if tt.auth {
				opts.Tokens = testTokens(t)
			}
			a, _ := newTestAPI(t, opts)
			rec := do(t, a.Handler(), tt.req)
			if tt.wantCode != "" {
				checkError(t, rec, tt.wantStatus, tt.wantCode, tt.wantField)
			} else if rec.Code != tt.wantStatus {
				t.Fatalf("status = %d, want %d; body %s", rec.Code, tt.wantStatus, rec.Body)
			}
			for k, want := range tt.wantHeader {
				if got := rec.Header().Get(k); got != want {
					t.Errorf("header %s = %q, want %q", k, got, want)
				}
			}
			if tt.noWrite && st.writeCount() != 0 {
				t.Errorf("the request reached the store (%d writes)", st.writeCount())
			}
			if tt.check != nil {
				tt.check(t, rec, st)
			}
		})
	}
}

// storedEntry decodes the entry in rec's body and checks it against name,
// revision and source.
func storedEntry(name string, rev int64, source string) func(*testing.T, *httptest.ResponseRecorder, *fakeStore) {
	return func(t *testing.T, rec *httptest.ResponseRecorder, _ *fakeStore) {
		t.Helper()
		if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type = %q, want application/json", ct)
		}
		var e registry.Entry
		if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil {
			t.Fatalf("decode entry %s: %v", rec.Body, err)
		}
		if e.Name != name || e.Revision != rev || e.Source != source || e.Card == nil || e.UpdatedAt.IsZero() {
			t.Errorf("entry = {name %q, revision %d, source %q, card %v, updated %v}; want %q, %d, %q with a card and a time",
				e.Name, e.Revision, e.Source, e.Card != nil, e.UpdatedAt, name, rev, source)
		}
	}
}

// absent checks that the store no longer has name.
func absent(name string) func(*testing.T, *httptest.ResponseRecorder, *fakeStore) {
	return func(t *testing.T, _ *httptest.ResponseRecorder, st *fakeStore) {
		t.Helper()
		if _, err := st.Get(name); err == nil {
			t.Errorf("%q is still stored", name)
		}
	}
}

// emptyBody checks that rec has no body.
func emptyBody(t *testing.T, rec *httptest.ResponseRecorder, _ *fakeStore) {
	t.Helper()
	if rec.Body.Len() != 0 {
		t.Errorf("body = %q, want none", rec.Body)
	}
}

var jsonCT = map[string]string{"Content-Type": "application/json"}

// withHeader returns jsonCT plus the given header pairs.
func withHeader(kv ...string) map[string]string {
	h := map[string]string{"Content-Type": "application/json"}
	for i := 0; i+1 < len(kv); i += 2 {
		h[kv[i]] = kv[i+1]
	}
	return h
}

func TestPutAgent(t *testing.T) {
	weather := seed{name: "weather", rev: 4}
	runRouteCases(t, []routeCase{
		{
			name:       "create from an entry",
			req:        req{method: "PUT", path: "/v1/agents/weather", body: entryJSON("weather"), header: jsonCT},
			wantStatus: http.StatusCreated,
			wantHeader: map[string]string{"ETag": `"1"`, "Location": "/v1/agents/weather"},
			check:      storedEntry("weather", 1, registry.SourceAPI),
		},
		{
			name:       "create from a bare card",
			req:        req{method: "PUT", path: "/v1/agents/weather", body: cardJSON("weather", "forecast", "rain"), header: jsonCT},
			wantStatus: http.StatusCreated,
			check:      storedEntry("weather", 1, registry.SourceAPI),
		},
		{
			name:       "content type with charset",
			req:        req{method: "PUT", path: "/v1/agents/weather", body: entryJSON("weather"), header: withHeader("Content-Type", "application/json; charset=utf-8")},
			wantStatus: http.StatusCreated,
		},
		{
			name:       "update",
			seeds:      []seed{weather},
			req:        req{method: "PUT", path: "/v1/agents/weather", body: entryJSON("weather"), header: jsonCT},
			wantStatus: http.StatusOK,
			wantHeader: map[string]string{"ETag": `"5"`, "Location": ""},
			check:      storedEntry("weather", 5, registry.SourceAPI),
		},
		{
			name:       "If-Match at the current revision",
			seeds:      []seed{weather},
			req:        req{method: "PUT", path: "/v1/agents/weather", body: entryJSON("weather"), header: withHeader("If-Match", `"4"`)},
			wantStatus: http.StatusOK,
			wantHeader: map[string]string{"ETag": `"5"`},
		},
		{
			name:       "If-Match at another revision",
			seeds:      []seed{weather},
			req:        req{method: "PUT", path: "/v1/agents/weather", body: entryJSON("weather"), header: withHeader("If-Match", `"3"`)},
			wantStatus: http.StatusPreconditionFailed, wantCode: codeFailedPrecondition,
		},
		{
			name:       "If-Match on an absent entry",
			req:        req{method: "PUT", path: "/v1/agents/weather", body: entryJSON("weather"), header: withHeader("If-Match", `"1"`)},
			wantStatus: http.StatusPreconditionFailed, wantCode: codeFailedPrecondition,
		},
		{
			name:       "If-Match revision 0",
			seeds:      []seed{weather},
			req:        req{method: "PUT", path: "/v1/agents/weather", body: entryJSON("weather"), header: withHeader("If-Match", `"0"`)},
			wantStatus: http.StatusPreconditionFailed, wantCode: codeFailedPrecondition, noWrite: true,
		},
		{
			name:       "If-Match not quoted",
			seeds:      []seed{weather},
			req:        req{method: "PUT", path: "/v1/agents/weather", body: entryJSON("weather"), header: withHeader("If-Match", `4`)},
			wantStatus: http.StatusBadRequest, wantCode: codeInvalidArgument, wantField: "If-Match", noWrite: true,
		},
		{
			name:       "If-Match star",
			seeds:      []seed{weather},
			req:        req{method: "PUT", path: "/v1/agents/weather", body: entryJSON("weather"), header: withHeader("If-Match", `*`)},
			wantStatus: http.StatusBadRequest, wantCode: codeInvalidArgument, wantField: "If-Match", noWrite: true,
		},
		{
			name:       "If-Match not an integer",
			seeds:      []seed{weather},
			req:        req{method: "PUT", path: "/v1/agents/weather", body: entryJSON("weather"), header: withHeader("If-Match", `"4a"`)},
			wantStatus: http.StatusBadRequest, wantCode: codeInvalidArgument, wantField: "If-Match", noWrite: true,
		},
		{
			name:       "file-owned entry",
			seeds:      []seed{{name: "weather", rev: 2, source: registry.SourceFile}},
			req:        req{method: "PUT", path: "/v1/agents/weather", body: entryJSON("weather"), header: jsonCT},
			wantStatus: http.StatusConflict, wantCode: codeConflict,
		},
		{
			name: "invalid card names the field",
			req: req{method: "PUT", path: "/v1/agents/weather", header: jsonCT,
				body: strings.Replace(cardJSON("weather", "forecast", "rain"), `"id": "forecast", `, "", 1)},
			wantStatus: http.StatusBadRequest, wantCode: codeInvalidArgument, wantField: "card.skills[0].id", noWrite: true,
		},
		{
			name:       "malformed JSON",
			req:        req{method: "PUT", path: "/v1/agents/weather", body: `{"name": "weather",`, header: jsonCT},
			wantStatus: http.StatusBadRequest, wantCode: codeInvalidArgument, noWrite: true,
		},
		{
			name:       "empty body",
			req:        req{method: "PUT", path: "/v1/agents/weather", header: jsonCT},
			wantStatus: http.StatusBadRequest, wantCode: codeInvalidArgument, noWrite: true,
		},
		{
			name:       "body name differs from the path",
			req:        req{method: "PUT", path: "/v1/agents/weather", body: entryJSON("rain"), header: jsonCT},
			wantStatus: http.StatusBadRequest, wantCode: codeInvalidArgument, wantField: "name", noWrite: true,
		},
		{
			name:       "invalid name in the path",
			req:        req{method: "PUT", path: "/v1/agents/Weather_Bot", body: entryJSON("weather"), header: jsonCT},
			wantStatus: http.StatusBadRequest, wantCode: codeInvalidArgument, wantField: "name", noWrite: true,
		},
		{
			name:       "2 MiB body",
			req:        req{method: "PUT", path: "/v1/agents/weather", body: bigBody(2 << 20), header: jsonCT},
			wantStatus: http.StatusRequestEntityTooLarge, wantCode: codePayloadTooLarge, noWrite: true,
		},
		{
			name:       "2 MiB body without Content-Length",
			req:        req{method: "PUT", path: "/v1/agents/weather", bodyReader: strings.NewReader(bigBody(2 << 20)), header: jsonCT},
			wantStatus: http.StatusRequestEntityTooLarge, wantCode: codePayloadTooLarge, noWrite: true,
		},
		{
			name:       "configured body limit",
			maxBody:    64,
			req:        req{method: "PUT", path: "/v1/agents/weather", body: entryJSON("weather"), header: jsonCT},
			wantStatus: http.StatusRequestEntityTooLarge, wantCode: codePayloadTooLarge, noWrite: true,
		},
		{
			name:       "text/plain",
			req:        req{method: "PUT", path: "/v1/agents/weather", body: entryJSON("weather"), header: map[string]string{"Content-Type": "text/plain"}},
			wantStatus: http.StatusUnsupportedMediaType, wantCode: codeUnsupportedMediaType, noWrite: true,
		},
		{
			name:       "no Content-Type",
			req:        req{method: "PUT", path: "/v1/agents/weather", body: entryJSON("weather")},
			wantStatus: http.StatusUnsupportedMediaType, wantCode: codeUnsupportedMediaType, noWrite: true,
		},
	})
}

// bigBody returns a syntactically valid JSON object of about n bytes.
func bigBody(n int) string {
	return `{"name": "weather", "pad": "` + strings.Repeat("x", n) + `"}`
}

func TestDeleteAgent(t *testing.T) {
	weather := seed{name: "weather", rev: 4}
	runRouteCases(t, []routeCase{
		{
			name:       "delete",
			seeds:      []seed{weather},
			req:        req{method: "DELETE", path: "/v1/agents/weather"},
			wantStatus: http.StatusNoContent,
			check: func(t *testing.T, rec *httptest.ResponseRecorder, st *fakeStore) {
				emptyBody(t, rec, st)
				absent("weather")(t, rec, st)
			},
		},
		{
			name:       "absent",
			req:        req{method: "DELETE", path: "/v1/agents/weather"},
			wantStatus: http.StatusNotFound, wantCode: codeNotFound,
		},
		{
			name:       "If-Match at the current revision",
			seeds:      []seed{weather},
			req:        req{method: "DELETE", path: "/v1/agents/weather", header: map[string]string{"If-Match": `"4"`}},
			wantStatus: http.StatusNoContent,
			check:      absent("weather"),
		},
		{
			name:       "If-Match at another revision",
			seeds:      []seed{weather},
			req:        req{method: "DELETE", path: "/v1/agents/weather", header: map[string]string{"If-Match": `"9"`}},
			wantStatus: http.StatusPreconditionFailed, wantCode: codeFailedPrecondition,
		},
		{
			name:       "If-Match on an absent entry",
			req:        req{method: "DELETE", path: "/v1/agents/weather", header: map[string]string{"If-Match": `"4"`}},
			wantStatus: http.StatusPreconditionFailed, wantCode: codeFailedPrecondition,
		},
		{
			name:       "malformed If-Match",
			seeds:      []seed{weather},
			req:        req{method: "DELETE", path: "/v1/agents/weather", header: map[string]string{"If-Match": `W/"4"`}},
			wantStatus: http.StatusBadRequest, wantCode: codeInvalidArgument, wantField: "If-Match", noWrite: true,
		},
		{
			name:       "file-owned entry",
			seeds:      []seed{{name: "weather", rev: 2, source: registry.SourceFile}},
			req:        req{method: "DELETE", path: "/v1/agents/weather"},
			wantStatus: http.StatusConflict, wantCode: codeConflict,
		},
		{
			name:       "invalid name",
			req:        req{method: "DELETE", path: "/v1/agents/-weather"},
			wantStatus: http.StatusBadRequest, wantCode: codeInvalidArgument, wantField: "name", noWrite: true,
		},
	})
}

func TestGetAgent(t *testing.T) {
	weather := seed{name: "weather", rev: 3}
	runRouteCases(t, []routeCase{
		{
			name:       "get",
			seeds:      []seed{weather},
			req:        req{method: "GET", path: "/v1/agents/weather"},
			wantStatus: http.StatusOK,
			wantHeader: map[string]string{"ETag": `"3"`},
			check:      storedEntry("weather", 3, registry.SourceAPI),
		},
		{
			name:       "head",
			seeds:      []seed{weather},
			req:        req{method: "HEAD", path: "/v1/agents/weather"},
			wantStatus: http.StatusOK,
			wantHeader: map[string]string{"ETag": `"3"`, "Content-Type": "application/json"},
			check:      emptyBody,
		},
		{
			name:       "If-None-Match current",
			seeds:      []seed{weather},
			req:        req{method: "GET", path: "/v1/agents/weather", header: map[string]string{"If-None-Match": `"3"`}},
			wantStatus: http.StatusNotModified,
			wantHeader: map[string]string{"ETag": `"3"`},
			check:      emptyBody,
		},
		{
			name:       "If-None-Match weak in a list",
			seeds:      []seed{weather},
			req:        req{method: "GET", path: "/v1/agents/weather", header: map[string]string{"If-None-Match": `"1", W/"3"`}},
			wantStatus: http.StatusNotModified,
		},
		{
			name:       "If-None-Match star",
			seeds:      []seed{weather},
			req:        req{method: "GET", path: "/v1/agents/weather", header: map[string]string{"If-None-Match": `*`}},
			wantStatus: http.StatusNotModified,
		},
		{
			name:       "If-None-Match stale",
			seeds:      []seed{weather},
			req:        req{method: "GET", path: "/v1/agents/weather", header: map[string]string{"If-None-Match": `"2"`}},
			wantStatus: http.StatusOK,
			check:      storedEntry("weather", 3, registry.SourceAPI),
		},
		{
			name:       "absent",
			req:        req{method: "GET", path: "/v1/agents/weather"},
			wantStatus: http.StatusNotFound, wantCode: codeNotFound,
		},
		{
			name:       "invalid name",
			req:        req{method: "GET", path: "/v1/agents/a..b"},
			wantStatus: http.StatusBadRequest, wantCode: codeInvalidArgument, wantField: "name",
		},
	})
}

func TestAuth(t *testing.T) {
	weather := seed{name: "weather", rev: 1}
	put := func(header map[string]string) req {
		return req{method: "PUT", path: "/v1/agents/weather", body: entryJSON("weather"), header: header}
	}
	unauth := map[string]string{"WWW-Authenticate": "Bearer"}
	runRouteCases(t, []routeCase{
		{
			name: "put with the token", auth: true,
			req:        put(withHeader("Authorization", "Bearer "+testToken)),
			wantStatus: http.StatusCreated,
			wantHeader: map[string]string{"WWW-Authenticate": ""},
		},
		{
			name: "put without Authorization", auth: true,
			req:        put(jsonCT),
			wantStatus: http.StatusUnauthorized, wantCode: codeUnauthenticated, wantHeader: unauth, noWrite: true,
		},
		{
			name: "put with a wrong token", auth: true,
			req:        put(withHeader("Authorization", "Bearer wrong-token-0123456789")),
			wantStatus: http.StatusUnauthorized, wantCode: codeUnauthenticated, wantHeader: unauth, noWrite: true,
		},
		{
			name: "put with the wrong scheme", auth: true,
			req:        put(withHeader("Authorization", "Basic "+testToken)),
			wantStatus: http.StatusUnauthorized, wantCode: codeUnauthenticated, wantHeader: unauth, noWrite: true,
		},
		{
			name: "auth comes before validation", auth: true,
			req:        req{method: "PUT", path: "/v1/agents/Bad_Name", body: "{", header: map[string]string{"Content-Type": "text/plain"}},
			wantStatus: http.StatusUnauthorized, wantCode: codeUnauthenticated, wantHeader: unauth, noWrite: true,
		},
		{
			name: "delete without Authorization", auth: true, seeds: []seed{weather},
			req:        req{method: "DELETE", path: "/v1/agents/weather"},
			wantStatus: http.StatusUnauthorized, wantCode: codeUnauthenticated, wantHeader: unauth, noWrite: true,
		},
		{
			name: "delete with the token", auth: true, seeds: []seed{weather},
			req:        req{method: "DELETE", path: "/v1/agents/weather", header: map[string]string{"Authorization": "Bearer " + testToken}},
			wantStatus: http.StatusNoContent,
		},
		{
			name: "reads need no token", auth: true, seeds: []seed{weather},
			req:        req{method: "GET", path: "/v1/agents/weather"},
			wantStatus: http.StatusOK,
		},
		{
			name:       "no tokens configured: writes are open",
			req:        put(jsonCT),
			wantStatus: http.StatusCreated,
		},
	})
}

func TestTokensReload(t *testing.T) {
	st := newFakeStore()
	first, err := authTokens("first-token-0123456789")
	if err != nil {
		t.Fatal(err)
	}
	current := first
	a, _ := newTestAPI(t, Options{Store: st, View: st, Tokens: func() *auth.Tokens { return current }})
	put := func(token string) int {
		return do(t, a.Handler(), req{method: "PUT", path: "/v1/agents/weather", body: entryJSON("weather"),
			header: withHeader("Authorization", "Bearer "+token)}).Code
	}
	if code := put("first-token-0123456789"); code != http.StatusCreated {
		t.Fatalf("first token: status %d, want 201", code)
	}
	if current, err = authTokens("second-token-0123456789"); err != nil {
		t.Fatal(err)
	}
	if code := put("first-token-0123456789"); code != http.StatusUnauthorized {
		t.Fatalf("first token after reload: status %d, want 401", code)
	}
	if code := put("second-token-0123456789"); code != http.StatusOK {
		t.Fatalf("second token after reload: status %d, want 200", code)
	}
}

func TestStoreFailure(t *testing.T) {
	st := newFakeStore()
	st.failAll = errors.New("bbolt: disk I/O error at /secret/path")
	a, logs := newTestAPI(t, Options{Store: st, View: st})
	tests := []struct {
		name string
		req  req
	}{
		{name: "put", req: req{method: "PUT", path: "/v1/agents/weather", body: entryJSON("weather"), header: jsonCT}},
		{name: "delete", req: req{method: "DELETE", path: "/v1/agents/weather"}},
		{name: "get", req: req{method: "GET", path: "/v1/agents/weather"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := do(t, a.Handler(), tt.req)
			checkError(t, rec, http.StatusInternalServerError, codeInternal, "")
			if strings.Contains(rec.Body.String(), "secret") {
				t.Errorf("500 body %s leaks the store error", rec.Body)
			}
		})
	}
	if !strings.Contains(logs.String(), "disk I/O error") {
		t.Errorf("the store error was not logged; logs:\n%s", logs)
	}
}

func TestWriteThenRead(t *testing.T) {
	st := newFakeStore()
	a, _ := newTestAPI(t, Options{Store: st, View: st})
	h := a.Handler()
	steps := []struct {
		name       string
		req        req
		wantStatus int
		wantETag   string
	}{
		{name: "create", req: req{method: "PUT", path: "/v1/agents/weather", body: entryJSON("weather"), header: jsonCT}, wantStatus: 201, wantETag: `"1"`},
		{name: "update", req: req{method: "PUT", path: "/v1/agents/weather", body: entryJSON("weather"), header: withHeader("If-Match", `"1"`)}, wantStatus: 200, wantETag: `"2"`},
		{name: "stale update", req: req{method: "PUT", path: "/v1/agents/weather", body: entryJSON("weather"), header: withHeader("If-Match", `"1"`)}, wantStatus: 412},
		{name: "get", req: req{method: "GET", path: "/v1/agents/weather"}, wantStatus: 200, wantETag: `"2"`},
		{name: "not modified", req: req{method: "GET", path: "/v1/agents/weather", header: map[string]string{"If-None-Match": `"2"`}}, wantStatus: 304, wantETag: `"2"`},
		{name: "delete", req: req{method: "DELETE", path: "/v1/agents/weather"}, wantStatus: 204},
		{name: "delete again", req: req{method: "DELETE", path: "/v1/agents/weather"}, wantStatus: 404},
		{name: "get deleted", req: req{method: "GET", path: "/v1/agents/weather"}, wantStatus: 404},
	}
	for _, s := range steps {
		rec := do(t, h, s.req)
		if rec.Code != s.wantStatus || rec.Header().Get("ETag") != s.wantETag {
			t.Fatalf("%s: status %d, ETag %q; want %d, %q; body %s",
				s.name, rec.Code, rec.Header().Get("ETag"), s.wantStatus, s.wantETag, rec.Body)
		}
	}
}
