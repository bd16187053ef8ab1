package lookup

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/valyala/fasthttp"

	"github.com/sidecard/sidecard/cache"
)

func TestOptionsValidate(t *testing.T) {
	r, err := cache.NewReplica(cache.ReplicaOptions{})
	if err != nil {
		t.Fatal(err)
	}
	serve := func(*fasthttp.RequestCtx) {}
	valid := func() Options {
		return Options{Source: r, Status: fakeStatus{}, Ready: func() bool { return true }}
	}
	cases := []struct {
		name    string
		edit    func(*Options)
		wantErr string // "" for valid
	}{
		{name: "minimal", edit: func(*Options) {}},
		{name: "everything", edit: func(o *Options) {
			o.Stale = func() (bool, int64) { return false, 0 }
			o.Gatherer = prometheus.NewRegistry()
			o.CacheMaxCostBytes = 1 << 20
			o.Mounts = []Mount{{Prefix: "/a2a/", Route: "proxy", Handler: serve}}
		}},
		{name: "no source", edit: func(o *Options) { o.Source = nil }, wantErr: "Source is required"},
		{name: "no status", edit: func(o *Options) { o.Status = nil }, wantErr: "Status is required"},
		{name: "no ready", edit: func(o *Options) { o.Ready = nil }, wantErr: "Ready is required"},
		{name: "negative cache", edit: func(o *Options) { o.CacheMaxCostBytes = -1 }, wantErr: "must not be negative"},
		{name: "mount without slashes", edit: func(o *Options) {
			o.Mounts = []Mount{{Prefix: "a2a", Route: "proxy", Handler: serve}}
		}, wantErr: "must start and end with /"},
		{name: "mount of root", edit: func(o *Options) {
			o.Mounts = []Mount{{Prefix: "/", Route: "proxy", Handler: serve}}
		}, wantErr: "must start and end with /"},
		{name: "mount over v1", edit: func(o *Options) {
			o.Mounts = []Mount{{Prefix: "/v1/", Route: "proxy", Handler: serve}}
		}, wantErr: "overlaps a built-in route"},
		{name: "mount under agents", edit: func(o *Options) {
			o.Mounts = []Mount{{Prefix: "/v1/agents/x/", Route: "proxy", Handler: serve}}
		}, wantErr: "overlaps a built-in route"},
		{name: "mount with a built-in label", edit: func(o *Options) {
			o.Mounts = []Mount{{Prefix: "/a2a/", Route: "entry", Handler: serve}}
		}, wantErr: `label "entry" is already in use`},
		{name: "mounts with one label", edit: func(o *Options) {
			o.Mounts = []Mount{{Prefix: "/a2a/", Route: "proxy", Handler: serve}, {Prefix: "/mcp/", Route: "proxy", Handler: serve}}
		}, wantErr: "Mounts[1]"},
		{name: "mount without label", edit: func(o *Options) {
			o.Mounts = []Mount{{Prefix: "/a2a/", Handler: serve}}
		}, wantErr: "route label is required"},
		{name: "mount without handler", edit: func(o *Options) {
			o.Mounts = []Mount{{Prefix: "/a2a/", Route: "proxy"}}
		}, wantErr: "handler is required"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := valid()
			c.edit(&o)
			err := o.Validate()
			switch {
			case c.wantErr == "" && err != nil:
				t.Fatalf("Validate() = %v, want nil", err)
			case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
				t.Fatalf("Validate() = %v, want an error containing %q", err, c.wantErr)
			}
			h, err := New(o)
			if (err == nil) != (c.wantErr == "") {
				t.Fatalf("New() error = %v, want error %v", err, c.wantErr != "")
			}
			if h != nil {
				h.Close()
			}
		})
	}
}

// TestMount checks that a mount gets every method under its prefix, after
// the built-in routes, and is counted under its own route label.
func TestMount(t *testing.T) {
	var gotRest string
	mount := Mount{Prefix: "/a2a/", Route: "proxy", Handler: func(ctx *fasthttp.RequestCtx) {
		gotRest = string(ctx.Path())
		ctx.SetStatusCode(fasthttp.StatusAccepted)
		ctx.SetBodyString("proxied")
	}}
	e := newEnv(t, testEntries(t), func(o *Options) { o.Mounts = []Mount{mount} })
	cl := e.serve(t)
	cases := []routeCase{
		{name: "GET", target: "/a2a/weather/.well-known/agent-card.json", status: 202, body: "proxied"},
		{name: "POST", method: "POST", target: "/a2a/weather/", status: 202, body: "proxied"},
		{name: "prefix without slash", target: "/a2a", status: 404, errCode: codeNotFound},
		{name: "built-in still served", target: "/v1/agents/weather", status: 200},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.run(t, e, cl) })
	}
	if gotRest != "/a2a/weather/" {
		t.Errorf("mount saw path %q", gotRest)
	}
	if n := counterValue(t, e.reg, "sidecard_sidecar_http_requests_total", map[string]string{"route": "proxy", "code_class": "2xx"}); n != 2 {
		t.Errorf("proxy 2xx requests = %v, want 2", n)
	}
}

// TestNewRegistersOnce checks that a second handler on the same registry
// fails instead of silently sharing metrics.
func TestNewRegistersOnce(t *testing.T) {
	e := newEnv(t, testEntries(t), nil)
	_, err := New(Options{Source: e.replica, Status: fakeStatus{}, Ready: func() bool { return true }, Registerer: e.reg})
	if err == nil || !strings.Contains(err.Error(), "register lookup metrics") {
		t.Fatalf("New with a used registry: %v", err)
	}
}
