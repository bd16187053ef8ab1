package lookup

import (
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttputil"

	"github.com/sidecard/sidecard/cache"
	"github.com/sidecard/sidecard/registry"
)

// testEntry returns a valid entry named name at revision rev with one
// skill and tag, and labels, parsed from its API form.
func testEntry(t testing.TB, name string, rev int64, skill, tag string, labels map[string]string) *registry.Entry {
	t.Helper()
	lb, err := json.Marshal(labels)
	if err != nil {
		t.Fatal(err)
	}
	raw := fmt.Sprintf(`{
	  "name": %q,
	  "labels": %s,
	  "card": {
	    "protocolVersion": "0.3.0", "name": %q, "description": "Agent <%s> & friends",
	    "url": "http://10.0.0.7:9001", "version": "1.0.0", "capabilities": {},
	    "defaultInputModes": ["text/plain"], "defaultOutputModes": ["text/plain"],
	    "skills": [{"id": %q, "name": %q, "description": "Does %s", "tags": [%q]}]
	  }
	}`, name, lb, name, name, skill, skill, skill, tag)
	e, err := registry.ParseEntry([]byte(raw), "")
	if err != nil {
		t.Fatalf("test entry %q: %v", name, err)
	}
	e.Revision = rev
	e.UpdatedAt = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	e.Source = registry.SourceAPI
	return e
}

// testEntries are the registry of most tests: three agents, in name order.
func testEntries(t testing.TB) []*registry.Entry {
	return []*registry.Entry{
		testEntry(t, "currency", 1, "convert", "money", map[string]string{"team": "finance"}),
		testEntry(t, "translator", 2, "translate", "language", map[string]string{"team": "lang"}),
		testEntry(t, "weather", 3, "forecast", "weather", map[string]string{"team": "forecast", "zone": "eu-1"}),
	}
}

// fakeStatus is a fixed StatusSource.
type fakeStatus struct{ s Status }

func (f fakeStatus) Status() Status { return f.s }

// testStatus is the status fakeStatus reports in tests.
var testStatus = Status{
	NodeID: "host-a", Connected: false, ControlPlane: "127.0.0.1:18000", Revision: 3, Agents: 3,
	LastUpdate: time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC), StaleSeconds: 42,
	Config: ConfigStatus{Generation: 2, LoadedAt: time.Date(2026, 11, 22, 11, 0, 0, 0, time.UTC), LastError: "bad key"},
}

// env is a Handler on a replica, with switches for readiness and staleness.
type env struct {
	h       *Handler
	replica *cache.Replica
	reg     *prometheus.Registry
	ready   atomic.Bool
	stale   atomic.Int64 // seconds; < 0 while connected
}

// newEnv returns an env holding entries, ready and not stale. edit, when
// not nil, adjusts the options before New.
func newEnv(t testing.TB, entries []*registry.Entry, edit func(*Options)) *env {
	t.Helper()
	r, err := cache.NewReplica(cache.ReplicaOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r.Replace(entries, nil)
	e := &env{replica: r, reg: prometheus.NewRegistry()}
	e.ready.Store(true)
	e.stale.Store(-1)
	opts := Options{
		Source:     r,
		Status:     fakeStatus{testStatus},
		Ready:      e.ready.Load,
		Stale:      func() (bool, int64) { s := e.stale.Load(); return s >= 0, s },
		Gatherer:   e.reg,
		Registerer: e.reg,
	}
	if edit != nil {
		edit(&opts)
	}
	if e.h, err = New(opts); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.h.Close)
	return e
}

// response is what a test reads of an HTTP response.
type response struct {
	status int
	header map[string]string // canonical name → value
	body   string
}

// client talks to a real fasthttp server (NewServer) over an in-memory
// listener.
type client struct{ c *fasthttp.Client }

// serve starts a server for e.h and returns a client of it; the server is
// shut down, before the handler is closed, when the test ends.
func (e *env) serve(t testing.TB) *client {
	t.Helper()
	ln := fasthttputil.NewInmemoryListener()
	srv := NewServer(e.h, ServerOptions{})
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		if err := srv.Shutdown(); err != nil {
			t.Error(err)
		}
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return &client{c: &fasthttp.Client{Dial: func(string) (net.Conn, error) { return ln.Dial() }}}
}

// do sends method target (path and query) with headers and returns the
// response.
func (c *client) do(t testing.TB, method, target string, headers map[string]string) response {
	t.Helper()
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.Header.SetMethod(method)
	req.SetRequestURI("http://sidecar" + target)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	if err := c.c.DoTimeout(req, resp, 5*time.Second); err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	out := response{status: resp.StatusCode(), header: map[string]string{}, body: string(resp.Body())}
	for k, v := range resp.Header.All() {
		out.header[string(k)] = string(v)
	}
	return out
}

// entryBody returns the expected body of GET /v1/agents/{e.Name}.
func entryBody(t testing.TB, e *registry.Entry) string {
	t.Helper()
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	return string(b) + "\n"
}

// pageBody returns the expected body of a search page.
func pageBody(t testing.TB, entries []*registry.Entry, cursor string) string {
	t.Helper()
	page := struct {
		Agents     []*registry.Entry `json:"agents"`
		NextCursor string            `json:"next_cursor,omitempty"`
	}{Agents: entries, NextCursor: cursor}
	if page.Agents == nil {
		page.Agents = []*registry.Entry{}
	}
	b, err := json.Marshal(page)
	if err != nil {
		t.Fatal(err)
	}
	return string(b) + "\n"
}

// errorOf decodes a §4 error body, failing the test when body is not one.
func errorOf(t testing.TB, body string) registry.ErrorDetail {
	t.Helper()
	var eb struct {
		Error *registry.ErrorDetail `json:"error"`
	}
	dec := json.NewDecoder(strings.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&eb); err != nil || eb.Error == nil || eb.Error.Code == "" || eb.Error.Message == "" {
		t.Fatalf("not a §4 error body (%v): %q", err, body)
	}
	return *eb.Error
}

// counterValue returns the value of counter name with labels in reg, -1
// when absent.
func counterValue(t testing.TB, reg prometheus.Gatherer, name string, labels map[string]string) float64 {
	t.Helper()
	m := findMetric(t, reg, name, labels)
	switch {
	case m == nil:
		return -1
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Histogram != nil:
		return float64(m.Histogram.GetSampleCount())
	}
	return -1
}

// findMetric returns the metric name with exactly labels in reg, or nil.
func findMetric(t testing.TB, reg prometheus.Gatherer, name string, labels map[string]string) *dto.Metric {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metrics:
		for _, m := range mf.GetMetric() {
			if len(m.GetLabel()) != len(labels) {
				continue
			}
			for _, lp := range m.GetLabel() {
				if labels[lp.GetName()] != lp.GetValue() {
					continue metrics
				}
			}
			return m
		}
	}
	return nil
}

// nextCursor returns the next_cursor of q's first page over entries.
func nextCursor(t testing.TB, entries []*registry.Entry, q registry.Query) string {
	t.Helper()
	page, err := registry.NewIndex(entries...).Search(q)
	if err != nil || page.NextCursor == "" {
		t.Fatalf("no next cursor for %+v: %v", q, err)
	}
	return page.NextCursor
}
