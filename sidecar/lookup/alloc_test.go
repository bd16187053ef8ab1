package lookup

import (
	"testing"

	"github.com/valyala/fasthttp"
)

// requestCtx returns a reusable ctx holding a GET of target with headers.
func requestCtx(method, target string, headers map[string]string) *fasthttp.RequestCtx {
	ctx := &fasthttp.RequestCtx{}
	ctx.Request.Header.SetMethod(method)
	ctx.Request.SetRequestURI(target)
	for k, v := range headers {
		ctx.Request.Header.Set(k, v)
	}
	return ctx
}

// warm serves ctx once (rendering and caching) and waits for the cache to
// apply the set, so that the next request hits.
func warm(tb testing.TB, h *Handler, ctx *fasthttp.RequestCtx, want int) {
	tb.Helper()
	h.Serve(ctx)
	if got := ctx.Response.StatusCode(); got != want {
		tb.Fatalf("warm-up: status %d, want %d: %s", got, want, ctx.Response.Body())
	}
	h.cache.wait()
	ctx.Response.Reset()
}

// TestGetEntryAllocs enforces the allocation budget of the cache-hit path
// of the entry and card routes: nothing, ETag, If-None-Match, the stale
// header and the metrics included.
func TestGetEntryAllocs(t *testing.T) {
	cases := []struct {
		name    string
		target  string
		headers map[string]string
		stale   int64
		status  int
	}{
		{name: "entry", target: "/v1/agents/weather", stale: -1, status: 200},
		{name: "entry not modified", target: "/v1/agents/weather", headers: map[string]string{"If-None-Match": `W/"1", "3"`},
			stale: -1, status: 304},
		{name: "entry while stale", target: "/v1/agents/weather", stale: 1234, status: 200},
		{name: "entry other tag", target: "/v1/agents/weather", headers: map[string]string{"If-None-Match": `"2"`},
			stale: -1, status: 200},
		{name: "card", target: "/v1/agents/weather/card", stale: -1, status: 200},
		{name: "card not modified while stale", target: "/v1/agents/weather/card",
			headers: map[string]string{"If-None-Match": `"3"`}, stale: 5, status: 304},
	}
	e := newEnv(t, testEntries(t), nil)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e.stale.Store(c.stale)
			ctx := requestCtx("GET", c.target, c.headers)
			warm(t, e.h, ctx, c.status)
			allocs := testing.AllocsPerRun(1000, func() {
				ctx.Response.Reset()
				e.h.Serve(ctx)
			})
			if got := ctx.Response.StatusCode(); got != c.status {
				t.Fatalf("status %d, want %d", got, c.status)
			}
			if allocs != 0 {
				t.Errorf("%v allocations per request, want 0", allocs)
			}
		})
	}
}
