package a2aregistry

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// FuzzDispatcher checks that any body gets nothing (notifications only) or
// a valid JSON-RPC 2.0 response: an object, or a non-empty array of them,
// each with a result or an error and an id.
func FuzzDispatcher(f *testing.F) {
	for _, seed := range []string{
		`{"jsonrpc":"2.0","method":"get_agent","params":{"agent_id":"x"},"id":1}`,
		`[{"jsonrpc":"2.0","method":"list_agents","id":"a"},{"jsonrpc":"2.0","method":"health_check"}]`,
		`{"jsonrpc":"2.0","method":"register_agent","params":[` + loadTestCard + `],"id":null}`,
		`{"jsonrpc":"2.0","method":"search_agents","params":{"query":"q","skills":["s"],"max_results":3},"id":-1.5e3}`,
		`[]`, `[1]`, `{`, `null`,
	} {
		f.Add([]byte(seed), true)
	}
	svc, err := NewService(failingRegistry{err: ErrNotFound}, ServiceOptions{})
	if err != nil {
		f.Fatal(err)
	}
	d := NewDispatcher(svc, nil)
	f.Fuzz(func(t *testing.T, body []byte, denied bool) {
		var access Access
		if denied {
			access = Access{Read: newError(KindUnauthenticated, "no token"), Write: newError(KindPermissionDenied, "read only")}
		}
		out := d.Serve(context.Background(), body, access)
		if out == nil {
			return
		}
		var responses []map[string]json.RawMessage
		if len(out) > 0 && out[0] == '[' {
			if err := json.Unmarshal(out, &responses); err != nil || len(responses) == 0 {
				t.Fatalf("batch response %s: %v", out, err)
			}
		} else {
			var one map[string]json.RawMessage
			if err := json.Unmarshal(out, &one); err != nil {
				t.Fatalf("response %s: %v", out, err)
			}
			responses = append(responses, one)
		}
		for _, r := range responses {
			_, isResult := r["result"]
			_, isError := r["error"]
			if string(r["jsonrpc"]) != `"2.0"` || isResult == isError || r["id"] == nil {
				t.Fatalf("not a JSON-RPC 2.0 response: %s (to %s)", out, body)
			}
		}
	})
}

// TestDispatcherAccess checks that Access gates each kind of method, and
// that a denied call answers with its kind's code and the method's name.
func TestDispatcherAccess(t *testing.T) {
	svc, err := NewService(failingRegistry{err: ErrNotFound}, ServiceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	d := NewDispatcher(svc, nil)
	unauthenticated := newError(KindUnauthenticated, "invalid bearer token")
	readOnly := newError(KindPermissionDenied, "the token has the scopes \"read\"")
	register := `{"jsonrpc":"2.0","method":"register_agent","params":[` + loadTestCard + `],"id":1}`
	get := `{"jsonrpc":"2.0","method":"get_agent","params":["x"],"id":1}`
	methods := `{"jsonrpc":"2.0","method":"list_methods","id":1}`
	tests := []struct {
		name   string
		access Access
		body   string
		want   string // a substring of the response
	}{
		{"a write denied", Access{Write: readOnly}, register,
			`"error":{"code":-32005,"message":"register_agent: the token has the scopes \"read\""}`},
		{"a write unauthenticated", Access{Write: unauthenticated}, register,
			`"error":{"code":-32003,"message":"register_agent: invalid bearer token"}`},
		{"a read with writes denied", Access{Write: readOnly}, get, `"code":-32001`},
		{"a read denied", Access{Read: unauthenticated}, get,
			`"error":{"code":-32003,"message":"get_agent: invalid bearer token"}`},
		{"list_methods is always allowed", Access{Read: unauthenticated, Write: unauthenticated}, methods, `"result":`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if out := string(d.Serve(context.Background(), []byte(tt.body), tt.access)); !strings.Contains(out, tt.want) {
				t.Fatalf("response %s, want it to contain %s", out, tt.want)
			}
		})
	}
	forbidden, err := NewService(failingRegistry{err: ErrForbidden}, ServiceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out := NewDispatcher(forbidden, nil).Serve(context.Background(),
		[]byte(`{"jsonrpc":"2.0","method":"unregister_agent","params":["x"],"id":1}`), Access{})
	if !strings.Contains(string(out), `"code":-32005`) {
		t.Fatalf("unregistering an agent another caller registered: %s, want -32005", out)
	}
}
