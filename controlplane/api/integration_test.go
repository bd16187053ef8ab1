package api

import (
	"context"
	"net/http"
	"path/filepath"
	"slices"
	"testing"

	"github.com/sidecard/sidecard/controlplane/store"
	"github.com/sidecard/sidecard/controlplane/view"
	"github.com/sidecard/sidecard/registry"
)

// TestWithBoltStoreAndView runs the API over the real bbolt store and a view
// following it: a listing right after a write sees the write.
func TestWithBoltStoreAndView(t *testing.T) {
	bolt, err := store.Open(filepath.Join(t.TempDir(), "store.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := bolt.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
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
	})
	fileOwned := seed{name: "from-file", source: registry.SourceFile}.entry(t)
	if _, _, err := bolt.Put(ctx, fileOwned, store.Precondition{Source: registry.SourceFile}); err != nil {
		t.Fatal(err)
	}
	a, _ := newTestAPI(t, Options{Store: bolt, View: v})
	h := a.Handler()

	listNames := func() []string {
		rec := do(t, h, req{method: "GET", path: "/v1/agents"})
		if rec.Code != http.StatusOK {
			t.Fatalf("list: status %d, body %s", rec.Code, rec.Body)
		}
		return decodeList(t, rec.Body.Bytes()).names()
	}
	steps := []struct {
		name       string
		req        req
		wantStatus int
		wantList   []string
	}{
		{name: "create", req: req{method: "PUT", path: "/v1/agents/weather", body: entryJSON("weather"), header: jsonCT},
			wantStatus: 201, wantList: []string{"from-file", "weather"}},
		{name: "create another", req: req{method: "PUT", path: "/v1/agents/rain", body: cardJSON("rain", "rain", "wet"), header: jsonCT},
			wantStatus: 201, wantList: []string{"from-file", "rain", "weather"}},
		{name: "update at a stale revision", req: req{method: "PUT", path: "/v1/agents/weather", body: entryJSON("weather"), header: withHeader("If-Match", `"1"`)},
			wantStatus: 412, wantList: []string{"from-file", "rain", "weather"}},
		{name: "update at the current revision", req: req{method: "PUT", path: "/v1/agents/weather", body: cardJSON("weather", "sun", "hot"), header: withHeader("If-Match", `"2"`)},
			wantStatus: 200, wantList: []string{"from-file", "rain", "weather"}},
		{name: "overwrite a file-owned entry", req: req{method: "PUT", path: "/v1/agents/from-file", body: entryJSON("from-file"), header: jsonCT},
			wantStatus: 409, wantList: []string{"from-file", "rain", "weather"}},
		{name: "delete a file-owned entry", req: req{method: "DELETE", path: "/v1/agents/from-file"},
			wantStatus: 409, wantList: []string{"from-file", "rain", "weather"}},
		{name: "delete", req: req{method: "DELETE", path: "/v1/agents/rain"},
			wantStatus: 204, wantList: []string{"from-file", "weather"}},
		{name: "delete again", req: req{method: "DELETE", path: "/v1/agents/rain"},
			wantStatus: 404, wantList: []string{"from-file", "weather"}},
	}
	for _, s := range steps {
		rec := do(t, h, s.req)
		if rec.Code != s.wantStatus {
			t.Fatalf("%s: status %d, want %d; body %s", s.name, rec.Code, s.wantStatus, rec.Body)
		}
		if got := listNames(); !slices.Equal(got, s.wantList) {
			t.Fatalf("%s: list right after = %v, want %v", s.name, got, s.wantList)
		}
	}
	rec := do(t, h, req{method: "GET", path: "/v1/agents?skill=sun"})
	if got := decodeList(t, rec.Body.Bytes()).names(); !slices.Equal(got, []string{"weather"}) {
		t.Fatalf("search by the updated skill = %v, want [weather]", got)
	}
}
