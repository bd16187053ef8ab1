package compat_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sidecard/sidecard/controlplane/auth"
	"github.com/sidecard/sidecard/controlplane/compat"
	"github.com/sidecard/sidecard/controlplane/store"
	"github.com/sidecard/sidecard/controlplane/view"
	"github.com/sidecard/sidecard/internal/a2aregistry"
	"github.com/sidecard/sidecard/registry"
)

// Cards of the tests. loadTestCard is A2A Registry's published load-test
// card, in snake_case and incomplete; weatherCard is a complete camelCase
// card.
const (
	loadTestCard = `{"name": "Test Agent", "description": "A test agent", "url": "http://localhost:8080",
		"version": "1.0.0", "protocol_version": "0.3.0", "skills": [{"id": "test", "description": "Test skill"}]}`
	// loadTestCardStored is loadTestCard completed and answered in snake_case.
	loadTestCardStored = `{"name":"Test Agent","description":"A test agent","url":"http://localhost:8080",
		"version":"1.0.0","protocol_version":"0.3.0","skills":[{"id":"test","description":"Test skill","name":"test",
		"tags":[]}],"capabilities":{},"default_input_modes":["text/plain"],"default_output_modes":["text/plain"]}`
	weatherCard = `{"protocolVersion":"0.3.0","name":"Weather","description":"Forecasts","url":"http://weather.internal:9001",
		"version":"2.0.0","capabilities":{"streaming":true},"defaultInputModes":["text/plain"],
		"defaultOutputModes":["application/json"],"skills":[{"id":"forecast","name":"Forecast",
		"description":"Forecasts the weather","tags":["weather"]}]}`
)

// env is the compat API over a real bbolt store and a view following it.
type env struct {
	t        testing.TB
	store    *store.Bolt
	registry a2aregistry.Registry
	handler  *compat.Handler
	metrics  *prometheus.Registry
}

// newEnv opens a store in a temporary directory, runs a view over it and
// builds a Handler with opts, whose Registry is a StoreRegistry when unset.
func newEnv(t testing.TB, opts compat.Options) *env {
	t.Helper()
	bolt, err := store.Open(filepath.Join(t.TempDir(), "registry.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	v, err := view.New(bolt, view.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- v.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("view Run: %v", err)
		}
		if err := bolt.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	if opts.Registry == nil {
		if opts.Registry, err = compat.NewStoreRegistry(bolt, v); err != nil {
			t.Fatal(err)
		}
	}
	reg := prometheus.NewRegistry()
	opts.Registerer = reg
	h, err := compat.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, store: bolt, registry: opts.Registry, handler: h, metrics: reg}
}

// req is one HTTP request of a test.
type req struct {
	method, path, body string
	header             map[string]string
}

// do serves r with the env's handler, mounted on a mux as the control plane
// mounts it.
func (e *env) do(r req) *httptest.ResponseRecorder {
	e.t.Helper()
	mux := http.NewServeMux()
	e.handler.Mount(mux)
	hr := httptest.NewRequest(r.method, r.path, strings.NewReader(r.body))
	for k, v := range r.header {
		hr.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, hr)
	return rec
}

// rpc posts a JSON-RPC body to /jsonrpc.
func (e *env) rpc(body string, header ...string) *httptest.ResponseRecorder {
	e.t.Helper()
	h := map[string]string{"Content-Type": "application/json"}
	for i := 0; i+1 < len(header); i += 2 {
		h[header[i]] = header[i+1]
	}
	return e.do(req{method: "POST", path: "/jsonrpc", body: body, header: h})
}

// putEntry stores an entry directly, as source.
func (e *env) putEntry(name, source string, card string, labels map[string]string) *registry.Entry {
	e.t.Helper()
	c, err := registry.ParseCard([]byte(card))
	if err != nil {
		e.t.Fatal(err)
	}
	stored, _, err := e.store.Put(context.Background(),
		&registry.Entry{Name: name, Card: c, Labels: labels, Endpoints: c.DefaultEndpoints()},
		store.Precondition{Source: source})
	if err != nil {
		e.t.Fatal(err)
	}
	return stored
}

// wantJSONEqual fails unless got and want are the same JSON value.
func wantJSONEqual(t *testing.T, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("response is not JSON: %v\n%s", err, got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad test: want is not JSON: %v\n%s", err, want)
	}
	if !reflect.DeepEqual(g, w) {
		var compact bytes.Buffer
		_ = json.Compact(&compact, []byte(want))
		t.Fatalf("response\n%s\nwant\n%s", bytes.TrimSpace(got), compact.Bytes())
	}
}

// jsonHeader is the Content-Type of JSON requests.
var jsonHeader = map[string]string{"Content-Type": "application/json"}

// registerBody wraps a card in the body of POST /agents.
func registerBody(card string) string { return `{"agent_card": ` + card + `}` }

// testToken is the bearer token testTokens accepts.
const testToken = "compat-test-token-0123456789"

// testTokens returns a Tokens getter accepting testToken.
func testTokens(t *testing.T) func() *auth.Tokens {
	t.Helper()
	tokens, err := auth.ParseTokens([]byte(testToken + " tester\n"))
	if err != nil {
		t.Fatal(err)
	}
	return func() *auth.Tokens { return tokens }
}

// jsonUnmarshalStrict decodes data into dst, refusing unknown fields.
func jsonUnmarshalStrict(data []byte, dst any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	return dec.Decode(dst)
}
