package lookup

import (
	"testing"

	"github.com/sidecard/sidecard/registry"
	"github.com/sidecard/sidecard/sidecar/lookup/loadtest"
)

// renderCounts returns the hit and miss counts of kind k.
func renderCounts(t *testing.T, e *env, k kind) (hit, miss float64) {
	t.Helper()
	name := "sidecard_sidecar_render_cache_lookups_total"
	hit = counterValue(t, e.reg, name, map[string]string{"kind": kindNames[k], "result": "hit"})
	miss = counterValue(t, e.reg, name, map[string]string{"kind": kindNames[k], "result": "miss"})
	return hit, miss
}

// serveDirect serves method target on e.h with a fresh ctx and returns the
// status and a copy of the body.
func serveDirect(e *env, target string) (int, string) {
	ctx := requestCtx("GET", target, nil)
	e.h.Serve(ctx)
	return ctx.Response.StatusCode(), string(ctx.Response.Body())
}

// TestEntryCacheSurvivesUnrelatedUpdates checks that updating one entry
// re-renders that entry alone: the others stay cache hits.
func TestEntryCacheSurvivesUnrelatedUpdates(t *testing.T) {
	entries := testEntries(t)
	e := newEnv(t, entries, nil)
	for _, name := range []string{"currency", "weather"} {
		serveDirect(e, "/v1/agents/"+name)
	}
	e.h.cache.wait()
	updated := testEntry(t, "weather", 9, "forecast", "storm", map[string]string{"team": "forecast"})
	e.replica.Apply([]*registry.Entry{updated}, nil, []string{"translator"})

	hit0, miss0 := renderCounts(t, e, kindEntry)
	if status, body := serveDirect(e, "/v1/agents/currency"); status != 200 || body != entryBody(t, entries[0]) {
		t.Fatalf("currency: %d %s", status, body)
	}
	if hit, miss := renderCounts(t, e, kindEntry); hit != hit0+1 || miss != miss0 {
		t.Errorf("unrelated entry: hits %v→%v, misses %v→%v; want one more hit", hit0, hit, miss0, miss)
	}
	if status, body := serveDirect(e, "/v1/agents/weather"); status != 200 || body != entryBody(t, updated) {
		t.Fatalf("updated weather: %d %s", status, body)
	}
	if _, miss := renderCounts(t, e, kindEntry); miss != miss0+1 {
		t.Errorf("updated entry: misses %v→%v, want one more", miss0, miss)
	}
	if status, _ := serveDirect(e, "/v1/agents/translator"); status != 404 {
		t.Errorf("removed entry: status %d, want 404", status)
	}
}

// TestSearchPageFollowsSnapshots checks that a cached page serves its own
// snapshot only: a new matching entry shows up on the next request.
func TestSearchPageFollowsSnapshots(t *testing.T) {
	entries := testEntries(t)
	e := newEnv(t, entries, nil)
	const target = "/v1/agents?skill=forecast"
	if _, body := serveDirect(e, target); body != pageBody(t, entries[2:], "") {
		t.Fatalf("first page: %s", body)
	}
	e.h.cache.wait()
	if _, body := serveDirect(e, target); body != pageBody(t, entries[2:], "") {
		t.Fatalf("cached page: %s", body)
	}
	if hit, _ := renderCounts(t, e, kindPage); hit != 1 {
		t.Errorf("page hits = %v, want 1", hit)
	}
	added := testEntry(t, "aurora", 10, "forecast", "sky", nil)
	e.replica.Apply([]*registry.Entry{added}, nil, nil)
	if _, body := serveDirect(e, target); body != pageBody(t, []*registry.Entry{added, entries[2]}, "") {
		t.Fatalf("page after update: %s", body)
	}
}

// TestSearchPageAssembly checks that pages assembled from cached entry
// bodies equal the JSON encoding of the page, over every page of a query
// on a generated registry.
func TestSearchPageAssembly(t *testing.T) {
	entries, err := loadtest.Entries(2000, 3)
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, entries, nil)
	ix := registry.NewIndex(entries...)
	q := registry.Query{Tags: []string{"tag-1"}, Limit: 3}
	for pages := 0; ; pages++ {
		want, err := ix.Search(q)
		if err != nil {
			t.Fatal(err)
		}
		target := "/v1/agents?" + q.Encode().Encode()
		if status, body := serveDirect(e, target); status != 200 || body != pageBody(t, want.Entries, want.NextCursor) {
			t.Fatalf("page %d (%s): %d\n%s\nwant\n%s", pages, target, status, body, pageBody(t, want.Entries, want.NextCursor))
		}
		if want.NextCursor == "" {
			if pages == 0 {
				t.Fatal("the query has a single page; the test needs several")
			}
			return
		}
		q.Cursor = want.NextCursor
	}
}

// TestRenderCacheKeys checks that a cached value counts only for its own
// kind, key and version.
func TestRenderCacheKeys(t *testing.T) {
	e := newEnv(t, testEntries(t), nil)
	rc := e.h.cache
	rc.set(&rendered{kind: kindEntry, key: "weather", version: 3, body: []byte("{}\n")})
	rc.set(&rendered{kind: kindPage, key: "skill=x", version: 7, body: []byte("{}\n")})
	rc.wait()
	cases := []struct {
		name    string
		kind    kind
		key     string
		version uint64
		want    bool
	}{
		{name: "same", kind: kindEntry, key: "weather", version: 3, want: true},
		{name: "other revision", kind: kindEntry, key: "weather", version: 4},
		{name: "other kind", kind: kindCard, key: "weather", version: 3},
		{name: "other key", kind: kindEntry, key: "weathe", version: 3},
		{name: "page", kind: kindPage, key: "skill=x", version: 7, want: true},
		{name: "page of another snapshot", kind: kindPage, key: "skill=x", version: 8},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := rc.get(c.kind, c.key, c.version) != nil; got != c.want {
				t.Errorf("get = %v, want %v", got, c.want)
			}
		})
	}
}

// TestTinyCacheStillAnswers checks that a cache that admits nothing only
// costs speed: every response is still right.
func TestTinyCacheStillAnswers(t *testing.T) {
	entries := testEntries(t)
	e := newEnv(t, entries, func(o *Options) { o.CacheMaxCostBytes = 1 })
	cl := e.serve(t)
	for range 3 {
		routeCase{target: "/v1/agents/weather", status: 200, body: entryBody(t, entries[2])}.run(t, e, cl)
		routeCase{target: "/v1/agents", status: 200, body: pageBody(t, entries, "")}.run(t, e, cl)
		e.h.cache.wait()
	}
}
