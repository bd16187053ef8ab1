package register_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sidecard/sidecard/sidecar/lookup"
	"github.com/sidecard/sidecard/sidecar/register"
)

// regEnv is a Registrar over a fake control plane, with a fake clock, and
// its Run goroutine.
type regEnv struct {
	t    *testing.T
	cp   *fakeCP
	clk  *fakeClock
	r    *register.Registrar
	reg  *prometheus.Registry
	stop func() // cancels Run and waits for it
}

func newRegEnv(t *testing.T, opts register.Options) *regEnv {
	t.Helper()
	e := &regEnv{t: t, cp: newFakeCP(t), clk: newFakeClock(), reg: prometheus.NewRegistry()}
	client := newClient(t, register.ClientOptions{Addresses: []string{e.cp.addr()}, Attempts: 1, NodeID: "host-a"})
	r, err := register.New(opts, register.Deps{ControlPlane: client, Clock: e.clk, Registerer: e.reg})
	if err != nil {
		t.Fatal(err)
	}
	e.r = r
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	stopped := false
	e.stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("Run did not return")
		}
	}
	t.Cleanup(e.stop)
	return e
}

// put registers an agent through Serve and returns the status and body.
func (e *regEnv) put(name, body string) (int, []byte) {
	ctx := request("PUT", "/v1/agents/"+name, "application/json", body)
	e.r.Serve(ctx)
	return ctx.Response.StatusCode(), ctx.Response.Body()
}

// tick advances the clock by d and waits until the worker has acted and
// waits again.
func (e *regEnv) tick(d time.Duration) {
	e.t.Helper()
	calls := e.clk.Calls()
	e.clk.Advance(d)
	waitFor(e.t, "the worker to wait again", func() bool { return e.clk.Calls() > calls })
}

// registration returns the status of name, and whether it is listed.
func (e *regEnv) registration(name string) (lookup.Registration, bool) {
	for _, s := range e.r.Registrations() {
		if s.Name == name {
			return s, true
		}
	}
	return lookup.Registration{}, false
}

// TestRegistrarLifecycle follows an agent through registration, lease
// renewals, failing checks and deregistration, recovery, a lost lease, its
// own deregistration and a shutdown.
func TestRegistrarLifecycle(t *testing.T) {
	opts := register.DefaultOptions() // ttl 30 s: heartbeats every 10 s; checks every 5 s; 3 failures
	e := newRegEnv(t, opts)
	agent := newFakeAgent(t)

	status, body := e.put("echo", cardJSON("Echo", agent.srv.URL+"/a2a"))
	if status != 201 || !strings.Contains(string(body), `"ttl_seconds":30`) {
		t.Fatalf("PUT = %d %s, want 201 with the default ttl", status, body)
	}
	waitFor(t, "the worker to start", func() bool { return e.clk.Calls() > 0 })
	if s, ok := e.registration("echo"); !ok || !s.Healthy || s.ExpiresAt.IsZero() {
		t.Fatalf("registration after PUT: %+v %v", s, ok)
	}

	e.tick(5 * time.Second) // a check
	if agent.hits.Load() != 1 {
		t.Fatalf("agent checked %d times, want 1", agent.hits.Load())
	}
	e.tick(5 * time.Second) // a check and a heartbeat
	if n := e.cp.count("POST /v1/agents/echo/heartbeat"); n != 1 {
		t.Fatalf("heartbeats %d, want 1", n)
	}
	if s, _ := e.registration("echo"); !s.ExpiresAt.Equal(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)) || s.LastCheck.IsZero() {
		t.Errorf("registration after a heartbeat: %+v", s)
	}

	agent.up.Store(false)
	e.tick(5 * time.Second)
	e.tick(5 * time.Second)
	if e.cp.entry("echo") == nil {
		t.Fatal("deregistered after 2 failed checks; the threshold is 3")
	}
	if s, _ := e.registration("echo"); !s.Healthy || !strings.Contains(s.LastError, "503") {
		t.Errorf("registration after 2 failures: %+v", s)
	}
	e.tick(5 * time.Second)
	if e.cp.entry("echo") != nil {
		t.Fatal("still registered after 3 failed checks")
	}
	s, _ := e.registration("echo")
	if s.Healthy || !s.ExpiresAt.IsZero() {
		t.Errorf("registration when unhealthy: %+v", s)
	}
	beats := e.cp.count("POST /v1/agents/echo/heartbeat")
	e.tick(5 * time.Second)
	if n := e.cp.count("POST /v1/agents/echo/heartbeat"); n != beats {
		t.Errorf("an unhealthy agent's lease was renewed")
	}

	agent.up.Store(true)
	e.tick(5 * time.Second)
	if got := e.cp.entry("echo"); got == nil || got.TTLSeconds != 30 {
		t.Fatalf("not registered again when healthy: %+v", got)
	}
	if s, _ := e.registration("echo"); !s.Healthy || s.LastError != "" {
		t.Errorf("registration when healthy again: %+v", s)
	}

	e.cp.expire("echo") // the lease was lost (a control-plane restart, a missed renewal)
	for e.cp.entry("echo") == nil && e.cp.count("POST /v1/agents/echo/heartbeat") < beats+3 {
		e.tick(5 * time.Second)
	}
	if e.cp.entry("echo") == nil {
		t.Fatal("a lost lease was not registered again")
	}

	del := request("DELETE", "/v1/agents/echo", "", "")
	e.r.Serve(del)
	if del.Response.StatusCode() != 204 || e.cp.entry("echo") != nil {
		t.Fatalf("DELETE = %d; entry %+v", del.Response.StatusCode(), e.cp.entry("echo"))
	}
	if _, ok := e.registration("echo"); ok {
		t.Error("still listed after the agent's DELETE")
	}

	if status, _ := e.put("echo", cardJSON("Echo", agent.srv.URL)); status != 201 {
		t.Fatalf("second PUT = %d", status)
	}
	e.stop()
	if e.cp.entry("echo") != nil {
		t.Error("a clean shutdown left the agent registered")
	}
	if status, body := e.put("late", cardJSON("Late", agent.srv.URL)); status != 503 {
		t.Errorf("PUT after shutdown = %d %s, want 503", status, body)
	}
	for reason, want := range map[string]float64{"unhealthy": 1, "agent": 1, "shutdown": 1} {
		if got := metricValue(t, e.reg, "sidecard_register_deregistrations_total", map[string]string{"reason": reason}); got != want {
			t.Errorf("deregistrations for %s = %v, want %v", reason, got, want)
		}
	}
	if got := metricValue(t, e.reg, "sidecard_register_reregistrations_total", nil); got != 2 {
		t.Errorf("reregistrations = %v, want 2", got)
	}
}

// TestRegisterRequests checks the answers of PUT and DELETE on the
// sidecar: the agent's mistakes, and the control plane's answers relayed.
func TestRegisterRequests(t *testing.T) {
	e := newRegEnv(t, register.DefaultOptions())
	card := cardJSON("Echo", "http://127.0.0.1:9/")
	tests := []struct {
		name        string
		method, uri string
		ctype, body string
		cpFails     int32
		wantStatus  int
		wantCode    string
		wantField   string
	}{
		{name: "invalid name", method: "PUT", uri: "/v1/agents/Not_Valid", ctype: "application/json", body: card,
			wantStatus: 400, wantCode: "invalid_argument", wantField: "name"},
		{name: "not JSON", method: "PUT", uri: "/v1/agents/echo", ctype: "text/plain", body: card,
			wantStatus: 415, wantCode: "unsupported_media_type"},
		{name: "bad card", method: "PUT", uri: "/v1/agents/echo", ctype: "application/json",
			body: `{"card":{"name":"x"}}`, wantStatus: 400, wantCode: "invalid_argument", wantField: "card.protocolVersion"},
		{name: "no http endpoint", method: "PUT", uri: "/v1/agents/echo", ctype: "application/json",
			body: `{"card":` + card + `,"endpoints":[]}`, wantStatus: 201},
		{name: "bad If-Match", method: "PUT", uri: "/v1/agents/echo", ctype: "application/json", body: card,
			wantStatus: 400, wantCode: "invalid_argument"},
		{name: "control plane down", method: "PUT", uri: "/v1/agents/echo", ctype: "application/json", body: card,
			cpFails: 503, wantStatus: 503, wantCode: "unavailable"},
		{name: "token refused", method: "PUT", uri: "/v1/agents/echo", ctype: "application/json", body: card,
			cpFails: 401, wantStatus: 502, wantCode: "bad_gateway"},
		{name: "conflict relayed", method: "DELETE", uri: "/v1/agents/echo", cpFails: 409, wantStatus: 409, wantCode: "conflict"},
		{name: "unknown", method: "DELETE", uri: "/v1/agents/nobody", wantStatus: 404, wantCode: "not_found"},
		{name: "other method", method: "POST", uri: "/v1/agents/echo", wantStatus: 405, wantCode: "method_not_allowed"},
		{name: "sub-path", method: "PUT", uri: "/v1/agents/echo/card", wantStatus: 404, wantCode: "not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.cp.failWith.Store(tt.cpFails)
			defer e.cp.failWith.Store(0)
			ctx := request(tt.method, tt.uri, tt.ctype, tt.body)
			if tt.name == "bad If-Match" {
				ctx.Request.Header.Set("If-Match", "W/abc")
			}
			e.r.Serve(ctx)
			if got := ctx.Response.StatusCode(); got != tt.wantStatus {
				t.Fatalf("status %d, want %d; body %s", got, tt.wantStatus, ctx.Response.Body())
			}
			if tt.wantCode == "" {
				return
			}
			code, field := errorCode(t, ctx.Response.Body())
			if code != tt.wantCode || field != tt.wantField {
				t.Errorf("error %s field %q, want %s field %q; body %s", code, field, tt.wantCode, tt.wantField,
					ctx.Response.Body())
			}
		})
	}
	if _, ok := e.registration("echo"); ok {
		t.Error("a PUT that failed left a registration")
	}
}

// TestRegisterKeepsAgentTTL checks that a ttl_seconds the agent gives is
// kept, and sets the heartbeat period, and that If-Match is passed on.
func TestRegisterKeepsAgentTTL(t *testing.T) {
	e := newRegEnv(t, register.DefaultOptions())
	agent := newFakeAgent(t)
	body := `{"ttl_seconds":6,"card":` + cardJSON("Echo", agent.srv.URL) + `}`
	if status, resp := e.put("echo", body); status != 201 {
		t.Fatalf("PUT = %d %s", status, resp)
	}
	if got := e.cp.entry("echo"); got.TTLSeconds != 6 {
		t.Fatalf("ttl %d, want 6", got.TTLSeconds)
	}
	waitFor(t, "the worker to start", func() bool { return e.clk.Calls() > 0 })
	e.tick(2 * time.Second) // a third of 6 s
	if n := e.cp.count("POST /v1/agents/echo/heartbeat"); n != 1 {
		t.Errorf("heartbeats after 2 s = %d, want 1", n)
	}
	ctx := request("PUT", "/v1/agents/echo", "application/json", body)
	ctx.Request.Header.Set("If-Match", `"99"`)
	e.r.Serve(ctx)
	if ctx.Response.StatusCode() != 412 {
		t.Errorf("PUT with a stale If-Match = %d %s, want 412", ctx.Response.StatusCode(), ctx.Response.Body())
	}
	if s, ok := e.registration("echo"); !ok || !s.Healthy {
		t.Errorf("a refused re-registration changed the registration: %+v %v", s, ok)
	}
	st, err := json.Marshal(e.r.Registrations())
	if err != nil || !strings.Contains(string(st), `"name":"echo","healthy":true`) {
		t.Errorf("registrations JSON %s %v", st, err)
	}
}
