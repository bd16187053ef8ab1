package lookup

import (
	"fmt"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/sidecard/sidecard/registry"
	"github.com/sidecard/sidecard/sidecar/lookup/loadtest"
)

// benchEntries is the size of the benchmark registry.
const benchEntries = 10_000

// benchEnv returns an env on the loadtest registry of 10k entries; edit
// adjusts the options as in newEnv.
func benchEnv(b *testing.B, edit func(*Options)) (*env, []*registry.Entry) {
	b.Helper()
	entries, err := loadtest.Entries(benchEntries, 1)
	if err != nil {
		b.Fatal(err)
	}
	return newEnv(b, entries, edit), entries
}

// serveLoop serves ctx b.N times and checks the last status.
func serveLoop(b *testing.B, h *Handler, ctx *fasthttp.RequestCtx, want int) {
	b.Helper()
	b.ReportAllocs()
	for b.Loop() {
		ctx.Response.Reset()
		h.Serve(ctx)
	}
	if got := ctx.Response.StatusCode(); got != want {
		b.Fatalf("status %d, want %d", got, want)
	}
	b.SetBytes(int64(len(ctx.Response.Body())))
}

// BenchmarkGetEntry is the cache-hit path of GET /v1/agents/{name}.
func BenchmarkGetEntry(b *testing.B) {
	e, _ := benchEnv(b, nil)
	ctx := requestCtx("GET", "/v1/agents/"+loadtest.Name(4242), nil)
	warm(b, e.h, ctx, 200)
	serveLoop(b, e.h, ctx, 200)
}

// BenchmarkGetEntryNotModified is a cache hit answered 304.
func BenchmarkGetEntryNotModified(b *testing.B) {
	e, entries := benchEnv(b, nil)
	ctx := requestCtx("GET", "/v1/agents/"+loadtest.Name(4242),
		map[string]string{"If-None-Match": fmt.Sprintf(`"%d"`, entries[4242].Revision)})
	warm(b, e.h, ctx, 304)
	serveLoop(b, e.h, ctx, 304)
}

// BenchmarkGetEntryMiss renders the entry on every request: the cache is
// too small to admit anything.
func BenchmarkGetEntryMiss(b *testing.B) {
	e, _ := benchEnv(b, func(o *Options) { o.CacheMaxCostBytes = 1 })
	ctx := requestCtx("GET", "/v1/agents/"+loadtest.Name(4242), nil)
	serveLoop(b, e.h, ctx, 200)
}

// BenchmarkSearchSkill is a cached search page: a skill filter over 10k
// entries.
func BenchmarkSearchSkill(b *testing.B) {
	e, _ := benchEnv(b, nil)
	ctx := requestCtx("GET", "/v1/agents?skill=skill-7", nil)
	warm(b, e.h, ctx, 200)
	serveLoop(b, e.h, ctx, 200)
}

// BenchmarkSearchSkillPageMiss re-assembles the page on every request
// from cached entry bodies, as after each replica update: each iteration
// forgets the snapshot's sequence number, as a new snapshot would.
func BenchmarkSearchSkillPageMiss(b *testing.B) {
	e, _ := benchEnv(b, nil)
	ctx := requestCtx("GET", "/v1/agents?skill=skill-7", nil)
	warm(b, e.h, ctx, 200)
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		e.h.gen.Store(&generation{})
		ctx.Response.Reset()
		e.h.Serve(ctx)
		n++
	}
	if ctx.Response.StatusCode() != 200 {
		b.Fatal(ctx.Response.StatusCode())
	}
	labels := map[string]string{"kind": "search", "result": "miss"}
	if misses := counterValue(b, e.reg, "sidecard_sidecar_render_cache_lookups_total", labels); misses < float64(n) {
		b.Fatalf("%v page misses in %d requests", misses, n)
	}
}

// BenchmarkSearchSkillMiss searches and renders every entry of the page on
// every request: the cache is too small to admit anything.
func BenchmarkSearchSkillMiss(b *testing.B) {
	e, _ := benchEnv(b, func(o *Options) { o.CacheMaxCostBytes = 1 })
	ctx := requestCtx("GET", "/v1/agents?skill=skill-7", nil)
	serveLoop(b, e.h, ctx, 200)
}
