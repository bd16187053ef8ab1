package compat_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/sidecard/sidecard/controlplane/compat"
	"github.com/sidecard/sidecard/registry"
)

// TestREST drives the REST surface through a registration's life, with the
// exact bodies A2A Registry clients read.
func TestREST(t *testing.T) {
	e := newEnv(t, compat.Options{})
	steps := []struct {
		name       string
		req        req
		wantStatus int
		wantBody   string
	}{
		{
			name:       "health of an empty registry",
			req:        req{method: "GET", path: "/health"},
			wantStatus: 200,
			wantBody:   `{"status":"healthy","service":"A2A Registry","agents_count":0,"protocol_version":"0.3.0"}`,
		},
		{
			name:       "empty list",
			req:        req{method: "GET", path: "/agents"},
			wantStatus: 200,
			wantBody:   `{"agents":[],"count":0}`,
		},
		{
			name:       "register the load-test card (snake_case, defaults filled in)",
			req:        req{method: "POST", path: "/agents", body: registerBody(loadTestCard), header: jsonHeader},
			wantStatus: 201,
			wantBody: `{"success":true,"agent_id":"test-agent","message":"Agent registered successfully",
				"defaulted_fields":["card.skills[0].name","card.skills[0].tags","card.capabilities",
				"card.default_input_modes","card.default_output_modes"]}`,
		},
		{
			name:       "register again: replaced, still 201",
			req:        req{method: "POST", path: "/agents", body: registerBody(loadTestCard)},
			wantStatus: 201,
			wantBody: `{"success":true,"agent_id":"test-agent","message":"Agent registered successfully",
				"defaulted_fields":["card.skills[0].name","card.skills[0].tags","card.capabilities",
				"card.default_input_modes","card.default_output_modes"]}`,
		},
		{
			name:       "register a complete camelCase card",
			req:        req{method: "POST", path: "/agents", body: registerBody(weatherCard), header: jsonHeader},
			wantStatus: 201,
			wantBody:   `{"success":true,"agent_id":"weather","message":"Agent registered successfully"}`,
		},
		{
			name:       "get answers in the form registered: snake_case",
			req:        req{method: "GET", path: "/agents/test-agent"},
			wantStatus: 200,
			wantBody:   `{"agent_card":` + loadTestCardStored + `}`,
		},
		{
			name:       "get by the card's name",
			req:        req{method: "GET", path: "/agents/" + url.PathEscape("Test Agent")},
			wantStatus: 200,
			wantBody:   `{"agent_card":` + loadTestCardStored + `}`,
		},
		{
			name:       "get answers in the form registered: camelCase",
			req:        req{method: "GET", path: "/agents/weather"},
			wantStatus: 200,
			wantBody:   `{"agent_card":` + weatherCard + `}`,
		},
		{
			name:       "list in name order",
			req:        req{method: "GET", path: "/agents"},
			wantStatus: 200,
			wantBody:   `{"agents":[` + loadTestCardStored + `,` + weatherCard + `],"count":2}`,
		},
		{
			name:       "search by query",
			req:        req{method: "POST", path: "/agents/search", body: `{"query":"FORECAST"}`, header: jsonHeader},
			wantStatus: 200,
			wantBody:   `{"agents":[` + weatherCard + `],"count":1,"query":"FORECAST"}`,
		},
		{
			name:       "search by skills, any of them",
			req:        req{method: "POST", path: "/agents/search", body: `{"query":"","skills":["test","forecast","none"]}`},
			wantStatus: 200,
			wantBody: `{"agents":[` + loadTestCardStored + `,` + weatherCard + `],"count":2,"query":"",
				"skills_filter":["test","forecast","none"]}`,
		},
		{
			name:       "search by query and skill",
			req:        req{method: "POST", path: "/agents/search", body: `{"query":"weather","skills":["test"]}`},
			wantStatus: 200,
			wantBody:   `{"agents":[],"count":0,"query":"weather","skills_filter":["test"]}`,
		},
		{
			name:       "search with max_results",
			req:        req{method: "POST", path: "/agents/search", body: `{"query":"","max_results":1}`},
			wantStatus: 200,
			wantBody:   `{"agents":[` + loadTestCardStored + `],"count":1,"query":""}`,
		},
		{
			name:       "health counts the agents",
			req:        req{method: "GET", path: "/health"},
			wantStatus: 200,
			wantBody:   `{"status":"healthy","service":"A2A Registry","agents_count":2,"protocol_version":"0.3.0"}`,
		},
		{
			name:       "unregister",
			req:        req{method: "DELETE", path: "/agents/test-agent"},
			wantStatus: 200,
			wantBody:   `{"success":true,"message":"Agent unregistered successfully","agent_id":"test-agent"}`,
		},
		{
			name:       "get after unregister",
			req:        req{method: "GET", path: "/agents/test-agent"},
			wantStatus: 404,
			wantBody:   `{"detail":"Agent not found"}`,
		},
		{
			name:       "unregister again",
			req:        req{method: "DELETE", path: "/agents/test-agent"},
			wantStatus: 404,
			wantBody:   `{"detail":"Agent not found"}`,
		},
		{
			name:       "list after unregister",
			req:        req{method: "GET", path: "/agents"},
			wantStatus: 200,
			wantBody:   `{"agents":[` + weatherCard + `],"count":1}`,
		},
	}
	for _, step := range steps {
		rec := e.do(step.req)
		if rec.Code != step.wantStatus {
			t.Fatalf("%s: status %d, want %d; body %s", step.name, rec.Code, step.wantStatus, rec.Body)
		}
		if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
			t.Fatalf("%s: Content-Type %q", step.name, ct)
		}
		wantJSONEqual(t, rec.Body.Bytes(), step.wantBody)
	}
}

// TestRESTErrors checks every error status of the REST surface and its
// {"detail": ...} body.
func TestRESTErrors(t *testing.T) {
	e := newEnv(t, compat.Options{MaxBodyBytes: 4096})
	e.putEntry("from-file", registry.SourceFile, weatherCard, nil)
	noProtocol := `{"name":"N","description":"d","url":"http://n:1","version":"1"}`
	tests := []struct {
		name       string
		req        req
		wantStatus int
		wantDetail string // a substring of the detail
		wantHeader [2]string
	}{
		{"card without protocol_version",
			req{method: "POST", path: "/agents", body: registerBody(`{"name":"N","description":"d","url":"http://n:1","version":"1","default_input_modes":[]}`)},
			400, "card.protocol_version: required", [2]string{}},
		{"camelCase card without protocolVersion", req{method: "POST", path: "/agents", body: registerBody(noProtocol)},
			400, "card.protocolVersion: required", [2]string{}},
		{"card with a relative url",
			req{method: "POST", path: "/agents", body: registerBody(`{"name":"N","description":"d","url":"/x","version":"1","protocol_version":"0.3.0"}`)},
			400, "card.url", [2]string{}},
		{"card name without letters or digits",
			req{method: "POST", path: "/agents", body: registerBody(`{"name":"***","description":"d","url":"http://n:1","version":"1","protocol_version":"0.3.0"}`)},
			400, "cannot derive an agent id", [2]string{}},
		{"agent_card missing", req{method: "POST", path: "/agents", body: `{"card":{}}`}, 422, "agent_card", [2]string{}},
		{"agent_card not an object", req{method: "POST", path: "/agents", body: `{"agent_card":"x"}`}, 422, "agent_card", [2]string{}},
		{"body not JSON", req{method: "POST", path: "/agents", body: `{"agent_card":`}, 422, "invalid request body", [2]string{}},
		{"body an array", req{method: "POST", path: "/agents", body: `[]`}, 422, "invalid request body", [2]string{}},
		{"body too large", req{method: "POST", path: "/agents", body: registerBody(`{"name":"` + strings.Repeat("n", 5000) + `"}`)},
			413, "larger than 4096 bytes", [2]string{}},
		{"not JSON content", req{method: "POST", path: "/agents", body: registerBody(weatherCard),
			header: map[string]string{"Content-Type": "text/plain"}}, 415, "Content-Type must be application/json", [2]string{}},
		{"search query not a string", req{method: "POST", path: "/agents/search", body: `{"query":5}`}, 422, "query", [2]string{}},
		{"search negative max_results", req{method: "POST", path: "/agents/search", body: `{"max_results":-1}`}, 422, "max_results", [2]string{}},
		{"search too many skills", req{method: "POST", path: "/agents/search", body: `{"skills":["a","b","c","d","e","f","g","h","i","j","k","l","m","n","o","p","q"]}`},
			422, "skills", [2]string{}},
		{"register over a file-owned agent", req{method: "POST", path: "/agents",
			body: registerBody(`{"name":"From File","description":"d","url":"http://n:1","version":"1","protocol_version":"0.3.0"}`)},
			409, "owned by another source", [2]string{}},
		{"unregister a file-owned agent", req{method: "DELETE", path: "/agents/from-file"}, 409, "owned by another source", [2]string{}},
		{"get an id nothing derives from", req{method: "GET", path: "/agents/---"}, 404, "Agent not found", [2]string{}},
		{"unknown path", req{method: "GET", path: "/agents/a/b"}, 404, "Not Found", [2]string{}},
		{"PUT /agents", req{method: "PUT", path: "/agents"}, 405, "Method Not Allowed", [2]string{"Allow", "GET, HEAD, POST"}},
		{"PATCH /agents/{id}", req{method: "PATCH", path: "/agents/x"}, 405, "Method Not Allowed", [2]string{"Allow", "GET, HEAD, DELETE"}},
		{"PUT /agents/search", req{method: "PUT", path: "/agents/search"}, 405, "Method Not Allowed", [2]string{"Allow", "GET, HEAD, POST, DELETE"}},
		{"POST /health", req{method: "POST", path: "/health"}, 405, "Method Not Allowed", [2]string{"Allow", "GET, HEAD"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := e.do(tt.req)
			if rec.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d; body %s", rec.Code, tt.wantStatus, rec.Body)
			}
			var body struct{ Detail string }
			if err := jsonUnmarshalStrict(rec.Body.Bytes(), &body); err != nil {
				t.Fatalf("body %s: %v", rec.Body, err)
			}
			if !strings.Contains(body.Detail, tt.wantDetail) {
				t.Errorf("detail %q, want it to contain %q", body.Detail, tt.wantDetail)
			}
			if k := tt.wantHeader[0]; k != "" && rec.Header().Get(k) != tt.wantHeader[1] {
				t.Errorf("%s: %q, want %q", k, rec.Header().Get(k), tt.wantHeader[1])
			}
		})
	}
	if _, err := e.store.Get("from-file"); err != nil {
		t.Errorf("the file-owned entry was touched: %v", err)
	}
}

// TestRESTAuth checks that writes need a configured token and reads do not.
func TestRESTAuth(t *testing.T) {
	e := newEnv(t, compat.Options{Tokens: testTokens(t)})
	bearer := map[string]string{"Authorization": "Bearer " + testToken}
	tests := []struct {
		name       string
		req        req
		wantStatus int
		wantDetail string
	}{
		{"register without a token", req{method: "POST", path: "/agents", body: registerBody(weatherCard)}, 401, "missing Authorization"},
		{"register with a wrong token", req{method: "POST", path: "/agents", body: registerBody(weatherCard),
			header: map[string]string{"Authorization": "Bearer wrong-token-0123456789"}}, 401, "invalid bearer token"},
		{"register with the token", req{method: "POST", path: "/agents", body: registerBody(weatherCard), header: bearer}, 201, ""},
		{"get without a token", req{method: "GET", path: "/agents/weather"}, 200, ""},
		{"search without a token", req{method: "POST", path: "/agents/search", body: `{}`}, 200, ""},
		{"unregister without a token", req{method: "DELETE", path: "/agents/weather"}, 401, "missing Authorization"},
		{"unregister with the token", req{method: "DELETE", path: "/agents/weather", header: bearer}, 200, ""},
	}
	for _, tt := range tests {
		rec := e.do(tt.req)
		if rec.Code != tt.wantStatus {
			t.Fatalf("%s: status %d, want %d; body %s", tt.name, rec.Code, tt.wantStatus, rec.Body)
		}
		if tt.wantStatus == http.StatusUnauthorized {
			if got := rec.Header().Get("WWW-Authenticate"); got != "Bearer" {
				t.Errorf("%s: WWW-Authenticate %q", tt.name, got)
			}
			if !strings.Contains(rec.Body.String(), tt.wantDetail) {
				t.Errorf("%s: body %s, want %q", tt.name, rec.Body, tt.wantDetail)
			}
		}
	}
}

// TestRESTHealthNotReady checks /health before the control plane is ready.
func TestRESTHealthNotReady(t *testing.T) {
	e := newEnv(t, compat.Options{Ready: func() bool { return false }})
	rec := e.do(req{method: "GET", path: "/health"})
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want 503", rec.Code)
	}
	wantJSONEqual(t, rec.Body.Bytes(),
		`{"status":"unhealthy","service":"A2A Registry","agents_count":0,"protocol_version":"0.3.0"}`)
	head := e.do(req{method: "HEAD", path: "/health"})
	if head.Code != http.StatusServiceUnavailable || head.Body.Len() != 0 {
		t.Errorf("HEAD: status %d, body %q; want 503 without a body", head.Code, head.Body)
	}
}
