package controlplane

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// running is a control plane run by a test on 127.0.0.1:0.
type running struct {
	cp   *ControlPlane
	base string // http://host:port of the HTTP API
	reg  *prometheus.Registry
	logs *logBuffer
}

// startControlPlane runs a control plane on cfg (with a fresh data
// directory and loopback ports unless set) until the end of the test, and
// returns once it is ready. deps' Logger, Registerer and Gatherer are the
// test's.
func startControlPlane(t *testing.T, cfg Config, deps Deps) *running {
	t.Helper()
	if cfg.DataDir == DefaultDataDir {
		cfg.DataDir = t.TempDir()
	}
	if cfg.XDSAddr == DefaultXDSAddr {
		cfg.XDSAddr = "127.0.0.1:0"
	}
	if cfg.HTTPAddr == DefaultHTTPAddr {
		cfg.HTTPAddr = "127.0.0.1:0"
	}
	r := &running{reg: prometheus.NewRegistry(), logs: &logBuffer{}}
	deps.Registerer, deps.Gatherer = r.reg, r.reg
	deps.Logger = slog.New(slog.NewJSONHandler(r.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cp, err := New(cfg, deps)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	r.cp, r.base = cp, "http://"+cp.HTTPAddr()
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- cp.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-ran; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	waitReady(t, r.base+"/readyz")
	return r
}

// description returns the status of GET /v1/agents/{name} and the
// description of the entry's card.
func (r *running) description(t testing.TB, name string) (int, string) {
	t.Helper()
	resp, err := http.Get(r.base + "/v1/agents/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e struct {
		Card struct {
			Description string `json:"description"`
		} `json:"card"`
	}
	if resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
			t.Fatal(err)
		}
	}
	return resp.StatusCode, e.Card.Description
}

// serves returns a condition for eventually: GET /v1/agents/{name} shows
// description want, or answers 404 when want is "".
func (r *running) serves(t testing.TB, name, want string) func() (bool, string) {
	return func() (bool, string) {
		code, got := r.description(t, name)
		if want == "" {
			return code == http.StatusNotFound, fmt.Sprintf("GET %s = %d %q, want 404", name, code, got)
		}
		return code == http.StatusOK && got == want, fmt.Sprintf("GET %s = %d %q, want 200 %q", name, code, got, want)
	}
}

// put writes an entry named name through the API with token and returns
// the status.
func (r *running) put(t testing.TB, token, name string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, r.base+"/v1/agents/"+name, strings.NewReader(apiCard))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// status returns a condition for eventually: a write with token gets want.
func (r *running) status(t testing.TB, token string, want int) func() (bool, string) {
	return func() (bool, string) {
		code := r.put(t, token, "written")
		return code == want, fmt.Sprintf("PUT with token %q... = %d, want %d", token[:8], code, want)
	}
}

// reads returns a condition for eventually: GET /v1/agents with token (none
// when "") gets want.
func (r *running) reads(t testing.TB, token string, want int) func() (bool, string) {
	return func() (bool, string) {
		req, err := http.NewRequest(http.MethodGet, r.base+"/v1/agents", nil)
		if err != nil {
			t.Fatal(err)
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode == want, fmt.Sprintf("GET /v1/agents with token %q = %d, want %d", token, resp.StatusCode, want)
	}
}

// accepts returns a condition for eventually: a write with token succeeds
// (want true) or gets 401 (want false).
func (r *running) accepts(t testing.TB, token string, want bool) func() (bool, string) {
	return func() (bool, string) {
		code := r.put(t, token, "written")
		ok := code == http.StatusOK || code == http.StatusCreated
		if !want {
			ok = code == http.StatusUnauthorized
		}
		return ok, fmt.Sprintf("PUT with token %q... = %d, want accepted=%v", token[:8], code, want)
	}
}

// configStatus returns GET /v1/config.
func (r *running) configStatus(t testing.TB) ConfigStatus {
	t.Helper()
	resp, err := http.Get(r.base + "/v1/config")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /v1/config = %d", resp.StatusCode)
	}
	var st ConfigStatus
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	return st
}

// metric returns the value of the counter or gauge name whose labels
// include labels; -1 when there is none.
func (r *running) metric(t testing.TB, name string, labels map[string]string) float64 {
	t.Helper()
	families, err := r.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	metrics:
		for _, m := range f.GetMetric() {
			have := map[string]string{}
			for _, lp := range m.GetLabel() {
				have[lp.GetName()] = lp.GetValue()
			}
			for k, v := range labels {
				if have[k] != v {
					continue metrics
				}
			}
			if m.GetCounter() != nil {
				return m.GetCounter().GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	return -1
}

// reloads returns sidecard_config_reloads_total for result.
func (r *running) reloads(t testing.TB, result string) float64 {
	return r.metric(t, "sidecard_config_reloads_total", map[string]string{"component": "controlplane", "result": result})
}

// eventually polls cond until it holds, failing the test with cond's last
// message after 10 s.
func eventually(t testing.TB, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ok, msg := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 10s: %s", msg)
		}
		time.Sleep(2 * time.Millisecond) // polling a condition
	}
}

// logBuffer collects JSON log lines; it is safe for concurrent use.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// find returns the first log record with message msg whose attribute key
// contains sub, or nil.
func (b *logBuffer) find(msg, key, sub string) map[string]any {
	b.mu.Lock()
	defer b.mu.Unlock()
	for line := range bytes.Lines(b.buf.Bytes()) {
		var rec map[string]any
		if json.Unmarshal(line, &rec) != nil || rec["msg"] != msg {
			continue
		}
		if v, ok := rec[key].(string); ok && strings.Contains(v, sub) {
			return rec
		}
	}
	return nil
}

// logged returns a condition for eventually: a record as find finds it.
func (b *logBuffer) logged(msg, key, sub string) func() (bool, string) {
	return func() (bool, string) {
		return b.find(msg, key, sub) != nil, fmt.Sprintf("no log %q with %s containing %q", msg, key, sub)
	}
}

// write writes data to path in place (truncate, then write), as most
// editors and shells do.
func write(t testing.TB, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}

// renameOver writes data to a hidden temporary file next to path and
// renames it over path, as atomic writers (and some editors) do.
func renameOver(t testing.TB, path, data string) {
	t.Helper()
	tmp := filepath.Join(filepath.Dir(path), ".tmp-"+filepath.Base(path))
	write(t, tmp, data)
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// agentYAML is a registry file holding one entry: name, with a card whose
// description is desc (on line 5).
func agentYAML(name, desc string) string {
	return fmt.Sprintf(`name: %s
card:
  protocolVersion: "0.3.0"
  name: %s
  description: %s
  url: http://127.0.0.1:9001
  version: "1.0.0"
  capabilities: {}
  defaultInputModes: [text/plain]
  defaultOutputModes: [text/plain]
  skills:
    - {id: s, name: S, description: S., tags: [t]}
`, name, name, desc)
}

// apiCard is the body of the writes of put.
const apiCard = `{"protocolVersion":"0.3.0","name":"Written","description":"d","url":"http://127.0.0.1:9100",
"version":"1.0.0","capabilities":{},"defaultInputModes":["text/plain"],"defaultOutputModes":["text/plain"],
"skills":[{"id":"s","name":"S","description":"d","tags":["t"]}]}`
