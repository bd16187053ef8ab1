package compat_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sidecard/sidecard/controlplane/compat"
	"github.com/sidecard/sidecard/registry"
)

// benchAgents is the registry size of the in-process benchmarks, that of
// A2A Registry's published load test.
const benchAgents = 1000

// newBenchEnv returns an env holding benchAgents agents written in one
// store transaction (camelCase), and ten registered through the API in
// snake_case (snake-0 … snake-9).
func newBenchEnv(b *testing.B) (*env, http.Handler) {
	b.Helper()
	e := newEnv(b, compat.Options{})
	entries := make([]*registry.Entry, 0, benchAgents)
	for i := range benchAgents {
		card, _, err := registry.ParseCardLenient([]byte(fmt.Sprintf(`{"name":"test-agent-%d",`+
			`"description":"Load test agent %d","url":"http://localhost:300%d","version":"1.0.0",`+
			`"protocolVersion":"1.0.0","skills":[{"id":"test","description":"Test skill"}]}`, i, i, i%10)))
		if err != nil {
			b.Fatal(err)
		}
		entries = append(entries, &registry.Entry{Name: registry.DeriveName(card.Name), Card: card,
			Endpoints: card.DefaultEndpoints()})
	}
	if _, err := e.store.Apply(context.Background(), registry.SourceAPI, entries, nil); err != nil {
		b.Fatal(err)
	}
	for i := range 10 {
		card := strings.Replace(loadTestCard, "Test Agent", fmt.Sprintf("snake-%d", i), 1)
		if rec := e.do(req{method: "POST", path: "/agents", body: registerBody(card)}); rec.Code != 201 {
			b.Fatalf("register: %d %s", rec.Code, rec.Body)
		}
	}
	mux := http.NewServeMux()
	e.handler.Mount(mux)
	return e, mux
}

// benchServe serves the request built by newReq b.N times.
func benchServe(b *testing.B, h http.Handler, newReq func() *http.Request) {
	b.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, newReq())
	if rec.Code != http.StatusOK {
		b.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	b.SetBytes(int64(rec.Body.Len()))
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(httptest.NewRecorder(), newReq())
	}
}

func BenchmarkRESTGet(b *testing.B) {
	_, h := newBenchEnv(b)
	for _, id := range []string{"test-agent-42", "snake-3"} {
		b.Run(id, func(b *testing.B) {
			benchServe(b, h, func() *http.Request { return httptest.NewRequest("GET", "/agents/"+id, nil) })
		})
	}
}

func BenchmarkRESTList(b *testing.B) {
	_, h := newBenchEnv(b)
	benchServe(b, h, func() *http.Request { return httptest.NewRequest("GET", "/agents", nil) })
}

func BenchmarkRESTSearch(b *testing.B) {
	_, h := newBenchEnv(b)
	for name, body := range map[string]string{
		"query":  `{"query":"test-agent-42"}`,
		"skills": `{"query":"","skills":["test"],"max_results":100}`,
	} {
		b.Run(name, func(b *testing.B) {
			benchServe(b, h, func() *http.Request {
				return httptest.NewRequest("POST", "/agents/search", strings.NewReader(body))
			})
		})
	}
}

func BenchmarkRESTHealth(b *testing.B) {
	_, h := newBenchEnv(b)
	benchServe(b, h, func() *http.Request { return httptest.NewRequest("GET", "/health", nil) })
}

func BenchmarkJSONRPCGet(b *testing.B) {
	_, h := newBenchEnv(b)
	body := `{"jsonrpc":"2.0","method":"get_agent","params":{"agent_id":"test-agent-42"},"id":1}`
	benchServe(b, h, func() *http.Request {
		return httptest.NewRequest("POST", "/jsonrpc", strings.NewReader(body))
	})
}
