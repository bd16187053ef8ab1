package proxy

import (
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sidecard/sidecard/registry"
)

// TestRetryDeadEndpoint checks that requests whose endpoint refuses the
// connection go to the live one, whatever their method.
func TestRetryDeadEndpoint(t *testing.T) {
	live := newUpstream(t, nil)
	e := newEnv(t, []*registry.Entry{simpleEntry(t, "x", 1, deadURL(t), live.url)},
		func(o *Options) { o.Outlier.ConsecutiveErrors = 0 })
	for i := range 10 {
		method := []string{"POST", "GET"}[i%2]
		if r := e.do(t, method, "/a2a/x", `{"jsonrpc":"2.0"}`, nil); r.status != 200 {
			t.Fatalf("request %d (%s): %d %q", i, method, r.status, r.body)
		}
	}
	if n := live.hits(); n != 10 {
		t.Errorf("live endpoint got %d requests, want 10", n)
	}
	for _, s := range live.requests() {
		if s.Body != `{"jsonrpc":"2.0"}` {
			t.Errorf("a retried request arrived with body %q", s.Body)
		}
	}
	if v, _ := metricValue(t, e.reg, "sidecard_proxy_retries_total", map[string]string{"agent": "x"}); v < 1 || v > 10 {
		t.Errorf("retries = %v, want between 1 and 10 (round robin sends half to the dead one)", v)
	}
}

// TestRetryOnlyWhenSafe checks that a connection broken after the request
// was sent is retried for an idempotent method and not for POST.
func TestRetryOnlyWhenSafe(t *testing.T) {
	breaker := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		c, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			c.Close() // read the request, then hang up without a response
		}
	})
	live := newUpstream(t, nil)
	cases := []struct {
		method string
		status int
	}{
		{method: "GET", status: 200},
		{method: "PUT", status: 200},
		{method: "DELETE", status: 200},
		{method: "POST", status: 502},
		{method: "PATCH", status: 502},
	}
	for _, c := range cases {
		t.Run(c.method, func(t *testing.T) {
			// least_request with no load starts at the first endpoint, then
			// rotates: the first request of a fresh env goes to the breaker.
			e := newEnv(t, []*registry.Entry{simpleEntry(t, "x", 1, breaker.url, live.url)}, func(o *Options) {
				o.LBPolicy = LeastRequest
				o.Outlier.ConsecutiveErrors = 0
			})
			before := breaker.hits()
			r := e.do(t, c.method, "/a2a/x/item", "", nil)
			if breaker.hits() != before+1 {
				t.Fatalf("the breaker was not tried first")
			}
			if r.status != c.status {
				t.Errorf("%s: %d %q, want %d", c.method, r.status, r.body, c.status)
			}
			if c.status != 200 && errorCode(t, r.body) != codeBadGateway {
				t.Errorf("%s: body %q", c.method, r.body)
			}
		})
	}
}

// TestAllEndpointsDown checks the 503 when nothing can be reached, and
// when every endpoint is ejected.
func TestAllEndpointsDown(t *testing.T) {
	e := newEnv(t, []*registry.Entry{simpleEntry(t, "x", 1, deadURL(t), deadURL(t))},
		func(o *Options) { o.Outlier.ConsecutiveErrors = 1 })
	r := e.do(t, "POST", "/a2a/x", `{}`, nil)
	if r.status != 503 || errorCode(t, r.body) != codeUnavailable {
		t.Fatalf("reply = %d %q, want 503", r.status, r.body)
	}
	// Both endpoints failed once: both are ejected (all fail), so the next
	// request is refused without dialling.
	r = e.do(t, "GET", "/a2a/x", "", nil)
	if r.status != 503 || errorCode(t, r.body) != codeUnavailable || !strings.Contains(r.body, "ejected") {
		t.Fatalf("reply = %d %q, want 503 naming ejection", r.status, r.body)
	}
	if v, _ := metricValue(t, e.reg, "sidecard_proxy_ejections_total", map[string]string{"agent": "x"}); v != 2 {
		t.Errorf("ejections = %v, want 2", v)
	}
	if v, _ := metricValue(t, e.reg, "sidecard_proxy_requests_total", map[string]string{"agent": "x", "code_class": "5xx"}); v != 2 {
		t.Errorf("5xx requests = %v, want 2", v)
	}
}

// TestEjectionAndRecovery ejects an endpoint that answers 500, then lets
// it back once the ejection time has passed (on the injected clock).
func TestEjectionAndRecovery(t *testing.T) {
	var failing atomic.Bool
	failing.Store(true)
	flaky := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		if failing.Load() {
			http.Error(w, "boom", http.StatusInternalServerError)
			return
		}
		_, _ = w.Write([]byte("ok"))
	})
	healthy := newUpstream(t, nil)
	e := newEnv(t, []*registry.Entry{simpleEntry(t, "x", 1, flaky.url, healthy.url)}, func(o *Options) {
		o.Outlier = OutlierOptions{ConsecutiveErrors: 3, BaseEjection: 30 * time.Second, MaxEjection: time.Minute, MaxEjectionPercent: 50}
	})
	for i := 0; flaky.hits() < 3; i++ {
		if i == 10 {
			t.Fatal("round robin does not reach the flaky endpoint")
		}
		e.do(t, "GET", "/a2a/x", "", nil) // 5xx are passed on, never retried
	}
	if v, _ := metricValue(t, e.reg, "sidecard_proxy_ejections_total", map[string]string{"agent": "x"}); v != 1 {
		t.Fatalf("ejections = %v after 3 failures in a row, want 1", v)
	}
	for range 10 {
		if r := e.do(t, "GET", "/a2a/x", "", nil); r.status != 200 {
			t.Fatalf("while ejected: %d %q", r.status, r.body)
		}
	}
	if n := flaky.hits(); n != 3 {
		t.Fatalf("the ejected endpoint got %d requests, want 3", n)
	}
	failing.Store(false)
	e.clock.Advance(31 * time.Second)
	for range 4 {
		if r := e.do(t, "GET", "/a2a/x", "", nil); r.status != 200 {
			t.Fatalf("after recovery: %d %q", r.status, r.body)
		}
	}
	if n := flaky.hits(); n != 5 {
		t.Errorf("the recovered endpoint got %d requests in all, want 3 + 2 of 4", n)
	}
}

// TestConcurrencyLimit fills max_concurrent_per_agent with requests the
// agent holds, then checks the next one gets a 429.
func TestConcurrencyLimit(t *testing.T) {
	hold := make(chan struct{})
	arrived := make(chan struct{}, 2)
	agent := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			arrived <- struct{}{}
			<-hold
		}
		_, _ = w.Write([]byte("ok"))
	})
	e := newEnv(t, []*registry.Entry{simpleEntry(t, "x", 1, agent.url)}, func(o *Options) { o.MaxConcurrentPerAgent = 2 })
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			if r := e.do(t, "GET", "/a2a/x/slow", "", nil); r.status != 200 {
				t.Errorf("held request: %d %q", r.status, r.body)
			}
		})
	}
	<-arrived
	<-arrived
	r := e.do(t, "GET", "/a2a/x/fast", "", nil)
	if r.status != 429 || errorCode(t, r.body) != codeTooManyRequests || r.header.Get("Retry-After") != "1" {
		t.Errorf("third request: %d %v %q, want 429 with Retry-After", r.status, r.header, r.body)
	}
	if r := e.do(t, "GET", "/a2a/x/.well-known/agent-card.json", "", nil); r.status != 200 {
		t.Errorf("the card is served locally, outside the limit: %d", r.status)
	}
	close(hold)
	wg.Wait()
	if r := e.do(t, "GET", "/a2a/x/fast", "", nil); r.status != 200 {
		t.Errorf("after the held requests: %d %q", r.status, r.body)
	}
}

// TestRequestTimeout checks a 504 when the agent does not answer in time.
func TestRequestTimeout(t *testing.T) {
	hold := make(chan struct{})
	agent := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-hold:
		case <-r.Context().Done():
		}
	})
	defer close(hold)
	e := newEnv(t, []*registry.Entry{simpleEntry(t, "x", 1, agent.url)}, func(o *Options) { o.RequestTimeout = 200 * time.Millisecond })
	start := time.Now()
	r := e.do(t, "GET", "/a2a/x", "", nil)
	if r.status != 504 || errorCode(t, r.body) != codeGatewayTimeout {
		t.Errorf("reply = %d %q, want 504", r.status, r.body)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %v for a 200ms timeout", d)
	}
}

// TestSetOptions checks that new options apply to the next request and
// that invalid ones change nothing.
func TestSetOptions(t *testing.T) {
	agent := newUpstream(t, nil)
	e := newEnv(t, []*registry.Entry{simpleEntry(t, "x", 1, agent.url)}, nil)
	bad := e.p.Options()
	bad.LBPolicy = "random"
	if err := e.p.SetOptions(bad); err == nil || !strings.Contains(err.Error(), "lb_policy") {
		t.Fatalf("SetOptions(bad) = %v, want an error naming lb_policy", err)
	}
	if e.p.Options().LBPolicy != RoundRobin {
		t.Fatal("a refused SetOptions changed the options")
	}
	small := e.p.Options()
	small.MaxBodyBytes = 10
	if err := e.p.SetOptions(small); err != nil {
		t.Fatal(err)
	}
	if status, body := e.raw(t, "POST /a2a/x HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n"); status != 413 {
		t.Errorf("after lowering max_body_bytes: %d %q, want 413", status, body)
	}
}
