package lookup

import (
	"strings"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/sidecard/sidecard/cache"
)

// TestMountPathsValidate checks the rules of a mount's exact paths.
func TestMountPathsValidate(t *testing.T) {
	r, err := cache.NewReplica(cache.ReplicaOptions{})
	if err != nil {
		t.Fatal(err)
	}
	serve := func(*fasthttp.RequestCtx) {}
	cases := []struct {
		name    string
		mounts  []Mount
		wantErr string
	}{
		{name: "paths only", mounts: []Mount{{Paths: []string{"/health", "/jsonrpc"}, Route: "compat", Handler: serve}}},
		{name: "prefix and paths", mounts: []Mount{{Prefix: "/agents/", Paths: []string{"/agents"}, Route: "compat", Handler: serve}}},
		{name: "neither", mounts: []Mount{{Route: "compat", Handler: serve}}, wantErr: "must start and end with /"},
		{name: "trailing slash", mounts: []Mount{{Paths: []string{"/agents/"}, Route: "compat", Handler: serve}},
			wantErr: "not end with /"},
		{name: "root", mounts: []Mount{{Paths: []string{"/"}, Route: "compat", Handler: serve}}, wantErr: "must start with /"},
		{name: "relative", mounts: []Mount{{Paths: []string{"agents"}, Route: "compat", Handler: serve}}, wantErr: "must start with /"},
		{name: "built-in path", mounts: []Mount{{Paths: []string{"/healthz"}, Route: "compat", Handler: serve}},
			wantErr: "built-in route"},
		{name: "under v1 agents", mounts: []Mount{{Paths: []string{"/v1/agents/x"}, Route: "compat", Handler: serve}},
			wantErr: "built-in route"},
		{name: "another mount's", mounts: []Mount{
			{Paths: []string{"/health"}, Route: "a", Handler: serve},
			{Paths: []string{"/health"}, Route: "b", Handler: serve},
		}, wantErr: "Mounts[1]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := Options{Source: r, Status: fakeStatus{}, Ready: func() bool { return true }, Mounts: c.mounts}
			err := o.Validate()
			switch {
			case c.wantErr == "" && err != nil:
				t.Fatalf("Validate() = %v, want nil", err)
			case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
				t.Fatalf("Validate() = %v, want an error containing %q", err, c.wantErr)
			}
		})
	}
}

// TestMountPaths checks that a mount's exact paths and prefix both reach
// its handler, and nothing else does.
func TestMountPaths(t *testing.T) {
	var seen []string
	mount := Mount{Prefix: "/agents/", Paths: []string{"/agents", "/jsonrpc"}, Route: "compat",
		Handler: func(ctx *fasthttp.RequestCtx) {
			seen = append(seen, string(ctx.Method())+" "+string(ctx.Path()))
			ctx.SetStatusCode(fasthttp.StatusAccepted)
		}}
	e := newEnv(t, testEntries(t), func(o *Options) { o.Mounts = []Mount{mount} })
	cl := e.serve(t)
	cases := []routeCase{
		{name: "exact", method: "POST", target: "/agents", status: 202},
		{name: "exact with query", target: "/jsonrpc?x=1", status: 202},
		{name: "under prefix", method: "DELETE", target: "/agents/weather", status: 202},
		{name: "not a path of it", target: "/jsonrpc/x", status: 404, errCode: codeNotFound},
		{name: "built-in still served", target: "/v1/agents/weather", status: 200},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.run(t, e, cl) })
	}
	want := []string{"POST /agents", "GET /jsonrpc", "DELETE /agents/weather"}
	if strings.Join(seen, ",") != strings.Join(want, ",") {
		t.Errorf("mount saw %q, want %q", seen, want)
	}
}

// TestEntryWrite checks that EntryWrite gets the methods other than GET
// and HEAD on /v1/agents/{name}, and that without it they are a 405.
func TestEntryWrite(t *testing.T) {
	var seen []string
	write := func(ctx *fasthttp.RequestCtx) {
		seen = append(seen, string(ctx.Method())+" "+string(ctx.Path()))
		ctx.SetStatusCode(fasthttp.StatusCreated)
	}
	e := newEnv(t, testEntries(t), func(o *Options) { o.EntryWrite = write })
	cl := e.serve(t)
	for _, c := range []routeCase{
		{name: "PUT", method: "PUT", target: "/v1/agents/new-agent", status: 201},
		{name: "DELETE", method: "DELETE", target: "/v1/agents/weather", status: 201},
		{name: "GET still the lookup", target: "/v1/agents/weather", status: 200},
		{name: "card is not writable", method: "PUT", target: "/v1/agents/weather/card", status: 405,
			errCode: codeMethodNotAllowed},
	} {
		t.Run(c.name, func(t *testing.T) { c.run(t, e, cl) })
	}
	if want := "PUT /v1/agents/new-agent,DELETE /v1/agents/weather"; strings.Join(seen, ",") != want {
		t.Errorf("EntryWrite saw %q, want %q", seen, want)
	}
	if n := counterValue(t, e.reg, "sidecard_sidecar_http_requests_total", map[string]string{"route": "entry", "code_class": "2xx"}); n != 3 {
		t.Errorf("entry 2xx requests = %v, want 3", n)
	}

	plain := newEnv(t, testEntries(t), nil)
	c := routeCase{name: "no EntryWrite", method: "PUT", target: "/v1/agents/weather", status: 405,
		errCode: codeMethodNotAllowed, wantHeader: map[string]string{"Allow": "GET, HEAD"}}
	c.run(t, plain, plain.serve(t))
}
