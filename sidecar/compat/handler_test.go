package compat_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/sidecard/sidecard/internal/a2aregistry"
	"github.com/sidecard/sidecard/sidecar/compat"
	"github.com/sidecard/sidecard/sidecar/register"
)

// TestREST drives every REST route in order: writes reach the writer and
// reads come from the replica.
func TestREST(t *testing.T) {
	e := newEnv(t, nil)
	steps := []struct {
		name, method, path, body string
		status                   int
		want                     string // exact JSON, unless empty
		contains                 string
	}{
		{name: "empty list", method: "GET", path: "/agents", status: 200, want: `{"agents":[],"count":0}`},
		{name: "register snake_case", method: "POST", path: "/agents", body: registerBody(loadTestCard), status: 201,
			want: `{"success":true,"agent_id":"test-agent","message":"Agent registered successfully","defaulted_fields":
			["card.skills[0].name","card.skills[0].tags","card.capabilities","card.default_input_modes","card.default_output_modes"]}`},
		{name: "get in its own form", method: "GET", path: "/agents/test-agent", status: 200,
			contains: `"protocol_version":"0.3.0"`},
		{name: "get by card name", method: "GET", path: "/agents/Test%20Agent", status: 200, contains: `"name":"Test Agent"`},
		{name: "register camelCase", method: "POST", path: "/agents", body: registerBody(weatherCard), status: 201,
			contains: `"agent_id":"weather"`},
		{name: "list", method: "GET", path: "/agents", status: 200, contains: `"count":2`},
		{name: "search by skill", method: "POST", path: "/agents/search", body: `{"skills":["forecast"]}`, status: 200,
			contains: `"count":1,"query":"","skills_filter":["forecast"]`},
		{name: "search by text", method: "POST", path: "/agents/search", body: `{"query":"test agent","max_results":5}`,
			status: 200, contains: `"count":1`},
		{name: "health", method: "GET", path: "/health", status: 200,
			want: `{"status":"healthy","service":"A2A Registry","agents_count":2,"protocol_version":"0.3.0"}`},
		{name: "head", method: "HEAD", path: "/health", status: 200},
		{name: "unregister", method: "DELETE", path: "/agents/weather", status: 200,
			want: `{"success":true,"message":"Agent unregistered successfully","agent_id":"weather"}`},
		{name: "gone", method: "GET", path: "/agents/weather", status: 404, want: `{"detail":"Agent not found"}`},
		{name: "unregister again", method: "DELETE", path: "/agents/weather", status: 404, want: `{"detail":"Agent not found"}`},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			r := e.do(s.method, s.path, s.body)
			if r.status != s.status {
				t.Fatalf("status %d, want %d; body %s", r.status, s.status, r.body)
			}
			if s.want != "" {
				wantJSONEqual(t, r.body, s.want)
			}
			if !strings.Contains(string(r.body), s.contains) {
				t.Errorf("body %s, want it to contain %s", r.body, s.contains)
			}
		})
	}
	if got := e.writer.entries["test-agent"]; got == nil || got.Labels[a2aregistry.LabelNormalised] != "true" {
		t.Errorf("stored entry %+v, want the normalised label", got)
	}
	if n := metricValue(t, e.metrics, "sidecard_compat_requests_total", map[string]string{"api": "rest", "method": "register"}); n != 2 {
		t.Errorf("register requests counted %v, want 2", n)
	}
}

// TestRESTErrors checks the refusals of the REST surface.
func TestRESTErrors(t *testing.T) {
	e := newEnv(t, func(o *compat.Options) { o.MaxBodyBytes = 8 << 10 })
	e.writer.putFile(t, "weather", weatherCard)
	big := registerBody(`{"name":"` + strings.Repeat("x", 9<<10) + `"}`)
	tests := []struct {
		name, method, path, body string
		header                   []string
		status                   int
		contains, allow          string
	}{
		{"invalid card", "POST", "/agents", registerBody(`{"name":"x"}`), nil, 400, "card.protocolVersion: required", ""},
		{"card not an object", "POST", "/agents", `{"agent_card":"x"}`, nil, 422, "agent_card", ""},
		{"body of the wrong type", "POST", "/agents/search", `{"skills":"x"}`, nil, 422, "skills must be an array", ""},
		{"not JSON", "POST", "/agents", "x", []string{"Content-Type", "text/plain"}, 415, "Content-Type", ""},
		{"too large", "POST", "/agents", big, nil, 413, "larger than 8192", ""},
		{"file-owned", "DELETE", "/agents/weather", "", nil, 409, "owned by another source", ""},
		{"file-owned registration", "POST", "/agents", registerBody(weatherCard), nil, 409, "owned by another source", ""},
		{"method on list", "PUT", "/agents", "", nil, 405, "Method Not Allowed", "GET, HEAD, POST"},
		{"method on agent", "POST", "/agents/x", "", nil, 405, "Method Not Allowed", "GET, HEAD, DELETE"},
		{"method on health", "POST", "/health", "", nil, 405, "Method Not Allowed", "GET, HEAD"},
		{"unknown path", "GET", "/agents/a/b", "", nil, 404, "Not Found", ""},
		{"unknown agent", "GET", "/agents/nobody", "", nil, 404, "Agent not found", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(tt.method, tt.path, tt.body, tt.header...)
			if r.status != tt.status || !strings.Contains(string(r.body), tt.contains) {
				t.Fatalf("%s %s = %d %s, want %d with %q", tt.method, tt.path, r.status, r.body, tt.status, tt.contains)
			}
			if got := r.header.Get("Allow"); got != tt.allow {
				t.Errorf("Allow %q, want %q", got, tt.allow)
			}
		})
	}
}

// TestControlPlaneErrors checks how the control plane's failures are
// answered on both surfaces.
func TestControlPlaneErrors(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		wantStatus int
		wantDetail string
		wantCode   int
	}{
		{"no control plane", fmt.Errorf("put: %w", register.ErrUnavailable), 503, "retry", a2aregistry.CodeUnavailable},
		{"registered by another node", &register.APIError{Status: 403, Code: "permission_denied", Message: "host-b's"},
			403, "registered by another", a2aregistry.CodePermissionDenied},
		{"token refused", &register.APIError{Status: 401, Code: "unauthenticated", Message: "bad token"},
			500, "internal error", a2aregistry.CodeInternalError},
		{"card refused", &register.APIError{Status: 400, Code: "invalid_argument", Message: "card.url: bad", Field: "card.url"},
			400, "card.url: bad", a2aregistry.CodeInvalidParams},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			e.writer.err = tt.err
			r := e.do("POST", "/agents", registerBody(weatherCard))
			if r.status != tt.wantStatus || !strings.Contains(string(r.body), tt.wantDetail) {
				t.Fatalf("POST /agents = %d %s, want %d with %q", r.status, r.body, tt.wantStatus, tt.wantDetail)
			}
			if tt.wantStatus == 503 && r.header.Get("Retry-After") == "" {
				t.Error("no Retry-After")
			}
			r = e.rpc(`{"jsonrpc":"2.0","method":"unregister_agent","params":{"agent_id":"weather"},"id":7}`)
			if r.status != 200 || !strings.Contains(string(r.body), fmt.Sprintf(`"code":%d`, tt.wantCode)) {
				t.Errorf("unregister_agent = %d %s, want code %d", r.status, r.body, tt.wantCode)
			}
		})
	}
}

// TestJSONRPC drives the JSON-RPC surface: every method, and the error
// codes of the transport and of the calls.
func TestJSONRPC(t *testing.T) {
	e := newEnv(t, nil)
	e.writer.putFile(t, "from-file", weatherCard)
	steps := []struct {
		name, body string
		status     int
		want       string // exact JSON, unless empty
		contains   string
	}{
		{"register", `{"jsonrpc":"2.0","method":"register_agent","params":{"agent_card":` + loadTestCard + `},"id":1}`, 200, "",
			`"agent_id":"test-agent","message":"Agent registered successfully"`},
		{"get", `{"jsonrpc":"2.0","method":"get_agent","params":["test-agent"],"id":2}`, 200, "", `"found":true`},
		{"list", `{"jsonrpc":"2.0","method":"list_agents","id":3}`, 200, "", `"count":2,"transport":"JSONRPC"`},
		{"search", `{"jsonrpc":"2.0","method":"search_agents","params":{"skills":["test"]},"id":4}`, 200, "", `"count":1`},
		{"health", `{"jsonrpc":"2.0","method":"health_check","id":5}`, 200,
			`{"jsonrpc":"2.0","result":{"status":"healthy","service":"A2A Registry","transport":"JSONRPC","agents_count":2,
			"protocol_version":"0.3.0"},"id":5}`, ""},
		{"methods", `{"jsonrpc":"2.0","method":"list_methods","id":6}`, 200, "", `"register_agent"`},
		{"unregister", `{"jsonrpc":"2.0","method":"unregister_agent","params":{"agent_id":"test-agent"},"id":7}`, 200,
			`{"jsonrpc":"2.0","result":{"success":true,"message":"Agent unregistered successfully","agent_id":"test-agent"},"id":7}`, ""},
		{"not found", `{"jsonrpc":"2.0","method":"get_agent","params":{"agent_id":"test-agent"},"id":8}`, 200,
			`{"jsonrpc":"2.0","error":{"code":-32001,"message":"Agent not found"},"id":8}`, ""},
		{"conflict", `{"jsonrpc":"2.0","method":"unregister_agent","params":{"agent_id":"from-file"},"id":9}`, 200, "",
			`"code":-32002`},
		{"invalid card", `{"jsonrpc":"2.0","method":"register_agent","params":{"agent_card":{"name":"x"}},"id":10}`, 200, "",
			`"code":-32602`},
		{"unknown param", `{"jsonrpc":"2.0","method":"get_agent","params":{"id":"x"},"id":11}`, 200, "", `"code":-32602`},
		{"unknown method", `{"jsonrpc":"2.0","method":"nope","id":12}`, 200, "", `"code":-32601`},
		{"invalid request", `{"jsonrpc":"1.0","method":"list_agents","id":13}`, 200, "", `"code":-32600`},
		{"parse error", `{`, 200, `{"jsonrpc":"2.0","error":{"code":-32700,"message":"Parse error: the body is not valid JSON"},"id":null}`, ""},
		{"batch", `[{"jsonrpc":"2.0","method":"health_check","id":"a"},{"jsonrpc":"2.0","method":"list_methods"}]`, 200, "",
			`"id":"a"}]`},
		{"notifications only", `{"jsonrpc":"2.0","method":"health_check"}`, 204, "", ""},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			r := e.rpc(s.body)
			if r.status != s.status {
				t.Fatalf("status %d, want %d; body %s", r.status, s.status, r.body)
			}
			if s.want != "" {
				wantJSONEqual(t, r.body, s.want)
			}
			if !strings.Contains(string(r.body), s.contains) {
				t.Errorf("body %s, want it to contain %s", r.body, s.contains)
			}
		})
	}
	for _, tt := range []struct {
		name, method, ctype, body string
		status                    int
	}{
		{"GET", "GET", "", "", 405},
		{"not JSON", "POST", "text/plain", "{}", 415},
		{"too large", "POST", "application/json", `{"x":"` + strings.Repeat("y", 9<<10) + `"}`, 413},
	} {
		t.Run(tt.name, func(t *testing.T) {
			small := newEnv(t, func(o *compat.Options) { o.MaxBodyBytes = 8 << 10 })
			r := small.do(tt.method, "/jsonrpc", tt.body, "Content-Type", tt.ctype)
			if r.status != tt.status || !strings.Contains(string(r.body), `"code":-32600`) {
				t.Fatalf("%s /jsonrpc = %d %s, want %d with -32600", tt.method, r.status, r.body, tt.status)
			}
		})
	}
}

// TestHealthNotReady checks /health before a replica is loaded.
func TestHealthNotReady(t *testing.T) {
	e := newEnv(t, func(o *compat.Options) { o.Ready = func() bool { return false } })
	if r := e.do("GET", "/health", ""); r.status != 503 || !strings.Contains(string(r.body), `"status":"unhealthy"`) {
		t.Fatalf("GET /health = %d %s, want 503 unhealthy", r.status, r.body)
	}
}

func TestOptionsValidate(t *testing.T) {
	reg, err := compat.NewReplicaRegistry(newEnv(t, nil).replica, newFakeWriter(nil), 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name    string
		opts    compat.Options
		wantErr bool
	}{
		{"valid", compat.Options{Registry: reg}, false},
		{"no registry", compat.Options{}, true},
		{"negative body", compat.Options{Registry: reg, MaxBodyBytes: -1}, true},
		{"negative results", compat.Options{Registry: reg, MaxResults: -1}, true},
		{"negative timeout", compat.Options{Registry: reg, Timeout: -1}, true},
	} {
		if err := tt.opts.Validate(); (err != nil) != tt.wantErr {
			t.Errorf("%s: Validate() = %v", tt.name, err)
		}
	}
	if _, err := compat.NewReplicaRegistry(nil, nil, 0); err == nil {
		t.Error("NewReplicaRegistry(nil, nil) succeeded")
	}
}
