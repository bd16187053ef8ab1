package main

// Helpers of the end-to-end tests (e2e_test.go): a control plane and
// sidecars run in-process, each with its own Prometheus registry and data
// directory, talking real gRPC and HTTP over loopback.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sidecard/sidecard/controlplane"
	"github.com/sidecard/sidecard/sidecar"
)

// e2eWait bounds every wait for a condition. Sidecars reconnect with a
// jittered backoff (250 ms doubling to 10 s); a control plane down for a
// fraction of a second is normally back within a couple of seconds.
const e2eWait = 15 * time.Second

// staleHeader is the header every lookup carries while a sidecar has no
// live stream to a control plane.
const staleHeader = "X-Sidecard-Stale-Seconds"

// e2eHTTP is the HTTP client of the tests: every call has a deadline.
var e2eHTTP = &http.Client{Timeout: 5 * time.Second}

// eventually polls cond until it returns nil, failing the test with cond's
// last error after e2eWait.
func eventually(t *testing.T, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(e2eWait)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not true within %v: %v", what, e2eWait, err)
		}
		<-tick.C
	}
}

// runPart runs run in a goroutine until the returned stop is called, or
// until the end of the test. stop cancels run's context, waits for it to
// return and reports its error; it may be called more than once.
func runPart(t *testing.T, name string, run func(context.Context) error) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			// Idle keep-alive connections would hold a server's shutdown
			// until it polls them closed.
			e2eHTTP.CloseIdleConnections()
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("%s: Run returned %v", name, err)
				}
			case <-time.After(e2eWait):
				t.Errorf("%s: Run did not return within %v of its cancellation", name, e2eWait)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// e2eControlPlane is a running control plane.
type e2eControlPlane struct {
	cp      *controlplane.ControlPlane
	reg     *prometheus.Registry
	base    string // http://<HTTP API address>
	xdsAddr string
	stop    func()
}

// startControlPlane runs a control plane on dataDir with its xDS server on
// xdsAddr ("127.0.0.1:0" for any port) and waits until it is ready.
func startControlPlane(t *testing.T, dataDir, xdsAddr string) *e2eControlPlane {
	t.Helper()
	cfg := controlplane.DefaultConfig()
	cfg.DataDir = dataDir
	cfg.XDSAddr = xdsAddr
	cfg.HTTPAddr = "127.0.0.1:0"
	reg := prometheus.NewRegistry()
	cp, err := controlplane.New(cfg, controlplane.Deps{Registerer: reg, Gatherer: reg})
	if err != nil {
		t.Fatalf("controlplane.New: %v", err)
	}
	c := &e2eControlPlane{cp: cp, reg: reg, base: "http://" + cp.HTTPAddr(), xdsAddr: cp.XDSAddr()}
	c.stop = runPart(t, "control plane", cp.Run)
	eventually(t, "control plane ready", func() error { return wantStatus(c.base+"/readyz", http.StatusOK) })
	return c
}

// e2eSidecar is a running sidecar.
type e2eSidecar struct {
	id      string
	s       *sidecar.Sidecar
	reg     *prometheus.Registry
	base    string // http://<lookup API address>
	dataDir string
	stop    func()
}

// startSidecar runs a sidecar named id with its replica in dataDir,
// streaming from the control plane at cpAddr with selector (nil: every
// entry). It does not wait for the sidecar to connect.
func startSidecar(t *testing.T, id, dataDir, cpAddr string, selector map[string]string) *e2eSidecar {
	t.Helper()
	cfg := sidecar.DefaultConfig()
	cfg.Node.ID = id
	cfg.ControlPlane.Addresses = []string{cpAddr}
	cfg.Subscribe.Selector = selector
	cfg.Addr = "127.0.0.1:0"
	cfg.DataDir = dataDir
	reg := prometheus.NewRegistry()
	s, err := sidecar.New(cfg, sidecar.Deps{Registerer: reg, Gatherer: reg})
	if err != nil {
		t.Fatalf("sidecar.New(%s): %v", id, err)
	}
	sc := &e2eSidecar{id: id, s: s, reg: reg, base: "http://" + s.Addr(), dataDir: dataDir}
	sc.stop = runPart(t, "sidecar "+id, s.Run)
	return sc
}

// startFleet starts a control plane and sidecars a, b and c (with the
// given selectors, by id) and waits until every sidecar is connected.
func startFleet(t *testing.T, selectors map[string]map[string]string) (*e2eControlPlane, []*e2eSidecar) {
	t.Helper()
	cp := startControlPlane(t, t.TempDir(), "127.0.0.1:0")
	return cp, startSidecars(t, cp.xdsAddr, selectors)
}

// startSidecars starts sidecars a, b and c streaming from cpAddr (with the
// given selectors, by id) and waits until every one is connected.
func startSidecars(t *testing.T, cpAddr string, selectors map[string]map[string]string) []*e2eSidecar {
	t.Helper()
	var scs []*e2eSidecar
	for _, id := range []string{"a", "b", "c"} {
		scs = append(scs, startSidecar(t, id, t.TempDir(), cpAddr, selectors[id]))
	}
	waitConnected(t, scs, true)
	return scs
}

// sidecarStatus is the part of GET /v1/status the tests read.
type sidecarStatus struct {
	NodeID       string `json:"node_id"`
	Connected    bool   `json:"connected"`
	Revision     int64  `json:"revision"`
	Agents       int    `json:"agents"`
	StaleSeconds int64  `json:"stale_seconds"`
}

func (sc *e2eSidecar) status() (sidecarStatus, error) {
	var st sidecarStatus
	code, _, body, err := httpGet(sc.base + "/v1/status")
	if err != nil {
		return st, err
	}
	if code != http.StatusOK {
		return st, fmt.Errorf("GET /v1/status = %d %s", code, body)
	}
	return st, json.Unmarshal(body, &st)
}

// waitConnected waits until every sidecar's /v1/status says connected (or
// not), and, when connected, /readyz answers 200.
func waitConnected(t *testing.T, scs []*e2eSidecar, connected bool) {
	t.Helper()
	for _, sc := range scs {
		eventually(t, fmt.Sprintf("sidecar %s connected=%v", sc.id, connected), func() error {
			st, err := sc.status()
			if err != nil {
				return err
			}
			if st.Connected != connected {
				return fmt.Errorf("status %+v", st)
			}
			if connected {
				return wantStatus(sc.base+"/readyz", http.StatusOK)
			}
			return nil
		})
	}
}

// httpGet gets url and returns the status, headers and body.
func httpGet(url string) (int, http.Header, []byte, error) {
	return httpDoErr(http.MethodGet, url, "")
}

// httpDoErr does a request, with a JSON body unless body is empty.
func httpDoErr(method, url, body string) (int, http.Header, []byte, error) {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		return 0, nil, nil, err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := e2eHTTP.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b, err
}

// wantStatus gets url and returns an error unless it answers code.
func wantStatus(url string, code int) error {
	got, _, body, err := httpGet(url)
	if err != nil {
		return err
	}
	if got != code {
		return fmt.Errorf("GET %s = %d %s, want %d", url, got, body, code)
	}
	return nil
}

// agentJSON is an entry for PUT /v1/agents/{name}: labels and a v0.3 card.
// An empty description becomes "-" (cards need one).
func agentJSON(name, description string, labels map[string]string) string {
	if description == "" {
		description = "-"
	}
	l, _ := json.Marshal(labels)
	return fmt.Sprintf(`{"labels":%s,"card":{"protocolVersion":"0.3.0","name":%q,"description":%q,
"url":"http://127.0.0.1:9100/%s","version":"1.0.0","capabilities":{},"defaultInputModes":["text/plain"],
"defaultOutputModes":["text/plain"],"skills":[{"id":"s","name":"S","description":"d","tags":["t"]}]}}`,
		l, name, description, name)
}

// putAgent writes an entry through the control plane's HTTP API at base and
// returns its revision.
func putAgent(t *testing.T, base, name, description string, labels map[string]string) int64 {
	t.Helper()
	code, _, body, err := httpDoErr(http.MethodPut, base+"/v1/agents/"+name, agentJSON(name, description, labels))
	if err != nil {
		t.Fatalf("PUT %s: %v", name, err)
	}
	if code != http.StatusCreated && code != http.StatusOK {
		t.Fatalf("PUT %s = %d %s", name, code, body)
	}
	var stored struct {
		Revision int64 `json:"revision"`
	}
	if err := json.Unmarshal(body, &stored); err != nil || stored.Revision == 0 {
		t.Fatalf("PUT %s: body %s: no revision (%v)", name, body, err)
	}
	return stored.Revision
}

// deleteAgent deletes an entry through the control plane's HTTP API.
func deleteAgent(t *testing.T, base, name string) {
	t.Helper()
	code, _, body, err := httpDoErr(http.MethodDelete, base+"/v1/agents/"+name, "")
	if err != nil || code != http.StatusNoContent {
		t.Fatalf("DELETE %s = %d %s %v, want 204", name, code, body, err)
	}
}

// entryAt returns an error unless the sidecar serves name at revision rev.
func (sc *e2eSidecar) entryAt(name string, rev int64) error {
	code, h, body, err := httpGet(sc.base + "/v1/agents/" + name)
	if err != nil {
		return err
	}
	want := `"` + strconv.FormatInt(rev, 10) + `"`
	if code != http.StatusOK || h.Get("ETag") != want {
		return fmt.Errorf("sidecar %s: GET %s = %d ETag %s %s, want 200 ETag %s",
			sc.id, name, code, h.Get("ETag"), body, want)
	}
	return nil
}

// absent returns an error unless the sidecar answers 404 for name.
func (sc *e2eSidecar) absent(name string) error {
	if err := wantStatus(sc.base+"/v1/agents/"+name, http.StatusNotFound); err != nil {
		return fmt.Errorf("sidecar %s: %w", sc.id, err)
	}
	return nil
}

// waitEntry waits until every sidecar serves name at revision rev.
func waitEntry(t *testing.T, scs []*e2eSidecar, name string, rev int64) {
	t.Helper()
	for _, sc := range scs {
		eventually(t, fmt.Sprintf("%s at revision %d on %s", name, rev, sc.id),
			func() error { return sc.entryAt(name, rev) })
	}
}

// waitAbsent waits until every sidecar answers 404 for name.
func waitAbsent(t *testing.T, scs []*e2eSidecar, name string) {
	t.Helper()
	for _, sc := range scs {
		eventually(t, fmt.Sprintf("%s gone from %s", name, sc.id), func() error { return sc.absent(name) })
	}
}

// nodeStatus is the part of an element of GET /v1/sidecars the tests read.
type nodeStatus struct {
	ID            string `json:"id"`
	AckedRevision int64  `json:"acked_revision"`
	NACKs         int64  `json:"nacks"`
	LastNACKError string `json:"last_nack_error"`
}

// sidecars returns the nodes of GET /v1/sidecars of the control plane at
// base, by id.
func sidecars(base string) (map[string]nodeStatus, error) {
	code, _, body, err := httpGet(base + "/v1/sidecars")
	if err != nil {
		return nil, err
	}
	if code != http.StatusOK {
		return nil, fmt.Errorf("GET /v1/sidecars = %d %s", code, body)
	}
	var resp struct {
		Sidecars []nodeStatus `json:"sidecars"`
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		return nil, fmt.Errorf("GET /v1/sidecars: %s: %w", body, err)
	}
	out := make(map[string]nodeStatus, len(resp.Sidecars))
	for _, n := range resp.Sidecars {
		out[n.ID] = n
	}
	return out, nil
}

// waitAcked waits until the control plane at base reports every sidecar
// having ACKed revision rev: by then each has applied the response and
// counted it in its metrics.
func waitAcked(t *testing.T, base string, scs []*e2eSidecar, rev int64) {
	t.Helper()
	eventually(t, fmt.Sprintf("every sidecar ACKed revision %d", rev), func() error {
		nodes, err := sidecars(base)
		if err != nil {
			return err
		}
		for _, sc := range scs {
			if n, ok := nodes[sc.id]; !ok || n.AckedRevision != rev {
				return fmt.Errorf("node %s: %+v (listed: %v)", sc.id, n, ok)
			}
		}
		return nil
	})
}

// counter returns the sum of the counter (or gauge) name over the series of
// g whose labels include labels; 0 when there is none.
func counter(t *testing.T, g prometheus.Gatherer, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatalf("gather metrics: %v", err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			got := make(map[string]string, len(m.GetLabel()))
			for _, lp := range m.GetLabel() {
				got[lp.GetName()] = lp.GetValue()
			}
			if !containsLabels(got, labels) {
				continue
			}
			switch {
			case m.GetCounter() != nil:
				sum += m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				sum += m.GetGauge().GetValue()
			default:
				t.Fatalf("metric %s is neither a counter nor a gauge", name)
			}
		}
	}
	return sum
}

func containsLabels(got, want map[string]string) bool {
	for k, v := range want {
		if got[k] != v {
			return false
		}
	}
	return true
}

// staleEntry returns an error unless the sidecar answers lookups of name with
// 200 and the staleness header, and reports itself disconnected.
func (sc *e2eSidecar) staleEntry(name string) error {
	code, h, body, err := httpGet(sc.base + "/v1/agents/" + name)
	if err != nil {
		return err
	}
	if code != http.StatusOK || h.Get(staleHeader) == "" {
		return fmt.Errorf("sidecar %s: GET %s = %d %s=%q %s, want 200 with the header",
			sc.id, name, code, staleHeader, h.Get(staleHeader), body)
	}
	if _, err := strconv.ParseInt(h.Get(staleHeader), 10, 64); err != nil {
		return fmt.Errorf("sidecar %s: %s=%q is not a number", sc.id, staleHeader, h.Get(staleHeader))
	}
	st, err := sc.status()
	if err != nil {
		return err
	}
	if st.Connected {
		return errors.New("sidecar " + sc.id + ": /v1/status says connected")
	}
	return nil
}

// labels builds a label map from k=v pairs.
func labels(kv ...string) map[string]string {
	m := make(map[string]string, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}
