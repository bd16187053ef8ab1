package lookup

import "testing"

// TestRequestMetrics checks the request counters and histograms by route
// and code class.
func TestRequestMetrics(t *testing.T) {
	e := newEnv(t, testEntries(t), nil)
	cl := e.serve(t)
	requests := []struct {
		method, target string
		headers        map[string]string
	}{
		{"GET", "/v1/agents/weather", nil},
		{"GET", "/v1/agents/weather", map[string]string{"If-None-Match": `"3"`}},
		{"GET", "/v1/agents/nobody", nil},
		{"POST", "/v1/agents/weather", nil},
		{"GET", "/v1/agents/weather/card", nil},
		{"GET", "/v1/agents?skill=forecast", nil},
		{"GET", "/v1/agents?bad=1", nil},
		{"GET", "/nowhere", nil},
		{"GET", "/healthz", nil},
	}
	for _, r := range requests {
		cl.do(t, r.method, r.target, r.headers)
	}
	e.ready.Store(false)
	cl.do(t, "GET", "/readyz", nil)

	cases := []struct {
		route, class string
		want         float64
	}{
		{"entry", "2xx", 1}, {"entry", "3xx", 1}, {"entry", "4xx", 2}, {"entry", "5xx", 0},
		{"card", "2xx", 1}, {"search", "2xx", 1}, {"search", "4xx", 1},
		{"unknown", "4xx", 1}, {"healthz", "2xx", 1}, {"readyz", "5xx", 1}, {"status", "2xx", 0},
	}
	for _, c := range cases {
		t.Run(c.route+" "+c.class, func(t *testing.T) {
			labels := map[string]string{"route": c.route, "code_class": c.class}
			if got := counterValue(t, e.reg, "sidecard_sidecar_http_requests_total", labels); got != c.want {
				t.Errorf("requests = %v, want %v", got, c.want)
			}
		})
	}
	if got := counterValue(t, e.reg, "sidecard_sidecar_http_request_duration_seconds", map[string]string{"route": "entry"}); got != 4 {
		t.Errorf("entry durations observed = %v, want 4", got)
	}
}

// TestRistrettoMetrics checks that ristretto's own statistics are exported.
func TestRistrettoMetrics(t *testing.T) {
	const maxCost = 1 << 20
	e := newEnv(t, testEntries(t), func(o *Options) { o.CacheMaxCostBytes = maxCost })
	serveDirect(e, "/v1/agents/weather")
	e.h.cache.wait()
	serveDirect(e, "/v1/agents/weather")
	cases := []struct {
		name string
		want func(float64) bool
	}{
		{"sidecard_cache_rendered_hits_total", func(v float64) bool { return v == 1 }},
		{"sidecard_cache_rendered_misses_total", func(v float64) bool { return v == 1 }},
		{"sidecard_cache_rendered_keys_added_total", func(v float64) bool { return v == 1 }},
		{"sidecard_cache_rendered_added_bytes_total", func(v float64) bool { return v > renderedOverhead }},
		{"sidecard_cache_rendered_bytes", func(v float64) bool { return v > renderedOverhead }},
		{"sidecard_cache_rendered_max_bytes", func(v float64) bool { return v == maxCost }},
		{"sidecard_cache_rendered_keys_evicted_total", func(v float64) bool { return v == 0 }},
		{"sidecard_cache_rendered_sets_rejected_total", func(v float64) bool { return v == 0 }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := counterValue(t, e.reg, c.name, map[string]string{}); !c.want(got) {
				t.Errorf("%s = %v", c.name, got)
			}
		})
	}
	hit, miss := renderCounts(t, e, kindEntry)
	if hit != 1 || miss != 1 {
		t.Errorf("render cache lookups: %v hits, %v misses; want 1 and 1", hit, miss)
	}
}

// SetCacheMaxCost changes the bound of the rendered-response cache, as its
// max-bytes gauge shows; 0 restores the default and a negative bound is
// refused.
func TestSetCacheMaxCost(t *testing.T) {
	e := newEnv(t, testEntries(t), func(o *Options) { o.CacheMaxCostBytes = 1 << 20 })
	gauge := func() float64 { return counterValue(t, e.reg, "sidecard_cache_rendered_max_bytes", nil) }
	if got := gauge(); got != 1<<20 {
		t.Fatalf("max bytes at start = %v, want %v", got, 1<<20)
	}
	steps := []struct {
		name string
		n    int64
		want float64
		err  bool
	}{
		{name: "grow", n: 8 << 20, want: 8 << 20},
		{name: "shrink", n: 4096, want: 4096},
		{name: "negative refused", n: -1, want: 4096, err: true},
		{name: "zero is the default", n: 0, want: DefaultCacheMaxCostBytes},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			if err := e.h.SetCacheMaxCost(s.n); (err != nil) != s.err {
				t.Fatalf("SetCacheMaxCost(%d) = %v, want error %v", s.n, err, s.err)
			}
			if got := gauge(); got != s.want {
				t.Errorf("max bytes = %v, want %v", got, s.want)
			}
		})
	}
}
