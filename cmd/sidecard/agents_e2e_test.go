package main

// End-to-end tests of agents writing through their sidecar: the A2A
// Registry compatible API on the sidecar (reads from its replica, writes
// forwarded to the control plane), and registration through the sidecar
// (PUT /v1/agents/{name}, kept alive while the agent's health check
// passes), against a control plane run in this process.

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sidecard/sidecard/controlplane"
	"github.com/sidecard/sidecard/sidecar"
)

// sidecarToken is the token of the agents tests' sidecars, named host-a in
// the control plane's tokens file.
const sidecarToken = "sidecar-host-a-token-0123456789"

// startAgentsControlPlane runs a control plane whose writes need
// sidecarToken, with one registry file (the agent "echo-agent", owned by
// the file source), and waits until it is ready.
func startAgentsControlPlane(t *testing.T) *e2eControlPlane {
	t.Helper()
	dir := t.TempDir()
	regDir := filepath.Join(dir, "registry")
	tokens := filepath.Join(dir, "tokens")
	if err := os.MkdirAll(regDir, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(regDir, "echo.json"), cardFor("Echo Agent", "http://127.0.0.1:9020"))
	writeFile(t, tokens, sidecarToken+" host-a\n")
	cfg := controlplane.DefaultConfig()
	cfg.DataDir = filepath.Join(dir, "data")
	cfg.RegistryDirs = []string{regDir}
	cfg.Auth.TokensFile = tokens
	cfg.XDSAddr, cfg.HTTPAddr = "127.0.0.1:0", "127.0.0.1:0"
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

// startAgentsSidecar runs a sidecar streaming from cp whose writes go to
// cp's HTTP API with sidecarToken, checks agents every 100 ms and
// deregisters them after 3 failures; edit may change its config. It waits
// until the sidecar is connected.
func startAgentsSidecar(t *testing.T, id string, cp *e2eControlPlane, edit func(*sidecar.Config)) *e2eSidecar {
	t.Helper()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "token"), "# the token of "+id+"\n"+sidecarToken+"\n")
	cfg := sidecar.DefaultConfig()
	cfg.Node.ID = id
	cfg.ControlPlane.Addresses = []string{cp.xdsAddr}
	cfg.ControlPlane.HTTPAddresses = []string{cp.cp.HTTPAddr()}
	cfg.ControlPlane.TokenFile = filepath.Join(dir, "token")
	cfg.Addr = "127.0.0.1:0"
	cfg.DataDir = filepath.Join(dir, "data")
	cfg.Register.TTL = 2 * time.Second
	cfg.Register.HealthInterval = 100 * time.Millisecond
	cfg.Register.FailureThreshold = 3
	if edit != nil {
		edit(&cfg)
	}
	reg := prometheus.NewRegistry()
	s, err := sidecar.New(cfg, sidecar.Deps{Registerer: reg, Gatherer: reg})
	if err != nil {
		t.Fatalf("sidecar.New(%s): %v", id, err)
	}
	sc := &e2eSidecar{id: id, s: s, reg: reg, base: "http://" + s.Addr(), dataDir: cfg.DataDir}
	sc.stop = runPart(t, "sidecar "+id, s.Run)
	waitConnected(t, []*e2eSidecar{sc}, true)
	return sc
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}

// cardFor is a complete v0.3 card named name at url.
func cardFor(name, url string) string {
	return fmt.Sprintf(`{"protocolVersion":"0.3.0","name":%q,"description":"a test agent","url":%q,"version":"1.0.0",
"capabilities":{},"defaultInputModes":["text/plain"],"defaultOutputModes":["text/plain"],
"skills":[{"id":"echo","name":"Echo","description":"echoes","tags":["test"]}]}`, name, url)
}

// call sends a request with a JSON body (none when body is "") and fails
// the test when it gets no answer.
func call(t *testing.T, method, url, body string) (int, http.Header, []byte) {
	t.Helper()
	code, h, b, err := httpDoErr(method, url, body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	return code, h, b
}

// TestE2ESidecarCompat drives the A2A Registry compatible API of a sidecar
// whose writes go to a real control plane: REST and JSON-RPC, their error
// codes, reads while the control plane is down.
func TestE2ESidecarCompat(t *testing.T) {
	cp := startAgentsControlPlane(t)
	a := startAgentsSidecar(t, "host-a", cp, nil)
	waitEntry(t, []*e2eSidecar{a}, "echo-agent", 1)
	snake := `{"name":"Test Agent","description":"A test agent","url":"http://localhost:8080","version":"1.0.0",
"protocol_version":"0.3.0","skills":[{"id":"test","description":"Test skill"}]}`
	steps := []struct {
		name, method, path, body string
		status                   int
		contains                 []string
	}{
		{"health", "GET", "/health", "", 200, []string{`"status":"healthy"`, `"agents_count":1`}},
		{"register", "POST", "/agents", `{"agent_card":` + snake + `}`, 201,
			[]string{`"agent_id":"test-agent"`, `"defaulted_fields":["card.skills[0].name"`}},
		// The write waited for the replica: this sidecar reads it at once,
		// in the form it was written in.
		{"read your write", "GET", "/agents/test-agent", "", 200, []string{`"protocol_version":"0.3.0"`}},
		{"list", "GET", "/agents", "", 200, []string{`"count":2`}},
		{"search", "POST", "/agents/search", `{"query":"echo"}`, 200, []string{`"count":1`, `"name":"Echo Agent"`}},
		{"invalid card", "POST", "/agents", `{"agent_card":{"name":"x","url":"http://x"}}`, 400, []string{`"detail":"card.`}},
		{"file-owned", "DELETE", "/agents/echo-agent", "", 409, []string{"owned by another source"}},
		{"unknown", "GET", "/agents/nobody", "", 404, []string{`"detail":"Agent not found"`}},
		{"method", "PUT", "/agents", "", 405, []string{"Method Not Allowed"}},
		{"rpc register", "POST", "/jsonrpc", `{"jsonrpc":"2.0","method":"register_agent","params":{"agent_card":` +
			cardFor("Weather", "http://127.0.0.1:9001") + `},"id":1}`, 200, []string{`"agent_id":"weather"`, `"transport":"JSONRPC"`}},
		{"rpc get", "POST", "/jsonrpc", `{"jsonrpc":"2.0","method":"get_agent","params":["weather"],"id":2}`, 200,
			[]string{`"found":true`}},
		{"rpc search", "POST", "/jsonrpc", `{"jsonrpc":"2.0","method":"search_agents","params":{"skills":["echo"]},"id":3}`, 200,
			[]string{`"count":2`}},
		{"rpc unknown agent", "POST", "/jsonrpc", `{"jsonrpc":"2.0","method":"get_agent","params":["nobody"],"id":4}`, 200,
			[]string{`"code":-32001`}},
		{"rpc file-owned", "POST", "/jsonrpc", `{"jsonrpc":"2.0","method":"unregister_agent","params":["echo-agent"],"id":5}`, 200,
			[]string{`"code":-32002`}},
		{"rpc invalid card", "POST", "/jsonrpc", `{"jsonrpc":"2.0","method":"register_agent","params":[{"name":"x"}],"id":6}`, 200,
			[]string{`"code":-32602`}},
		{"rpc unknown method", "POST", "/jsonrpc", `{"jsonrpc":"2.0","method":"nope","id":7}`, 200, []string{`"code":-32601`}},
		{"rpc parse error", "POST", "/jsonrpc", `{`, 200, []string{`"code":-32700`}},
		{"rpc unregister", "POST", "/jsonrpc", `{"jsonrpc":"2.0","method":"unregister_agent","params":["weather"],"id":8}`, 200,
			[]string{`"success":true`}},
		{"unregister", "DELETE", "/agents/test-agent", "", 200, []string{`"agent_id":"test-agent"`}},
		{"gone", "GET", "/agents/test-agent", "", 404, nil},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			code, _, body := call(t, s.method, a.base+s.path, s.body)
			if code != s.status {
				t.Fatalf("%s %s = %d %s, want %d", s.method, s.path, code, body, s.status)
			}
			for _, want := range s.contains {
				if !strings.Contains(string(body), want) {
					t.Errorf("%s %s: body %s, want %s", s.method, s.path, body, want)
				}
			}
		})
	}
	// The control plane has what the sidecar wrote, and who wrote it: the
	// compat registration of test-agent went there and was removed there.
	if code, _, body := call(t, "GET", cp.base+"/v1/agents/test-agent", ""); code != 404 {
		t.Errorf("control plane still has test-agent: %d %s", code, body)
	}

	// A sidecar without the token: the control plane refuses its writes.
	noToken := startAgentsSidecar(t, "host-b", cp, func(c *sidecar.Config) { c.ControlPlane.TokenFile = "" })
	if code, _, body := call(t, "POST", noToken.base+"/agents", `{"agent_card":`+snake+`}`); code != 500 {
		t.Errorf("write without a token = %d %s, want 500", code, body)
	}

	// The control plane down: reads still answer, writes are a 503 / -32004.
	cp.stop()
	if code, _, body := call(t, "GET", a.base+"/agents/echo-agent", ""); code != 200 {
		t.Errorf("read with the control plane down = %d %s", code, body)
	}
	code, h, body := call(t, "POST", a.base+"/agents", `{"agent_card":`+snake+`}`)
	if code != 503 || h.Get("Retry-After") == "" {
		t.Errorf("write with the control plane down = %d %s, want 503 with Retry-After", code, body)
	}
	if _, _, body := call(t, "POST", a.base+"/jsonrpc",
		`{"jsonrpc":"2.0","method":"unregister_agent","params":["x"],"id":1}`); !strings.Contains(string(body), `"code":-32004`) {
		t.Errorf("JSON-RPC write with the control plane down: %s, want -32004", body)
	}
}

// testAgent is an A2A agent's HTTP server serving its card, which can be
// stopped and started again on the same address.
type testAgent struct {
	t    *testing.T
	addr string
	srv  *http.Server
	done chan error
}

func startTestAgent(t *testing.T, addr string) *testAgent {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("agent listen on %s: %v", addr, err)
	}
	a := &testAgent{t: t, addr: ln.Addr().String(), done: make(chan error, 1)}
	card := cardFor("Echo", "http://"+a.addr+"/")
	a.srv = &http.Server{ReadHeaderTimeout: time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(card))
	})}
	go func() { a.done <- a.srv.Serve(ln) }()
	t.Cleanup(a.kill)
	return a
}

// kill stops the agent at once, connections and all.
func (a *testAgent) kill() {
	if a.srv == nil {
		return
	}
	_ = a.srv.Close()
	if err := <-a.done; !errors.Is(err, http.ErrServerClosed) {
		a.t.Errorf("agent server: %v", err)
	}
	a.srv = nil
}

// registration is an element of the registrations of GET /v1/status.
type registration struct {
	Name      string    `json:"name"`
	Healthy   bool      `json:"healthy"`
	LastCheck time.Time `json:"last_check"`
	LastError string    `json:"last_error"`
	ExpiresAt time.Time `json:"expires_at"`
}

// registrations returns the registrations of the sidecar's status.
func (sc *e2eSidecar) registrations() (map[string]registration, error) {
	code, _, body, err := httpGet(sc.base + "/v1/status")
	if err != nil {
		return nil, err
	}
	var st struct {
		Registrations []registration `json:"registrations"`
	}
	if code != 200 || json.Unmarshal(body, &st) != nil {
		return nil, fmt.Errorf("GET /v1/status = %d %s", code, body)
	}
	out := map[string]registration{}
	for _, r := range st.Registrations {
		out[r.Name] = r
	}
	return out, nil
}

// present returns an error unless the sidecar serves name.
func (sc *e2eSidecar) present(name string) error {
	if err := wantStatus(sc.base+"/v1/agents/"+name, http.StatusOK); err != nil {
		return fmt.Errorf("sidecar %s: %w", sc.id, err)
	}
	return nil
}

// TestE2ERegistrationThroughSidecar registers an agent through sidecar A
// and follows it: visible on sidecar B, kept alive past its TTL, gone
// everywhere soon after it dies, back when it comes back, and gone when A
// shuts down cleanly.
func TestE2ERegistrationThroughSidecar(t *testing.T) {
	cp := startAgentsControlPlane(t)
	a := startAgentsSidecar(t, "host-a", cp, nil)
	b := startAgentsSidecar(t, "host-b", cp, func(c *sidecar.Config) { c.ControlPlane.TokenFile = "" })
	both := []*e2eSidecar{a, b}
	agent := startTestAgent(t, "127.0.0.1:0")

	code, _, body := call(t, "PUT", a.base+"/v1/agents/echo", cardFor("Echo", "http://"+agent.addr+"/"))
	if code != 201 || !strings.Contains(string(body), `"ttl_seconds":2`) {
		t.Fatalf("PUT through the sidecar = %d %s, want 201 with ttl_seconds 2", code, body)
	}
	for _, sc := range both {
		eventually(t, "echo on "+sc.id, func() error { return sc.present("echo") })
	}
	regs, err := a.registrations()
	if err != nil || !regs["echo"].Healthy || regs["echo"].ExpiresAt.IsZero() {
		t.Fatalf("registrations of A: %+v %v", regs, err)
	}
	first := regs["echo"].ExpiresAt
	// Renewed before it expires: a heartbeat moves expires_at on, and the
	// entry outlives its 2 s TTL.
	eventually(t, "a renewed lease", func() error {
		regs, err := a.registrations()
		if err != nil {
			return err
		}
		if r := regs["echo"]; !r.ExpiresAt.After(first) || r.LastCheck.IsZero() {
			return fmt.Errorf("registration %+v", r)
		}
		return nil
	})
	eventually(t, "echo alive past its TTL", func() error {
		if time.Until(first) > -500*time.Millisecond {
			return errors.New("not yet past the first expiry")
		}
		return b.present("echo")
	})

	// Killed: deregistered after 3 failed checks 100 ms apart, everywhere.
	agent.kill()
	killed := time.Now()
	for _, sc := range both {
		eventually(t, "echo gone from "+sc.id, func() error { return sc.absent("echo") })
	}
	if d := time.Since(killed); d > 3*time.Second {
		t.Errorf("echo gone everywhere %v after the agent died; want about 300 ms plus propagation", d)
	}
	regs, _ = a.registrations()
	if r := regs["echo"]; r.Healthy || r.LastError == "" || !r.ExpiresAt.IsZero() {
		t.Errorf("registration of a dead agent: %+v", r)
	}

	// Back on the same address: registered again, everywhere.
	startTestAgent(t, agent.addr)
	for _, sc := range both {
		eventually(t, "echo back on "+sc.id, func() error { return sc.present("echo") })
	}

	// A clean shutdown of A deregisters it.
	a.stop()
	eventually(t, "echo gone from B after A stopped", func() error { return b.absent("echo") })
	if code, _, body := call(t, "GET", cp.base+"/v1/agents/echo", ""); code != 404 {
		t.Errorf("control plane after A stopped: %d %s", code, body)
	}
}
