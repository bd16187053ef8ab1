package compat_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/sidecard/sidecard/controlplane/auth"
	"github.com/sidecard/sidecard/controlplane/compat"
)

// Tokens of the scope and ownership tests: a dashboard that only reads, two
// sidecars named after their nodes, and an admin.
const (
	readerToken = "compat-reader-token-0123456789"
	nodeAToken  = "compat-node-a-token-0123456789"
	nodeBToken  = "compat-node-b-token-0123456789"
	adminToken  = "compat-admin-token-0123456789"
)

// scopedTokens returns a Tokens getter for the tokens above.
func scopedTokens(t *testing.T) func() *auth.Tokens {
	t.Helper()
	tokens, err := auth.ParseTokens([]byte(readerToken + " dashboard read\n" + nodeAToken + " host-a write\n" +
		nodeBToken + " host-b\n" + adminToken + " ops admin\n"))
	if err != nil {
		t.Fatal(err)
	}
	return func() *auth.Tokens { return tokens }
}

// authStep is one request of TestCompatScopesAndOwnership, REST or JSON-RPC.
type authStep struct {
	name       string
	req        req
	wantStatus int
	want       string // a substring of the body
}

func bearerJSON(token string) map[string]string {
	h := map[string]string{"Content-Type": "application/json"}
	if token != "" {
		h["Authorization"] = "Bearer " + token
	}
	return h
}

func rpcReq(token, method, params string) req {
	return req{method: "POST", path: "/jsonrpc", header: bearerJSON(token),
		body: `{"jsonrpc":"2.0","method":"` + method + `","params":` + params + `,"id":1}`}
}

func runAuthSteps(t *testing.T, e *env, steps []authStep) {
	t.Helper()
	for _, s := range steps {
		rec := e.do(s.req)
		if rec.Code != s.wantStatus || !strings.Contains(rec.Body.String(), s.want) {
			t.Fatalf("%s: status %d, body %s; want %d with %s", s.name, rec.Code, rec.Body, s.wantStatus, s.want)
		}
	}
}

// TestCompatScopesAndOwnership checks that the compatible API follows the
// sidecard API's rules: scopes per operation, and only the token that
// registered an agent (or an admin) may register it again or unregister it.
func TestCompatScopesAndOwnership(t *testing.T) {
	e := newEnv(t, compat.Options{Tokens: scopedTokens(t)})
	register := func(token string) req {
		return req{method: "POST", path: "/agents", body: registerBody(weatherCard), header: bearerJSON(token)}
	}
	unregister := func(token string) req {
		return req{method: "DELETE", path: "/agents/weather", header: bearerJSON(token)}
	}
	runAuthSteps(t, e, []authStep{
		{"a read token cannot register", register(readerToken), 403, `the token of \"dashboard\" has the scopes \"read\"`},
		{"nor over JSON-RPC", rpcReq(readerToken, "register_agent", `[`+weatherCard+`]`), 200, `"code":-32005`},
		{"node A registers", register(nodeAToken), 201, `"agent_id":"weather"`},
		{"node B cannot register it again", register(nodeBToken), 403, "registered by another token"},
		{"nor over JSON-RPC", rpcReq(nodeBToken, "register_agent", `[`+weatherCard+`]`), 200, `"code":-32005`},
		{"node B cannot unregister it", unregister(nodeBToken), 403, "registered by another token"},
		{"nor over JSON-RPC", rpcReq(nodeBToken, "unregister_agent", `["weather"]`), 200, `"code":-32005`},
		{"node A registers it again", register(nodeAToken), 201, `"agent_id":"weather"`},
		{"reads are open", req{method: "GET", path: "/agents/weather"}, 200, `"agent_card"`},
		{"an admin unregisters it", unregister(adminToken), 200, `"success":true`},
		{"node B registers it now", rpcReq(nodeBToken, "register_agent", `[`+weatherCard+`]`), 200, `"result"`},
		{"and unregisters it", rpcReq(nodeBToken, "unregister_agent", `["weather"]`), 200, `"success":true`},
	})
	if _, err := e.store.Get("weather"); err == nil {
		t.Fatal("weather is still stored")
	}
}

// TestCompatRegisteredBy checks that a registration records the token's
// name, as a PUT /v1/agents does.
func TestCompatRegisteredBy(t *testing.T) {
	e := newEnv(t, compat.Options{Tokens: scopedTokens(t)})
	if rec := e.do(req{method: "POST", path: "/agents", body: registerBody(weatherCard), header: bearerJSON(nodeAToken)}); rec.Code != http.StatusCreated {
		t.Fatalf("register: status %d, body %s", rec.Code, rec.Body)
	}
	stored, err := e.store.Get("weather")
	if err != nil || stored.RegisteredBy != "host-a" {
		t.Fatalf("stored %+v, %v; want registered_by host-a", stored, err)
	}
}

// TestCompatRequireReadToken checks the reads of both transports with and
// without RequireReadToken.
func TestCompatRequireReadToken(t *testing.T) {
	required := true
	e := newEnv(t, compat.Options{Tokens: scopedTokens(t), RequireReadToken: func() bool { return required }})
	e.putEntry("weather", "api", weatherCard, nil)
	runAuthSteps(t, e, []authStep{
		{"get without a token", req{method: "GET", path: "/agents/weather"}, 401, "missing Authorization"},
		{"list without a token", req{method: "GET", path: "/agents"}, 401, "missing Authorization"},
		{"search without a token", req{method: "POST", path: "/agents/search", body: `{}`}, 401, "missing Authorization"},
		{"get_agent without a token", rpcReq("", "get_agent", `["weather"]`), 200, `"code":-32003`},
		{"search_agents without a token", rpcReq("", "search_agents", `{}`), 200, `"code":-32003`},
		{"health stays open", req{method: "GET", path: "/health"}, 200, `"healthy"`},
		{"health_check stays open", rpcReq("", "health_check", `{}`), 200, `"result"`},
		{"get with a read token", req{method: "GET", path: "/agents/weather", header: bearerJSON(readerToken)}, 200, `"agent_card"`},
		{"list_agents with a read token", rpcReq(readerToken, "list_agents", `{}`), 200, `"count":1`},
		{"get with a write token", req{method: "GET", path: "/agents/weather", header: bearerJSON(nodeBToken)}, 200, `"agent_card"`},
	})
	required = false
	runAuthSteps(t, e, []authStep{
		{"get without a token once not required", req{method: "GET", path: "/agents/weather"}, 200, `"agent_card"`},
		{"get_agent without a token once not required", rpcReq("", "get_agent", `["weather"]`), 200, `"found":true`},
	})
}
