package envoy

import (
	"strings"
	"testing"
	"time"

	route "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/proto"

	"github.com/sidecard/sidecard/registry"
)

func entry(name string, urls ...string) *registry.Entry {
	e := &registry.Entry{Name: name}
	for _, u := range urls {
		e.Endpoints = append(e.Endpoints, registry.Endpoint{URL: u, Weight: 1})
	}
	return e
}

func TestResourcesErrors(t *testing.T) {
	noTLS := DefaultOptions()
	noTLS.UpstreamTLS = false
	tests := []struct {
		name    string
		entry   *registry.Entry
		opts    Options
		wantErr string
	}{
		{name: "no entry", entry: nil, opts: DefaultOptions(), wantErr: "no entry"},
		{name: "zero options", entry: entry("a", "http://10.0.0.1"), opts: Options{}, wantErr: "listener address"},
		{name: "bad name", entry: entry("Bad_Name", "http://10.0.0.1"), opts: DefaultOptions(), wantErr: `"Bad_Name"`},
		{name: "scheme", entry: entry("a", "ftp://10.0.0.1"), opts: DefaultOptions(),
			wantErr: "endpoints[0]: url \"ftp://10.0.0.1\": scheme must be http or https"},
		{name: "no host", entry: entry("a", "http://10.0.0.1", "http://:8080"), opts: DefaultOptions(),
			wantErr: "endpoints[1]: url \"http://:8080\": no host"},
		{name: "port 0", entry: entry("a", "http://10.0.0.1:0"), opts: DefaultOptions(), wantErr: "port must be from 1 to 65535"},
		{name: "port too large", entry: entry("a", "http://10.0.0.1:65536"), opts: DefaultOptions(),
			wantErr: "port must be from 1 to 65535"},
		{name: "mixed schemes with TLS", entry: entry("a", "https://10.0.0.1", "http://10.0.0.2"), opts: DefaultOptions(),
			wantErr: "mix http and https"},
		{name: "one address, two schemes", entry: entry("a", "http://h.example:8080", "https://h.example:8080"),
			opts: noTLS, wantErr: "endpoints[1]: h.example:8080 is reached over both http and https"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Resources(tt.entry, tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Resources() error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestRouteConfigurationErrors(t *testing.T) {
	vh := func(name string) *route.VirtualHost {
		a, err := Resources(entry(name, "http://10.0.0.1"), DefaultOptions())
		if err != nil {
			t.Fatal(err)
		}
		return a.VirtualHost
	}
	tests := []struct {
		name    string
		vhosts  []*route.VirtualHost
		wantErr string
	}{
		{name: "unsorted", vhosts: []*route.VirtualHost{vh("b"), vh("a")}, wantErr: `not sorted by name or duplicated: "b" before "a"`},
		{name: "duplicate", vhosts: []*route.VirtualHost{vh("a"), vh("a")}, wantErr: "duplicated"},
		{name: "nil", vhosts: []*route.VirtualHost{vh("a"), nil}, wantErr: "virtual host 1"},
		{name: "foreign", vhosts: []*route.VirtualHost{{Name: "x", Domains: []string{"x"}}}, wantErr: "not built by Resources"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := RouteConfiguration(tt.vhosts)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("RouteConfiguration() error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

// TestChangeScope pins the incremental contract of the package comment:
// which resources of an agent an entry change rewrites.
func TestChangeScope(t *testing.T) {
	base := entry("weather", "http://10.0.0.7:9001", "http://10.0.0.8:9001")
	tests := []struct {
		name        string
		change      func(e *registry.Entry)
		opts        func(o *Options)
		wantCluster bool // the Cluster changes
		wantLoad    bool // the ClusterLoadAssignment changes
		wantRoutes  bool // the VirtualHost and the ApiListener change
	}{
		{name: "weight", change: func(e *registry.Entry) { e.Endpoints[1].Weight = 7 }, wantLoad: true},
		{name: "endpoint added", change: func(e *registry.Entry) {
			e.Endpoints = append(e.Endpoints, registry.Endpoint{URL: "http://agent.example.com"})
		}, wantLoad: true},
		{name: "endpoint removed", change: func(e *registry.Entry) { e.Endpoints = e.Endpoints[:1] }, wantLoad: true},
		{name: "path only", change: func(e *registry.Entry) { e.Endpoints[0].URL += "/a2a" }},
		{name: "labels and ttl", change: func(e *registry.Entry) {
			e.Labels = map[string]string{"team": "x"}
			e.TTLSeconds = 30
		}},
		{name: "to https", change: func(e *registry.Entry) {
			e.Endpoints = []registry.Endpoint{{URL: "https://10.0.0.7:9001"}}
		}, wantCluster: true, wantLoad: true},
		{name: "request timeout", change: func(*registry.Entry) {}, opts: func(o *Options) { o.RequestTimeout = time.Second },
			wantRoutes: true},
		{name: "connect timeout", change: func(*registry.Entry) {}, opts: func(o *Options) { o.ConnectTimeout = time.Second },
			wantCluster: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, err := Resources(base, DefaultOptions())
			if err != nil {
				t.Fatal(err)
			}
			changed := base.Clone()
			tt.change(changed)
			opts := DefaultOptions()
			if tt.opts != nil {
				tt.opts(&opts)
			}
			after, err := Resources(changed, opts)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct {
				what       string
				a, b       proto.Message
				wantChange bool
			}{
				{"cluster", before.Cluster, after.Cluster, tt.wantCluster},
				{"load assignment", before.LoadAssignment, after.LoadAssignment, tt.wantLoad},
				{"virtual host", before.VirtualHost, after.VirtualHost, tt.wantRoutes},
				{"api listener", before.APIListener, after.APIListener, tt.wantRoutes},
			} {
				if changed := !proto.Equal(c.a, c.b); changed != c.wantChange {
					t.Errorf("%s changed = %v, want %v", c.what, changed, c.wantChange)
				}
			}
		})
	}
}

// TestSnapshotConsistent checks that the names line up as go-control-plane
// expects: each EDS cluster has its load assignment, each RDS name of a
// listener its route configuration, and nothing is left unreferenced.
func TestSnapshotConsistent(t *testing.T) {
	opts := DefaultOptions()
	res := map[resourcev3.Type][]types.Resource{}
	var vhosts []*route.VirtualHost
	for _, e := range []*registry.Entry{
		entry("alpha", "http://10.0.0.1:9001"),
		entry("beta", "https://beta.example.com"),
		entry("gamma"),
	} {
		a, err := Resources(e, opts)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range a.List() {
			res[r.TypeURL] = append(res[r.TypeURL], r.Message)
		}
		vhosts = append(vhosts, a.VirtualHost)
	}
	rc, err := RouteConfiguration(vhosts)
	if err != nil {
		t.Fatal(err)
	}
	l, err := HTTPListener(opts)
	if err != nil {
		t.Fatal(err)
	}
	res[resourcev3.RouteType] = append(res[resourcev3.RouteType], rc)
	res[resourcev3.ListenerType] = append(res[resourcev3.ListenerType], l)
	snap, err := cachev3.NewSnapshot("1", res)
	if err != nil {
		t.Fatal(err)
	}
	if err := snap.Consistent(); err != nil {
		t.Fatalf("Consistent: %v", err)
	}
	for typeURL, want := range map[resourcev3.Type][]string{
		resourcev3.ClusterType:  {"agent.alpha", "agent.beta", "agent.gamma"},
		resourcev3.EndpointType: {"agent.alpha", "agent.beta", "agent.gamma"},
		resourcev3.ListenerType: {"alpha", "beta", "gamma", HTTPListenerName},
		resourcev3.RouteType:    {RouteConfigName},
	} {
		got := snap.GetResources(typeURL)
		for _, name := range want {
			if got[name] == nil {
				t.Errorf("%s: no resource %q", typeURL, name)
			}
		}
		if len(got) != len(want) {
			t.Errorf("%s: %d resources, want %d", typeURL, len(got), len(want))
		}
	}
}

func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		name    string
		change  func(o *Options)
		wantErr string
	}{
		{name: "default", change: func(*Options) {}},
		{name: "ipv6", change: func(o *Options) { o.ListenerAddress = "::1" }},
		{name: "hostname address", change: func(o *Options) { o.ListenerAddress = "localhost" }, wantErr: "must be an IP address"},
		{name: "port 0", change: func(o *Options) { o.ListenerPort = 0 }, wantErr: "listener port 0"},
		{name: "port too large", change: func(o *Options) { o.ListenerPort = 65536 }, wantErr: "listener port 65536"},
		{name: "no connect timeout", change: func(o *Options) { o.ConnectTimeout = 0 }, wantErr: "connect timeout"},
		{name: "negative request timeout", change: func(o *Options) { o.RequestTimeout = -time.Second },
			wantErr: "request timeout"},
		{name: "CA without TLS", change: func(o *Options) { o.UpstreamTLS, o.TrustedCAFile = false, "/ca.pem" },
			wantErr: "needs upstream TLS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := DefaultOptions()
			tt.change(&o)
			err := o.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Validate() = %v, want an error containing %q", err, tt.wantErr)
			}
			if _, err := HTTPListener(o); err == nil {
				t.Errorf("HTTPListener accepted invalid options")
			}
		})
	}
}
