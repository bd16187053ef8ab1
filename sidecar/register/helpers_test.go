package register_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/valyala/fasthttp"

	"github.com/sidecard/sidecard/registry"
)

// waitFor polls cond until it holds, failing the test after 5 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}

// fakeClock is a Clock that moves only when told to. Calls counts the
// After calls, so that a test can wait for a loop to come round again.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []fakeWaiter
	calls   int
	waits   []time.Duration // every d given to After
	// instant makes every After fire at once (the time does not move).
	instant bool
}

type fakeWaiter struct {
	at time.Time
	ch chan time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls++
	c.waits = append(c.waits, d)
	ch := make(chan time.Time, 1)
	if d <= 0 || c.instant {
		ch <- c.now
		return ch
	}
	c.waiters = append(c.waiters, fakeWaiter{at: c.now.Add(d), ch: ch})
	return ch
}

// Advance moves the clock by d and fires the waiters that are due.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if w.at.After(c.now) {
			kept = append(kept, w)
			continue
		}
		w.ch <- c.now
	}
	c.waiters = kept
}

// Calls returns the number of After calls so far.
func (c *fakeClock) Calls() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls
}

// Waits returns the durations given to After.
func (c *fakeClock) Waits() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.waits...)
}

// fakeCP is a control plane's HTTP API in memory: PUT, GET and DELETE
// /v1/agents/{name} and POST /v1/agents/{name}/heartbeat, with leases that
// never expire by themselves (a test drops them with expire).
type fakeCP struct {
	t   *testing.T
	srv *httptest.Server
	// failWith, when non-zero, answers every request with that status.
	failWith atomic.Int32

	mu       sync.Mutex
	entries  map[string]*registry.Entry
	rev      int64
	requests []string      // "METHOD path"
	headers  []http.Header // of each request
}

func newFakeCP(t *testing.T) *fakeCP {
	f := &fakeCP{t: t, entries: map[string]*registry.Entry{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// addr is the host:port of the fake.
func (f *fakeCP) addr() string { return strings.TrimPrefix(f.srv.URL, "http://") }

func (f *fakeCP) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, r.Method+" "+r.URL.Path)
	f.headers = append(f.headers, r.Header.Clone())
	if s := f.failWith.Load(); s != 0 {
		codes := map[int32]string{400: "invalid_argument", 401: "unauthenticated", 403: "permission_denied",
			409: "conflict", 503: "unavailable"}
		f.fail(w, int(s), codes[s], "failing on purpose", "")
		return
	}
	rest := strings.TrimPrefix(r.URL.Path, "/v1/agents/")
	name, sub, _ := strings.Cut(rest, "/")
	e := f.entries[name]
	switch {
	case r.Method == http.MethodPut && sub == "":
		body, _ := io.ReadAll(r.Body)
		parsed, err := registry.ParseEntry(body, name)
		if err != nil {
			fe, _ := registry.AsFieldError(err)
			f.fail(w, 400, "invalid_argument", err.Error(), fe.Field)
			return
		}
		if im := r.Header.Get("If-Match"); im != "" && (e == nil || im != `"`+strconv.FormatInt(e.Revision, 10)+`"`) {
			f.fail(w, 412, "failed_precondition", "revision changed", "")
			return
		}
		f.rev++
		parsed.Revision, parsed.Source = f.rev, registry.SourceAPI
		f.entries[name] = parsed
		status := 200
		if e == nil {
			status = 201
		}
		f.write(w, status, parsed)
	case r.Method == http.MethodGet && sub == "" && e != nil:
		f.write(w, 200, e)
	case r.Method == http.MethodDelete && sub == "" && e != nil:
		delete(f.entries, name)
		f.rev++
		w.WriteHeader(204)
	case r.Method == http.MethodPost && sub == "heartbeat" && e != nil && e.TTLSeconds == 0:
		f.fail(w, 409, "conflict", "no lease", "")
	case r.Method == http.MethodPost && sub == "heartbeat" && e != nil:
		f.write(w, 200, map[string]any{"name": name, "ttl_seconds": e.TTLSeconds,
			"expires_at": time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)})
	default:
		f.fail(w, 404, "not_found", fmt.Sprintf("entry %q not found", name), "")
	}
}

func (f *fakeCP) write(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		f.t.Errorf("fake control plane: %v", err)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func (f *fakeCP) fail(w http.ResponseWriter, status int, code, msg, field string) {
	f.write(w, status, map[string]any{"error": map[string]string{"code": code, "message": msg, "field": field}})
}

// entry returns the stored entry named name, or nil.
func (f *fakeCP) entry(name string) *registry.Entry {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.entries[name]
}

// expire drops the entry named name, as an expired lease.
func (f *fakeCP) expire(name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.entries, name)
}

// count returns how many requests were "METHOD path".
func (f *fakeCP) count(req string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, r := range f.requests {
		if r == req {
			n++
		}
	}
	return n
}

// lastHeader returns the headers of the last request.
func (f *fakeCP) lastHeader() http.Header {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.headers[len(f.headers)-1]
}

// fakeAgent serves an agent card while up, 503 otherwise.
type fakeAgent struct {
	srv  *httptest.Server
	up   atomic.Bool
	hits atomic.Int64
}

func newFakeAgent(t *testing.T) *fakeAgent {
	a := &fakeAgent{}
	a.up.Store(true)
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.hits.Add(1)
		if !a.up.Load() || r.URL.Path != "/.well-known/agent-card.json" {
			w.WriteHeader(503)
			return
		}
		_, _ = w.Write([]byte(cardJSON("Echo", "http://"+r.Host+"/")))
	}))
	t.Cleanup(a.srv.Close)
	return a
}

// cardJSON is a complete v0.3 card named name at url.
func cardJSON(name, url string) string {
	return fmt.Sprintf(`{"protocolVersion":"0.3.0","name":%q,"description":"echoes","url":%q,"version":"1",
"capabilities":{},"defaultInputModes":["text/plain"],"defaultOutputModes":["text/plain"],
"skills":[{"id":"echo","name":"Echo","description":"echoes","tags":["demo"]}]}`, name, url)
}

// request builds a fasthttp request context.
func request(method, uri, contentType, body string) *fasthttp.RequestCtx {
	var ctx fasthttp.RequestCtx
	ctx.Request.Header.SetMethod(method)
	ctx.Request.SetRequestURI(uri)
	if contentType != "" {
		ctx.Request.Header.SetContentType(contentType)
	}
	ctx.Request.SetBodyString(body)
	return &ctx
}

// errorCode returns the §4 error code and field of a response body.
func errorCode(t *testing.T, body []byte) (code, field string) {
	t.Helper()
	var b struct {
		Error struct{ Code, Field string } `json:"error"`
	}
	if err := json.Unmarshal(body, &b); err != nil {
		t.Fatalf("error body %q: %v", body, err)
	}
	return b.Error.Code, b.Error.Field
}

// metricValue returns the value of the counter or gauge name whose labels
// include labels; it fails the test when there is none.
func metricValue(t *testing.T, g prometheus.Gatherer, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			got := map[string]string{}
			for _, l := range m.GetLabel() {
				got[l.GetName()] = l.GetValue()
			}
			for k, v := range labels {
				if got[k] != v {
					continue next
				}
			}
			if m.GetCounter() != nil {
				return m.GetCounter().GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	t.Fatalf("no metric %s%v", name, labels)
	return 0
}
