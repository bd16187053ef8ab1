package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/sidecard/sidecard/controlplane/auth"
	"github.com/sidecard/sidecard/controlplane/store"
	"github.com/sidecard/sidecard/registry"
)

// Tokens of the scope and ownership tests: a dashboard that only reads, two
// sidecars named after their nodes (host-a with the default scope), and an
// admin.
const (
	readerToken = "reader-token-0123456789"
	nodeAToken  = "node-a-token-0123456789"
	nodeBToken  = "node-b-token-0123456789"
	adminToken  = "admin-token-0123456789"
	scopedFile  = readerToken + " dashboard read\n" + nodeAToken + " host-a\n" +
		nodeBToken + " host-b write\n" + adminToken + " ops admin\n"
)

// scopedTokens returns a tokens func for scopedFile.
func scopedTokens(t *testing.T) func() *auth.Tokens {
	t.Helper()
	tokens, err := auth.ParseTokens([]byte(scopedFile))
	if err != nil {
		t.Fatal(err)
	}
	return func() *auth.Tokens { return tokens }
}

// bearer returns the headers of a JSON request with token.
func bearer(token string) map[string]string {
	return withHeader("Authorization", "Bearer "+token)
}

// registeredBy returns a check that the entry named name is registered by
// owner in the store ("-": that it is gone).
func registeredBy(name, owner string) func(*testing.T, *fakeStore) {
	return func(t *testing.T, st *fakeStore) {
		t.Helper()
		e, err := st.Get(name)
		switch {
		case owner == "-":
			if err == nil {
				t.Errorf("%s is still stored", name)
			}
		case err != nil:
			t.Errorf("Get(%s): %v", name, err)
		case e.RegisteredBy != owner:
			t.Errorf("%s is registered by %q, want %q", name, e.RegisteredBy, owner)
		}
	}
}

// TestScopesAndOwnership runs requests with the tokens of scopedFile
// against "weather", registered by host-a with a lease, and "legacy",
// registered by nobody.
func TestScopesAndOwnership(t *testing.T) {
	put := func(name, token string) req {
		return req{method: "PUT", path: "/v1/agents/" + name, body: fmt.Sprintf(
			`{"ttl_seconds": 30, "card": %s}`, cardJSON(name, "forecast", "rain")), header: bearer(token)}
	}
	del := func(token string) req {
		return req{method: "DELETE", path: "/v1/agents/weather", header: bearer(token)}
	}
	heartbeat := func(token string) req {
		return req{method: "POST", path: "/v1/agents/weather/heartbeat", header: bearer(token)}
	}
	get := func(path, token string) req {
		r := req{method: "GET", path: path}
		if token != "" {
			r.header = bearer(token)
		}
		return r
	}
	tests := []struct {
		name        string
		requireRead bool
		noTokens    bool
		req         req
		wantStatus  int
		wantCode    string // error code; "" for a success
		noWrite     bool
		check       func(*testing.T, *fakeStore)
	}{
		// Scopes.
		{name: "a read token cannot put", req: put("new", readerToken),
			wantStatus: http.StatusForbidden, wantCode: codePermissionDenied, noWrite: true},
		{name: "a read token cannot delete", req: del(readerToken),
			wantStatus: http.StatusForbidden, wantCode: codePermissionDenied, noWrite: true},
		{name: "a read token cannot renew", req: heartbeat(readerToken),
			wantStatus: http.StatusForbidden, wantCode: codePermissionDenied, noWrite: true},
		{name: "a write token registers", req: put("new", nodeBToken), wantStatus: http.StatusCreated,
			check: registeredBy("new", "host-b")},
		{name: "a token without scopes writes", req: put("new", nodeAToken), wantStatus: http.StatusCreated,
			check: registeredBy("new", "host-a")},
		{name: "an admin registers in its own name", req: put("new", adminToken), wantStatus: http.StatusCreated,
			check: registeredBy("new", "ops")},
		{name: "an unknown token is unauthenticated, not denied", req: put("new", "unknown-token-0123456789"),
			wantStatus: http.StatusUnauthorized, wantCode: codeUnauthenticated, noWrite: true},
		// Ownership.
		{name: "the registrant updates", req: put("weather", nodeAToken), wantStatus: http.StatusOK,
			check: registeredBy("weather", "host-a")},
		{name: "the registrant renews", req: heartbeat(nodeAToken), wantStatus: http.StatusOK},
		{name: "the registrant deletes", req: del(nodeAToken), wantStatus: http.StatusNoContent,
			check: registeredBy("weather", "-")},
		{name: "another node cannot update", req: put("weather", nodeBToken),
			wantStatus: http.StatusForbidden, wantCode: codePermissionDenied, check: registeredBy("weather", "host-a")},
		{name: "another node cannot renew", req: heartbeat(nodeBToken),
			wantStatus: http.StatusForbidden, wantCode: codePermissionDenied},
		{name: "another node cannot delete", req: del(nodeBToken),
			wantStatus: http.StatusForbidden, wantCode: codePermissionDenied, check: registeredBy("weather", "host-a")},
		{name: "an admin updates and the entry stays the node's", req: put("weather", adminToken),
			wantStatus: http.StatusOK, check: registeredBy("weather", "host-a")},
		{name: "an admin renews", req: heartbeat(adminToken), wantStatus: http.StatusOK},
		{name: "an admin deletes", req: del(adminToken), wantStatus: http.StatusNoContent,
			check: registeredBy("weather", "-")},
		{name: "any writer takes an unowned entry", req: put("legacy", nodeBToken), wantStatus: http.StatusOK,
			check: registeredBy("legacy", "host-b")},
		{name: "without tokens anyone changes any entry", noTokens: true,
			req: req{method: "DELETE", path: "/v1/agents/weather"}, wantStatus: http.StatusNoContent},
		// Reads.
		{name: "reads are open by default", req: get("/v1/agents/weather", ""), wantStatus: http.StatusOK},
		{name: "a read needs a token when required", requireRead: true, req: get("/v1/agents/weather", ""),
			wantStatus: http.StatusUnauthorized, wantCode: codeUnauthenticated},
		{name: "a listing needs a token when required", requireRead: true, req: get("/v1/agents", ""),
			wantStatus: http.StatusUnauthorized, wantCode: codeUnauthenticated},
		{name: "sources need a token when required", requireRead: true, req: get("/v1/sources", ""),
			wantStatus: http.StatusUnauthorized, wantCode: codeUnauthenticated},
		{name: "sidecars need a token when required", requireRead: true, req: get("/v1/sidecars", ""),
			wantStatus: http.StatusUnauthorized, wantCode: codeUnauthenticated},
		{name: "a read token reads", requireRead: true, req: get("/v1/agents/weather", readerToken), wantStatus: http.StatusOK},
		{name: "a write token reads", requireRead: true, req: get("/v1/agents", nodeBToken), wantStatus: http.StatusOK},
		{name: "health stays open", requireRead: true, req: get("/healthz", ""), wantStatus: http.StatusOK},
		{name: "readiness stays open", requireRead: true, req: get("/readyz", ""), wantStatus: http.StatusOK},
		{name: "metrics stay open", requireRead: true, req: get("/metrics", ""), wantStatus: http.StatusOK},
		{name: "without tokens reads stay open", requireRead: true, noTokens: true, req: get("/v1/agents", ""),
			wantStatus: http.StatusOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			weather := seed{name: "weather", rev: 1, owner: "host-a"}.entry(t)
			weather.TTLSeconds = 30
			st := leaseStore{newFakeStore(weather, seed{name: "legacy", rev: 2}.entry(t))}
			opts := Options{Store: st, View: st, Leases: st, RequireReadToken: func() bool { return tc.requireRead }}
			if !tc.noTokens {
				opts.Tokens = scopedTokens(t)
			}
			a, _ := newTestAPI(t, opts)
			rec := do(t, a.Handler(), tc.req)
			if tc.wantCode != "" {
				checkError(t, rec, tc.wantStatus, tc.wantCode, "")
			} else if rec.Code != tc.wantStatus {
				t.Fatalf("status = %d, want %d; body %s", rec.Code, tc.wantStatus, rec.Body)
			}
			if tc.noWrite && st.writeCount() != 0 {
				t.Errorf("the request reached the store (%d writes)", st.writeCount())
			}
			if tc.check != nil {
				tc.check(t, st.fakeStore)
			}
		})
	}
}

// TestRequireReadTokenReload checks that RequireReadToken is asked per
// request, so that a reload takes effect at once.
func TestRequireReadTokenReload(t *testing.T) {
	st := seeded(t, seed{name: "weather", rev: 1})
	required := false
	a, _ := newTestAPI(t, Options{Store: st, View: st, Tokens: scopedTokens(t), RequireReadToken: func() bool { return required }})
	for _, step := range []struct {
		required bool
		want     int
	}{{false, http.StatusOK}, {true, http.StatusUnauthorized}, {false, http.StatusOK}} {
		required = step.required
		if rec := do(t, a.Handler(), req{method: "GET", path: "/v1/agents/weather"}); rec.Code != step.want {
			t.Fatalf("GET with require_read_token %v: status %d, want %d", step.required, rec.Code, step.want)
		}
	}
}

// TestOwnershipWithBoltStore runs the ownership rules through the real
// store: node A registers, node B may neither renew, update nor delete the
// entry, an admin may, and GET shows who registered it.
func TestOwnershipWithBoltStore(t *testing.T) {
	bolt, err := store.Open(filepath.Join(t.TempDir(), "store.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := bolt.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	a, _ := newTestAPI(t, Options{Store: bolt, View: laggingView{}, Leases: bolt, Tokens: scopedTokens(t)})
	h := a.Handler()
	body := fmt.Sprintf(`{"ttl_seconds": 30, "card": %s}`, cardJSON("weather", "forecast", "rain"))
	steps := []struct {
		name       string
		req        req
		wantStatus int
	}{
		{"node A registers", req{method: "PUT", path: "/v1/agents/weather", body: body, header: bearer(nodeAToken)}, http.StatusCreated},
		{"node B cannot renew", req{method: "POST", path: "/v1/agents/weather/heartbeat", header: bearer(nodeBToken)}, http.StatusForbidden},
		{"node B cannot update", req{method: "PUT", path: "/v1/agents/weather", body: body, header: bearer(nodeBToken)}, http.StatusForbidden},
		{"node B cannot delete", req{method: "DELETE", path: "/v1/agents/weather", header: bearer(nodeBToken)}, http.StatusForbidden},
		{"node A renews", req{method: "POST", path: "/v1/agents/weather/heartbeat", header: bearer(nodeAToken)}, http.StatusOK},
		{"GET shows the registrant", req{method: "GET", path: "/v1/agents/weather"}, http.StatusOK},
		{"an admin deletes", req{method: "DELETE", path: "/v1/agents/weather", header: bearer(adminToken)}, http.StatusNoContent},
	}
	for _, s := range steps {
		rec := do(t, h, s.req)
		if rec.Code != s.wantStatus {
			t.Fatalf("%s: status %d, want %d; body %s", s.name, rec.Code, s.wantStatus, rec.Body)
		}
		if s.wantStatus == http.StatusForbidden {
			checkError(t, rec, http.StatusForbidden, codePermissionDenied, "")
		}
		if s.req.method == "GET" {
			var e registry.Entry
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.RegisteredBy != "host-a" {
				t.Fatalf("%s: entry %s (%v), want registered_by host-a", s.name, rec.Body, err)
			}
		}
	}
	if _, err := bolt.Get("weather"); err == nil {
		t.Fatal("weather is still stored after the admin's delete")
	}
}
