package compat_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/sidecard/sidecard/controlplane/compat"
	"github.com/sidecard/sidecard/internal/a2aregistry"
	"github.com/sidecard/sidecard/registry"
)

// TestJSONRPC drives every method and every error code through POST
// /jsonrpc, in order, with the exact responses.
func TestJSONRPC(t *testing.T) {
	e := newEnv(t, compat.Options{})
	e.putEntry("from-file", registry.SourceFile, weatherCard, nil)
	steps := []struct {
		name       string
		body       string
		wantStatus int
		wantBody   string // "" for no body
	}{
		{
			name:       "register_agent in snake_case",
			body:       `{"jsonrpc":"2.0","method":"register_agent","params":{"agent_card":` + loadTestCard + `},"id":1}`,
			wantStatus: 200,
			wantBody: `{"jsonrpc":"2.0","result":{"success":true,"agent_id":"test-agent",
				"message":"Agent registered successfully","defaulted_fields":["card.skills[0].name",
				"card.skills[0].tags","card.capabilities","card.default_input_modes","card.default_output_modes"],
				"transport":"JSONRPC"},"id":1}`,
		},
		{
			name:       "get_agent by name",
			body:       `{"jsonrpc":"2.0","method":"get_agent","params":{"agent_id":"test-agent"},"id":"a"}`,
			wantStatus: 200,
			wantBody:   `{"jsonrpc":"2.0","result":{"agent_card":` + loadTestCardStored + `,"found":true},"id":"a"}`,
		},
		{
			name:       "get_agent by position",
			body:       `{"jsonrpc":"2.0","method":"get_agent","params":["Test Agent"],"id":2}`,
			wantStatus: 200,
			wantBody:   `{"jsonrpc":"2.0","result":{"agent_card":` + loadTestCardStored + `,"found":true},"id":2}`,
		},
		{
			name:       "list_agents",
			body:       `{"jsonrpc":"2.0","method":"list_agents","id":3}`,
			wantStatus: 200,
			wantBody: `{"jsonrpc":"2.0","result":{"agents":[` + weatherCard + `,` + loadTestCardStored + `],
				"count":2,"transport":"JSONRPC"},"id":3}`,
		},
		{
			name:       "search_agents with skills",
			body:       `{"jsonrpc":"2.0","method":"search_agents","params":{"query":"test","skills":["TEST"],"max_results":5},"id":4}`,
			wantStatus: 200,
			wantBody: `{"jsonrpc":"2.0","result":{"agents":[` + loadTestCardStored + `],"count":1,"query":"test",
				"skills_filter":["TEST"],"transport":"JSONRPC"},"id":4}`,
		},
		{
			name:       "search_agents without params",
			body:       `{"jsonrpc":"2.0","method":"search_agents","id":5}`,
			wantStatus: 200,
			wantBody: `{"jsonrpc":"2.0","result":{"agents":[` + weatherCard + `,` + loadTestCardStored + `],"count":2,
				"query":"","transport":"JSONRPC"},"id":5}`,
		},
		{
			name:       "health_check",
			body:       `{"jsonrpc":"2.0","method":"health_check","id":null}`,
			wantStatus: 200,
			wantBody: `{"jsonrpc":"2.0","result":{"status":"healthy","service":"A2A Registry","transport":"JSONRPC",
				"agents_count":2,"protocol_version":"0.3.0"},"id":null}`,
		},
		{
			name:       "list_methods",
			body:       `{"jsonrpc":"2.0","method":"list_methods","params":{},"id":6}`,
			wantStatus: 200,
			wantBody: `{"jsonrpc":"2.0","result":{"methods":["get_agent","health_check","list_agents","list_methods",
				"register_agent","search_agents","unregister_agent"]},"id":6}`,
		},
		{
			name:       "unregister_agent",
			body:       `{"jsonrpc":"2.0","method":"unregister_agent","params":{"agent_id":"test-agent"},"id":7}`,
			wantStatus: 200,
			wantBody: `{"jsonrpc":"2.0","result":{"success":true,"message":"Agent unregistered successfully",
				"agent_id":"test-agent"},"id":7}`,
		},
		{
			name:       "-32001 get_agent of an unknown agent",
			body:       `{"jsonrpc":"2.0","method":"get_agent","params":{"agent_id":"test-agent"},"id":8}`,
			wantStatus: 200,
			wantBody:   `{"jsonrpc":"2.0","error":{"code":-32001,"message":"Agent not found"},"id":8}`,
		},
		{
			name:       "-32001 unregister_agent of an unknown agent",
			body:       `{"jsonrpc":"2.0","method":"unregister_agent","params":["test-agent"],"id":9}`,
			wantStatus: 200,
			wantBody:   `{"jsonrpc":"2.0","error":{"code":-32001,"message":"Agent not found"},"id":9}`,
		},
		{
			name:       "-32002 unregister_agent of a file-owned agent",
			body:       `{"jsonrpc":"2.0","method":"unregister_agent","params":{"agent_id":"from-file"},"id":10}`,
			wantStatus: 200,
			wantBody: `{"jsonrpc":"2.0","error":{"code":-32002,"message":"Agent is owned by another source ` +
				`(a registry file) and cannot be changed through this API"},"id":10}`,
		},
		{
			name:       "-32602 invalid card, field in the card's form",
			body:       `{"jsonrpc":"2.0","method":"register_agent","params":{"agent_card":{"name":"N","description":"d","url":"http://n:1","version":"1","default_input_modes":[]}},"id":11}`,
			wantStatus: 200,
			wantBody: `{"jsonrpc":"2.0","error":{"code":-32602,"message":"card.protocol_version: required",
				"data":{"field":"card.protocol_version"}},"id":11}`,
		},
		{
			name:       "-32602 missing param",
			body:       `{"jsonrpc":"2.0","method":"register_agent","params":{},"id":12}`,
			wantStatus: 200,
			wantBody: `{"jsonrpc":"2.0","error":{"code":-32602,"message":"Invalid params: agent_card is required",
				"data":{"field":"agent_card"}},"id":12}`,
		},
		{
			name:       "-32602 unknown param",
			body:       `{"jsonrpc":"2.0","method":"get_agent","params":{"agent_id":"x","verbose":true},"id":13}`,
			wantStatus: 200,
			wantBody: `{"jsonrpc":"2.0","error":{"code":-32602,"message":"Invalid params: unexpected parameter ` +
				`\"verbose\"; the method takes agent_id","data":{"field":"verbose"}},"id":13}`,
		},
		{
			name:       "-32602 param of the wrong type",
			body:       `{"jsonrpc":"2.0","method":"get_agent","params":{"agent_id":5},"id":14}`,
			wantStatus: 200,
			wantBody: `{"jsonrpc":"2.0","error":{"code":-32602,"message":"Invalid params: agent_id must be a string, ` +
				`not number"},"id":14}`,
		},
		{
			name:       "-32602 too many positional params",
			body:       `{"jsonrpc":"2.0","method":"list_agents","params":[1],"id":15}`,
			wantStatus: 200,
			wantBody: `{"jsonrpc":"2.0","error":{"code":-32602,"message":"Invalid params: at most 0 positional ` +
				`params ()"},"id":15}`,
		},
		{
			name:       "-32601 unknown method",
			body:       `{"jsonrpc":"2.0","method":"get_agent_card","id":16}`,
			wantStatus: 200,
			wantBody:   `{"jsonrpc":"2.0","error":{"code":-32601,"message":"Method not found: \"get_agent_card\""},"id":16}`,
		},
		{
			name:       "-32700 parse error",
			body:       `{"jsonrpc":"2.0","method":`,
			wantStatus: 200,
			wantBody:   `{"jsonrpc":"2.0","error":{"code":-32700,"message":"Parse error: the body is not valid JSON"},"id":null}`,
		},
		{
			name:       "-32600 wrong version",
			body:       `{"jsonrpc":"1.0","method":"list_agents","id":17}`,
			wantStatus: 200,
			wantBody:   `{"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request: jsonrpc must be \"2.0\""},"id":17}`,
		},
		{
			name:       "-32600 method not a string",
			body:       `{"jsonrpc":"2.0","method":1,"id":18}`,
			wantStatus: 200,
			wantBody:   `{"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request: method must be a string"},"id":18}`,
		},
		{
			name:       "-32600 params not structured",
			body:       `{"jsonrpc":"2.0","method":"get_agent","params":"x","id":19}`,
			wantStatus: 200,
			wantBody: `{"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request: params must be an object ` +
				`or an array"},"id":19}`,
		},
		{
			name:       "-32600 id of the wrong type",
			body:       `{"jsonrpc":"2.0","method":"list_agents","id":{}}`,
			wantStatus: 200,
			wantBody: `{"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request: id must be a string, ` +
				`a number or null"},"id":null}`,
		},
		{
			name:       "-32600 not an object",
			body:       `"list_agents"`,
			wantStatus: 200,
			wantBody:   `{"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request: a request must be a JSON object"},"id":null}`,
		},
		{
			name:       "-32600 empty batch",
			body:       `[]`,
			wantStatus: 200,
			wantBody: `{"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request: a batch must hold 1 to ` +
				`100 calls"},"id":null}`,
		},
		{
			name:       "notification: run, not answered",
			body:       `{"jsonrpc":"2.0","method":"register_agent","params":{"agent_card":` + loadTestCard + `}}`,
			wantStatus: 204,
		},
		{
			name:       "notification of an unknown method",
			body:       `{"jsonrpc":"2.0","method":"nope"}`,
			wantStatus: 204,
		},
		{
			name:       "the notification registered",
			body:       `{"jsonrpc":"2.0","method":"get_agent","params":{"agent_id":"test-agent"},"id":20}`,
			wantStatus: 200,
			wantBody:   `{"jsonrpc":"2.0","result":{"agent_card":` + loadTestCardStored + `,"found":true},"id":20}`,
		},
		{
			name: "batch: answers in order, notifications left out",
			body: `[{"jsonrpc":"2.0","method":"health_check","id":"h"},
				{"jsonrpc":"2.0","method":"unregister_agent","params":{"agent_id":"test-agent"}},
				1,
				{"jsonrpc":"2.0","method":"get_agent","params":{"agent_id":"test-agent"},"id":"g"}]`,
			wantStatus: 200,
			wantBody: `[{"jsonrpc":"2.0","result":{"status":"healthy","service":"A2A Registry","transport":"JSONRPC",
				"agents_count":2,"protocol_version":"0.3.0"},"id":"h"},
				{"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request: a request must be a JSON object"},"id":null},
				{"jsonrpc":"2.0","error":{"code":-32001,"message":"Agent not found"},"id":"g"}]`,
		},
		{
			name:       "batch of notifications only",
			body:       `[{"jsonrpc":"2.0","method":"list_agents"},{"jsonrpc":"2.0","method":"health_check","params":[]}]`,
			wantStatus: 204,
		},
	}
	for _, step := range steps {
		rec := e.rpc(step.body)
		if rec.Code != step.wantStatus {
			t.Fatalf("%s: status %d, want %d; body %s", step.name, rec.Code, step.wantStatus, rec.Body)
		}
		if step.wantBody == "" {
			if rec.Body.Len() != 0 {
				t.Fatalf("%s: body %s, want none", step.name, rec.Body)
			}
			continue
		}
		wantJSONEqual(t, rec.Body.Bytes(), step.wantBody)
	}
}

// TestJSONRPCTransport checks the HTTP side of /jsonrpc: authentication of
// write methods, oversized and non-JSON bodies, oversized batches and other
// HTTP methods.
func TestJSONRPCTransport(t *testing.T) {
	e := newEnv(t, compat.Options{Tokens: testTokens(t), MaxBodyBytes: 8192})
	register := `{"jsonrpc":"2.0","method":"register_agent","params":{"agent_card":` + weatherCard + `},"id":1}`
	tooLarge := `{"jsonrpc":"2.0","method":"search_agents","params":{"query":"` + strings.Repeat("q", 8192) + `"},"id":3}`
	tests := []struct {
		name       string
		req        req
		wantStatus int
		wantBody   string
	}{
		{"-32003 write without a token", req{method: "POST", path: "/jsonrpc", body: register}, 200,
			`{"jsonrpc":"2.0","error":{"code":-32003,"message":"register_agent: missing Authorization header; want \"Bearer <token>\""},"id":1}`},
		{"write with the token", req{method: "POST", path: "/jsonrpc", body: register,
			header: map[string]string{"Authorization": "Bearer " + testToken}}, 200,
			`{"jsonrpc":"2.0","result":{"success":true,"agent_id":"weather","message":"Agent registered successfully",` +
				`"transport":"JSONRPC"},"id":1}`},
		{"read without a token", req{method: "POST", path: "/jsonrpc",
			body: `{"jsonrpc":"2.0","method":"get_agent","params":["weather"],"id":2}`}, 200,
			`{"jsonrpc":"2.0","result":{"agent_card":` + weatherCard + `,"found":true},"id":2}`},
		{"body over the limit", req{method: "POST", path: "/jsonrpc", body: tooLarge}, 413,
			`{"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request: request body is larger than 8192 bytes"},"id":null}`},
		{"not JSON content", req{method: "POST", path: "/jsonrpc", body: register,
			header: map[string]string{"Content-Type": "text/plain"}}, 415,
			`{"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request: Content-Type must be application/json, ` +
				`got \"text/plain\""},"id":null}`},
		{"GET", req{method: "GET", path: "/jsonrpc"}, 405,
			`{"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request: use POST with a JSON-RPC 2.0 request ` +
				`or batch"},"id":null}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := e.do(tt.req)
			if rec.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d; body %s", rec.Code, tt.wantStatus, rec.Body)
			}
			wantJSONEqual(t, rec.Body.Bytes(), tt.wantBody)
		})
	}
}

// TestJSONRPCBatchLimit checks that a batch of more than DefaultMaxBatch
// calls is refused as a whole.
func TestJSONRPCBatchLimit(t *testing.T) {
	e := newEnv(t, compat.Options{})
	call := `{"jsonrpc":"2.0","method":"list_methods","id":1}`
	full := "[" + strings.Repeat(call+",", a2aregistry.DefaultMaxBatch-1) + call + "]"
	if rec := e.rpc(full); rec.Code != http.StatusOK || strings.Count(rec.Body.String(), `"result"`) != a2aregistry.DefaultMaxBatch {
		t.Fatalf("a full batch: status %d, body %.200s", rec.Code, rec.Body)
	}
	over := "[" + strings.Repeat(call+",", a2aregistry.DefaultMaxBatch) + call + "]"
	rec := e.rpc(over)
	wantJSONEqual(t, rec.Body.Bytes(), `{"jsonrpc":"2.0","error":{"code":-32600,`+
		`"message":"Invalid Request: a batch must hold 1 to 100 calls"},"id":null}`)
}

// TestJSONRPCMethodsServed checks that every name list_methods reports is
// a method the dispatcher serves.
func TestJSONRPCMethodsServed(t *testing.T) {
	e := newEnv(t, compat.Options{})
	for _, name := range a2aregistry.MethodNames() {
		rec := e.rpc(`{"jsonrpc":"2.0","method":"` + name + `","id":1}`)
		if strings.Contains(rec.Body.String(), `"code":-32601`) {
			t.Errorf("%s is listed but not served: %s", name, rec.Body)
		}
	}
}
