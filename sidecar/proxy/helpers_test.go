package proxy

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/sidecard/sidecard/cache"
	"github.com/sidecard/sidecard/registry"
	"github.com/sidecard/sidecard/sidecar/lookup"
)

// v03Card returns an A2A v0.3 card JSON whose url is url; extra is
// spliced into the object (",\"k\":v" form, may be empty).
func v03Card(name, url, extra string) string {
	return fmt.Sprintf(`{"protocolVersion":"0.3.0","name":%q,"description":"test agent","url":%q,`+
		`"version":"1.0.0","capabilities":{"streaming":true},"defaultInputModes":["text/plain"],`+
		`"defaultOutputModes":["text/plain"],"skills":[{"id":"s","name":"S","description":"d","tags":["t"]}]%s}`,
		name, url, extra)
}

// v10Card returns an A2A v1.0 card JSON with interfaces (a JSON array).
func v10Card(name, interfaces string) string {
	return fmt.Sprintf(`{"name":%q,"description":"test agent","version":"1.0.0",`+
		`"supportedInterfaces":%s,"capabilities":{"streaming":true},"defaultInputModes":["text/plain"],`+
		`"defaultOutputModes":["text/plain"],"skills":[{"id":"s","name":"S","description":"d","tags":["t"]}]}`,
		name, interfaces)
}

// entry returns a registry entry named name at revision rev with card
// (JSON) and endpoints (URL → weight; nil: the card's).
func entry(t testing.TB, name string, rev int64, card string, endpoints ...registry.Endpoint) *registry.Entry {
	t.Helper()
	eps, err := json.Marshal(endpoints)
	if err != nil {
		t.Fatal(err)
	}
	if len(endpoints) == 0 {
		eps = []byte("null")
	}
	e, err := registry.ParseEntry([]byte(fmt.Sprintf(`{"name":%q,"endpoints":%s,"card":%s}`, name, eps, card)), "")
	if err != nil {
		t.Fatalf("entry %q: %v", name, err)
	}
	e.Revision = rev
	return e
}

// ep is an endpoint of weight 1.
func ep(url string) registry.Endpoint { return registry.Endpoint{URL: url, Weight: 1} }

// simpleEntry is an entry named name whose endpoints are urls.
func simpleEntry(t testing.TB, name string, rev int64, urls ...string) *registry.Entry {
	t.Helper()
	eps := make([]registry.Endpoint, len(urls))
	for i, u := range urls {
		eps[i] = ep(u)
	}
	return entry(t, name, rev, v03Card(name, urls[0], ""), eps...)
}

// fakeClock is a settable clock for ejections and budgets.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// fakeStatus is the lookup handler's status source in tests.
type fakeStatus struct{}

func (fakeStatus) Status() lookup.Status { return lookup.Status{NodeID: "test"} }

// env is a proxy mounted on the lookup handler of a real fasthttp server
// on 127.0.0.1:0, as the sidecar composes them.
type env struct {
	p       *Proxy
	replica *cache.Replica
	reg     *prometheus.Registry
	clock   *fakeClock
	addr    string // the server's host:port
	base    string // "http://" + addr
	client  *http.Client
}

// newEnv serves entries with DefaultOptions edited by edit (may be nil).
// Everything is shut down when the test ends.
func newEnv(t testing.TB, entries []*registry.Entry, edit func(*Options)) *env {
	t.Helper()
	return newEnvTLS(t, entries, edit, nil)
}

// newEnvTLS is newEnv with a TLS configuration for https endpoints.
func newEnvTLS(t testing.TB, entries []*registry.Entry, edit func(*Options), tlsConfig *tls.Config) *env {
	t.Helper()
	r, err := cache.NewReplica(cache.ReplicaOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r.Replace(entries, nil)
	opts := DefaultOptions()
	if edit != nil {
		edit(&opts)
	}
	e := &env{replica: r, reg: prometheus.NewRegistry(), clock: newFakeClock()}
	if e.p, err = New(opts, Deps{Source: r, Registerer: e.reg, Now: e.clock.Now, TLSConfig: tlsConfig}); err != nil {
		t.Fatal(err)
	}
	h, err := lookup.New(lookup.Options{
		Source: r, Status: fakeStatus{}, Ready: func() bool { return true },
		Mounts: []lookup.Mount{{Prefix: Prefix, Route: "a2a", Handler: e.p.Serve}},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := lookup.NewServer(h, lookup.ServerOptions{})
	srv.HeaderReceived = e.p.RequestConfig
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e.addr = ln.Addr().String()
	e.base = "http://" + e.addr
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- e.p.Run(ctx) }()
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	e.client = &http.Client{Transport: tr, Timeout: 10 * time.Second}
	t.Cleanup(func() {
		tr.CloseIdleConnections()
		e.p.Close()
		if err := srv.Shutdown(); err != nil {
			t.Error(err)
		}
		ln.Close() // a Shutdown before Serve registered ln misses it
		if err := <-served; err != nil {
			t.Error(err)
		}
		cancel()
		if err := <-ran; err != nil {
			t.Error(err)
		}
		h.Close()
	})
	return e
}

// reply is what a test reads of a response.
type reply struct {
	status int
	header http.Header
	body   string
}

// do sends method path (with query) to the sidecar with body and headers.
func (e *env) do(t testing.TB, method, path, body string, headers map[string]string) reply {
	t.Helper()
	req, err := http.NewRequest(method, e.base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		if k == "Host" {
			req.Host = v
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

// raw sends request verbatim on a new connection to the sidecar and
// returns the status code and body of the response.
func (e *env) raw(t testing.TB, request string) (int, string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", e.addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(c, request); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("read response to %q: %v", request, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp.StatusCode, string(body)
}

// errorCode decodes a §4 error body and returns its code, failing the
// test when body is not one.
func errorCode(t testing.TB, body string) string {
	t.Helper()
	var eb struct {
		Error *struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	dec := json.NewDecoder(strings.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&eb); err != nil || eb.Error == nil || eb.Error.Code == "" || eb.Error.Message == "" {
		t.Fatalf("not a §4 error body (%v): %q", err, body)
	}
	return eb.Error.Code
}

// seen is one request an upstream agent received.
type seen struct {
	Method, URI, Host, Body string
	Header                  http.Header
}

// upstream is a real HTTP agent on 127.0.0.1:0 that records what it
// receives and counts the connections opened to it.
type upstream struct {
	srv   *httptest.Server
	url   string
	conns atomic.Int64
	mu    sync.Mutex
	seen  []seen
}

// newUpstream starts an agent answering with handler (nil: 200 with a
// small JSON body) after recording each request; the handler can read the
// body again.
func newUpstream(t testing.TB, handler http.HandlerFunc) *upstream {
	t.Helper()
	if handler == nil {
		handler = func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"ok":true}`)
		}
	}
	u := &upstream{}
	u.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		u.mu.Lock()
		u.seen = append(u.seen, seen{Method: r.Method, URI: r.RequestURI, Host: r.Host, Body: string(body), Header: r.Header.Clone()})
		u.mu.Unlock()
		r.Body = io.NopCloser(strings.NewReader(string(body)))
		handler(w, r)
	}))
	u.srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			u.conns.Add(1)
		}
	}
	u.srv.Start()
	u.url = u.srv.URL
	t.Cleanup(u.srv.Close)
	return u
}

// requests returns a copy of what u has received.
func (u *upstream) requests() []seen {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]seen(nil), u.seen...)
}

// hits returns the number of requests u has received.
func (u *upstream) hits() int { return len(u.requests()) }

// deadURL returns an http URL of a port on 127.0.0.1 nothing listens on.
func deadURL(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr
}

// eventually polls cond until it holds or 5 s pass.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// metricValue returns the value of the metric name with labels in reg,
// and whether it exists.
func metricValue(t testing.TB, reg prometheus.Gatherer, name string, labels map[string]string) (float64, bool) {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if hasLabels(m, labels) {
				switch {
				case m.Counter != nil:
					return m.GetCounter().GetValue(), true
				case m.Gauge != nil:
					return m.GetGauge().GetValue(), true
				case m.Histogram != nil:
					return float64(m.GetHistogram().GetSampleCount()), true
				}
			}
		}
	}
	return 0, false
}

func hasLabels(m *dto.Metric, labels map[string]string) bool {
	n := 0
	for _, lp := range m.GetLabel() {
		if v, ok := labels[lp.GetName()]; ok {
			if v != lp.GetValue() {
				return false
			}
			n++
		}
	}
	return n == len(labels)
}
