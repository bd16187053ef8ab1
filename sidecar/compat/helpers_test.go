package compat_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/valyala/fasthttp"

	"github.com/sidecard/sidecard/cache"
	"github.com/sidecard/sidecard/registry"
	"github.com/sidecard/sidecard/sidecar/compat"
	"github.com/sidecard/sidecard/sidecar/register"
)

// Cards of the tests: A2A Registry's load-test card (snake_case,
// incomplete) and a complete camelCase card.
const (
	loadTestCard = `{"name": "Test Agent", "description": "A test agent", "url": "http://localhost:8080",
		"version": "1.0.0", "protocol_version": "0.3.0", "skills": [{"id": "test", "description": "Test skill"}]}`
	weatherCard = `{"protocolVersion":"0.3.0","name":"Weather","description":"Forecasts","url":"http://weather.internal:9001",
		"version":"2.0.0","capabilities":{"streaming":true},"defaultInputModes":["text/plain"],
		"defaultOutputModes":["application/json"],"skills":[{"id":"forecast","name":"Forecast",
		"description":"Forecasts the weather","tags":["weather"]}]}`
)

// fakeWriter is the control plane's write API in memory: it stores
// entries, honours If-Match and, when propagate is set, applies each write
// to the replica as the xDS stream would.
type fakeWriter struct {
	mu        sync.Mutex
	entries   map[string]*registry.Entry
	rev       int64
	replica   *cache.Replica
	propagate bool
	// err, when set, fails every call.
	err error
	// raceOnce makes the next conditional Put fail with a 412 after
	// changing the entry, as a concurrent writer would.
	raceOnce bool
	puts     int
}

func newFakeWriter(replica *cache.Replica) *fakeWriter {
	return &fakeWriter{entries: map[string]*registry.Entry{}, replica: replica, propagate: true}
}

func (w *fakeWriter) Get(_ context.Context, name string) (*registry.Entry, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return nil, w.err
	}
	e, ok := w.entries[name]
	if !ok {
		return nil, &register.APIError{Status: 404, Code: "not_found", Message: "not found"}
	}
	return e, nil
}

func (w *fakeWriter) Put(_ context.Context, e *registry.Entry, ifMatch int64) (*register.Stored, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.puts++
	if w.err != nil {
		return nil, w.err
	}
	old, ok := w.entries[e.Name]
	if ifMatch > 0 && w.raceOnce {
		w.raceOnce = false
		w.store(old.Clone(), old.Source)
		return nil, &register.APIError{Status: 412, Code: "failed_precondition", Message: "changed"}
	}
	if ifMatch > 0 && (!ok || old.Revision != ifMatch) {
		return nil, &register.APIError{Status: 412, Code: "failed_precondition", Message: "changed"}
	}
	stored := w.store(e.Clone(), registry.SourceAPI)
	body, _ := json.Marshal(stored)
	return &register.Stored{Entry: stored, JSON: body, Created: !ok}, nil
}

// store stores e as source at the next revision; w.mu is held.
func (w *fakeWriter) store(e *registry.Entry, source string) *registry.Entry {
	w.rev++
	e.Revision, e.Source = w.rev, source
	w.entries[e.Name] = e
	if w.propagate {
		w.replica.Apply([]*registry.Entry{e}, nil, nil)
	}
	return e
}

func (w *fakeWriter) Delete(_ context.Context, name string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	e, ok := w.entries[name]
	switch {
	case !ok:
		return &register.APIError{Status: 404, Code: "not_found", Message: "not found"}
	case e.Source != registry.SourceAPI:
		return &register.APIError{Status: 409, Code: "conflict", Message: "owned by a file"}
	}
	delete(w.entries, name)
	if w.propagate {
		w.replica.Apply(nil, nil, []string{name})
	}
	return nil
}

// putFile stores a card as an entry of a registry file.
func (w *fakeWriter) putFile(t *testing.T, name, card string) {
	t.Helper()
	c, err := registry.ParseCard([]byte(card))
	if err != nil {
		t.Fatal(err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.store(&registry.Entry{Name: name, Card: c, Endpoints: c.DefaultEndpoints()}, registry.SourceFile)
}

// env is the sidecar compat API over a replica and a fakeWriter, served by
// a fasthttp server on loopback with the Handler's hooks.
type env struct {
	t       *testing.T
	replica *cache.Replica
	writer  *fakeWriter
	handler *compat.Handler
	metrics *prometheus.Registry
	base    string
	client  *http.Client
}

func newEnv(t *testing.T, edit func(*compat.Options)) *env {
	t.Helper()
	replica, err := cache.NewReplica(cache.ReplicaOptions{})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, replica: replica, writer: newFakeWriter(replica), metrics: prometheus.NewRegistry()}
	reg, err := compat.NewReplicaRegistry(replica, e.writer, 50*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	opts := compat.Options{Registry: reg, Registerer: e.metrics}
	if edit != nil {
		edit(&opts)
	}
	if e.handler, err = compat.New(opts); err != nil {
		t.Fatal(err)
	}
	srv := &fasthttp.Server{
		Handler: e.handler.Serve, MaxRequestBodySize: 4 << 10, Logger: quiet{},
		HeaderReceived: e.handler.RequestConfig(nil),
		ErrorHandler: e.handler.ErrorHandler(func(ctx *fasthttp.RequestCtx, err error) {
			ctx.SetStatusCode(599) // the server's own answer: not the API's
		}),
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	tr := &http.Transport{}
	e.client = &http.Client{Transport: tr, Timeout: 5 * time.Second}
	e.base = "http://" + ln.Addr().String()
	t.Cleanup(func() {
		tr.CloseIdleConnections()
		if err := srv.Shutdown(); err != nil {
			t.Error(err)
		}
		ln.Close()
		if err := <-served; err != nil {
			t.Error(err)
		}
	})
	return e
}

// response is what a test reads of an answer.
type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request with a JSON body (none when body is "") and extra
// headers as key, value pairs.
func (e *env) do(method, path, body string, header ...string) response {
	e.t.Helper()
	req, err := http.NewRequest(method, e.base+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Errorf("%s %s: %v", method, path, err)
		return response{}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

// rpc posts a JSON-RPC body.
func (e *env) rpc(body string) response { return e.do("POST", "/jsonrpc", body) }

// wantJSONEqual fails unless got and want are the same JSON value.
func wantJSONEqual(t *testing.T, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("response is not JSON: %v\n%s", err, got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad test: want is not JSON: %v\n%s", err, want)
	}
	if !reflect.DeepEqual(g, w) {
		var compact bytes.Buffer
		_ = json.Compact(&compact, []byte(want))
		t.Fatalf("response\n%s\nwant\n%s", bytes.TrimSpace(got), compact.Bytes())
	}
}

// registerBody wraps a card in the body of POST /agents.
func registerBody(card string) string { return `{"agent_card": ` + card + `}` }

// metricValue returns the counter name whose labels include labels, 0 when
// there is none.
func metricValue(t *testing.T, g prometheus.Gatherer, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
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
			sum += m.GetCounter().GetValue()
		}
	}
	return sum
}

// quiet discards fasthttp's log lines.
type quiet struct{}

func (quiet) Printf(string, ...any) {}
