package xds

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"

	endpoint "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listener "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	route "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/protobuf/proto"

	"github.com/sidecard/sidecard/controlplane/envoy"
	"github.com/sidecard/sidecard/registry"
)

func TestEnvoyCacheOptionsValidate(t *testing.T) {
	tests := []struct {
		name string
		opts EnvoyCacheOptions
		want string // substring of the error; "" for valid
	}{
		{"zero", EnvoyCacheOptions{}, ""},
		{"defaults", DefaultEnvoyCacheOptions(), ""},
		{"negative selectors", EnvoyCacheOptions{MaxSelectors: -1}, "must not be negative"},
		{"negative batch", EnvoyCacheOptions{BatchLimit: -1}, "must not be negative"},
		{"bad translation", EnvoyCacheOptions{Translation: envoy.Options{ListenerAddress: "x"}}, "listener address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.opts.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Validate() = %v, want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("Validate() = %v, want an error containing %q", err, tt.want)
			}
		})
	}
	if _, err := NewEnvoyCache(nil, EnvoyCacheOptions{}); err == nil {
		t.Error("NewEnvoyCache(nil feed) succeeded")
	}
}

func TestEnvoyCacheListeners(t *testing.T) {
	feed := newFakeFeed()
	feed.put(entry("a"))
	feed.put(entry("b"))
	c := startEnvoyCache(t, feed, EnvoyCacheOptions{})

	tests := []struct {
		name  string
		names []string // subscribed; none is legacy wildcard
		want  []string
	}{
		{"wildcard: Envoy's listener only", nil, []string{envoy.HTTPListenerName}},
		{"explicit wildcard", []string{"*"}, []string{envoy.HTTPListenerName}},
		{"named: ApiListeners", []string{"a", "b"}, []string{"a", "b"}},
		{"named Envoy listener", []string{envoy.HTTPListenerName, "a"}, []string{"a", envoy.HTTPListenerName}},
		{"unknown name: empty full state", []string{"missing"}, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newSotw(t, c, resourcev3.ListenerType, node("n", nil), tt.names...)
			w.mustWatch()
			defer w.close()
			got := w.take()
			if !slices.Equal(names(got), tt.want) {
				t.Fatalf("listeners %v, want %v", names(got), tt.want)
			}
			for name, m := range got {
				if api := m.(*listener.Listener).GetApiListener() != nil; api != (name != envoy.HTTPListenerName) {
					t.Errorf("listener %s: ApiListener %v", name, api)
				}
			}
		})
	}
}

// snapshotViews returns the resources of the view of every agent, by type.
func snapshotViews(c *EnvoyCache) map[string]map[string]types.Resource {
	out := make(map[string]map[string]types.Resource, len(envoyTypes))
	for _, typeURL := range envoyTypes {
		out[typeURL] = c.resources(emptySelector.key, typeURL)
	}
	return out
}

func TestEnvoyCacheOneChangeUpdatesOnlyItsResources(t *testing.T) {
	const a, ca = "a", "agent.a"
	withWeight := entry(a)
	withWeight.Endpoints[0].Weight = 7
	newCard := entry(a)
	newCard.Card = func() *registry.Card {
		cd, err := registry.ParseCard([]byte(strings.Replace(string(testCard.JSON()), `"1.0.0"`, `"2.0.0"`, 1)))
		if err != nil {
			t.Fatal(err)
		}
		return cd
	}()

	// changed lists the resources (type → name) whose message must change;
	// every other one must keep its identity.
	tests := []struct {
		name    string
		change  func(*fakeFeed) int64
		changed map[string][]string
		gone    map[string][]string
	}{
		{"endpoint weight", func(f *fakeFeed) int64 { return f.put(withWeight) },
			map[string][]string{resourcev3.EndpointType: {ca}}, nil},
		{"card only", func(f *fakeFeed) int64 { return f.put(newCard) }, nil, nil},
		{"labels only", func(f *fakeFeed) int64 { return f.put(entry(a, "team=x")) }, nil, nil},
		{"added", func(f *fakeFeed) int64 { return f.put(entry("c")) },
			map[string][]string{resourcev3.ClusterType: {"agent.c"}, resourcev3.EndpointType: {"agent.c"},
				resourcev3.ListenerType: {"c"}, resourcev3.RouteType: {envoy.RouteConfigName}}, nil},
		{"removed", func(f *fakeFeed) int64 { return f.del(a) },
			map[string][]string{resourcev3.RouteType: {envoy.RouteConfigName}},
			map[string][]string{resourcev3.ClusterType: {ca}, resourcev3.EndpointType: {ca}, resourcev3.ListenerType: {a}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			feed := newFakeFeed()
			feed.put(entry(a))
			feed.put(entry("b"))
			c := startEnvoyCache(t, feed, EnvoyCacheOptions{})
			before := snapshotViews(c)
			waitEnvoy(t, c, tt.change(feed))
			after := snapshotViews(c)
			for _, typeURL := range envoyTypes {
				for name, r := range before[typeURL] {
					switch {
					case slices.Contains(tt.gone[typeURL], name):
						if after[typeURL][name] != nil {
							t.Errorf("%s %s still served", typeURL, name)
						}
					case slices.Contains(tt.changed[typeURL], name):
						if after[typeURL][name] == r {
							t.Errorf("%s %s not updated", typeURL, name)
						}
					case after[typeURL][name] != r:
						t.Errorf("%s %s replaced, want it untouched", typeURL, name)
					}
				}
				for name := range after[typeURL] {
					if before[typeURL][name] == nil && !slices.Contains(tt.changed[typeURL], name) {
						t.Errorf("%s %s appeared", typeURL, name)
					}
				}
			}
		})
	}
}

func TestEnvoyCacheSotwUpdates(t *testing.T) {
	feed := newFakeFeed()
	feed.put(agentAt("a", "10.0.0.1:80"))
	feed.put(agentAt("b", "10.0.0.2:80"))
	c := startEnvoyCache(t, feed, EnvoyCacheOptions{})
	n := node("envoy", nil)
	cds := newSotw(t, c, resourcev3.ClusterType, n)
	eds := newSotw(t, c, resourcev3.EndpointType, n, "agent.a", "agent.b")
	rds := newSotw(t, c, resourcev3.RouteType, n, envoy.RouteConfigName)
	for _, w := range []*sotwWatcher{cds, eds, rds} {
		w.mustWatch()
		defer w.close()
	}
	if got := names(cds.take()); !slices.Equal(got, []string{"agent.a", "agent.b"}) {
		t.Fatalf("initial clusters %v", got)
	}
	eds.take()
	if got := vhostNames(t, rds.take()); !slices.Equal(got, []string{"a", "b", envoy.PathVirtualHostName}) {
		t.Fatalf("initial virtual hosts %v", got)
	}
	for _, w := range []*sotwWatcher{cds, eds, rds} {
		w.mustWatch()
	}

	// An endpoint moves: only EDS answers, with the changed assignment.
	waitEnvoy(t, c, feed.put(agentAt("a", "10.0.0.9:81")))
	got := eds.take()
	if names(got) == nil || len(got) != 1 || endpointAddr(got["agent.a"]) != "10.0.0.9:81" {
		t.Fatalf("EDS after the move: %v", got)
	}
	if cds.pending() || rds.pending() {
		t.Fatalf("CDS (%v) or RDS (%v) answered an endpoint change", cds.pending(), rds.pending())
	}
	eds.mustWatch()

	// b goes: CDS answers with the full state, RDS without b.
	waitEnvoy(t, c, feed.del("b"))
	if got := names(cds.take()); !slices.Equal(got, []string{"agent.a"}) {
		t.Fatalf("clusters after the removal %v", got)
	}
	if got := vhostNames(t, rds.take()); !slices.Equal(got, []string{"a", envoy.PathVirtualHostName}) {
		t.Fatalf("virtual hosts after the removal %v", got)
	}
}

func TestEnvoyCacheDeltaUpdates(t *testing.T) {
	feed := newFakeFeed()
	feed.put(agentAt("a", "10.0.0.1:80"))
	c := startEnvoyCache(t, feed, EnvoyCacheOptions{})
	n := node("envoy", nil)
	cds := newDelta(t, c, resourcev3.ClusterType, n)
	eds := newDelta(t, c, resourcev3.EndpointType, n, "agent.a", "agent.b")
	cds.mustWatch()
	eds.mustWatch()
	if got, _ := cds.take(); !slices.Equal(names(got), []string{"agent.a"}) {
		t.Fatalf("initial clusters %v", names(got))
	}
	if got, _ := eds.take(); !slices.Equal(names(got), []string{"agent.a"}) {
		t.Fatalf("initial assignments %v", names(got))
	}
	cds.mustWatch()
	eds.mustWatch()

	waitEnvoy(t, c, feed.put(agentAt("b", "10.0.0.2:80")))
	if got, removed := cds.take(); !slices.Equal(names(got), []string{"agent.b"}) || len(removed) > 0 {
		t.Fatalf("clusters after b was added: %v, removed %v", names(got), removed)
	}
	if got, _ := eds.take(); !slices.Equal(names(got), []string{"agent.b"}) {
		t.Fatalf("assignments after b was added: %v", names(got))
	}
	cds.mustWatch()
	eds.mustWatch()

	waitEnvoy(t, c, feed.del("a"))
	if got, removed := cds.take(); len(got) > 0 || !slices.Equal(removed, []string{"agent.a"}) {
		t.Fatalf("clusters after a was removed: %v, removed %v", names(got), removed)
	}
	if got, removed := eds.take(); len(got) > 0 || !slices.Equal(removed, []string{"agent.a"}) {
		t.Fatalf("assignments after a was removed: %v, removed %v", names(got), removed)
	}
}

func TestEnvoyCacheWatchBeforeLoad(t *testing.T) {
	feed := newFakeFeed()
	feed.put(entry("a"))
	c, err := NewEnvoyCache(feed, EnvoyCacheOptions{})
	if err != nil {
		t.Fatal(err)
	}
	w := newSotw(t, c, resourcev3.ClusterType, node("n", map[string]string{"team": "x"}))
	w.mustWatch()
	cancelled := newSotw(t, c, resourcev3.ClusterType, node("n2", nil))
	cancelled.mustWatch()
	cancelled.close()
	if c.Ready() || w.pending() {
		t.Fatalf("before Run: ready %v, response %v", c.Ready(), w.pending())
	}
	if err := c.WaitReady(canceledContext()); err == nil {
		t.Fatal("WaitReady before Run succeeded")
	}
	runEnvoyCache(t, c)
	if got := w.take(); len(got) != 0 {
		t.Fatalf("clusters of team=x %v, want none", names(got))
	}
	if cancelled.pending() {
		t.Fatal("a cancelled watch was answered")
	}
	w.mustWatch()
	waitEnvoy(t, c, feed.put(entry("b", "team=x")))
	if got := names(w.take()); !slices.Equal(got, []string{"agent.b"}) {
		t.Fatalf("clusters after b %v", got)
	}
	w.close()
	if err := c.Run(context.Background()); err == nil {
		t.Error("second Run succeeded")
	}
}

func TestEnvoyCacheResyncAfterCompaction(t *testing.T) {
	feed := newFakeFeed()
	feed.put(entry("a"))
	feed.put(entry("b"))
	reg := prometheus.NewRegistry()
	c := startEnvoyCache(t, feed, EnvoyCacheOptions{Registerer: reg})
	feed.hold()
	feed.del("a")
	feed.put(agentAt("b", "10.0.0.5:80"))
	rev := feed.put(entry("c"))
	feed.compact()
	feed.release()
	waitEnvoy(t, c, rev)
	if got := names(c.resources(emptySelector.key, resourcev3.ClusterType)); !slices.Equal(got, []string{"agent.b", "agent.c"}) {
		t.Fatalf("clusters after the resync %v", got)
	}
	cla := c.resources(emptySelector.key, resourcev3.EndpointType)["agent.b"]
	if got := endpointAddr(cla); got != "10.0.0.5:80" {
		t.Errorf("agent.b endpoint %q after the resync", got)
	}
	if value(c.metrics.resyncs) != 1 || value(c.metrics.agents) != 2 {
		t.Errorf("resyncs %v, agents %v; want 1 and 2", value(c.metrics.resyncs), value(c.metrics.agents))
	}
}

func TestEnvoyCacheTranslationError(t *testing.T) {
	feed := newFakeFeed()
	feed.put(entry("a"))
	c := startEnvoyCache(t, feed, EnvoyCacheOptions{})
	mixed := entry("a")
	mixed.Endpoints = []registry.Endpoint{{URL: "http://10.0.0.1:80"}, {URL: "https://10.0.0.2:443"}}
	waitEnvoy(t, c, feed.put(mixed))
	if got := c.resources(emptySelector.key, resourcev3.ClusterType); len(got) != 0 {
		t.Fatalf("clusters %v after an untranslatable change, want none", names(got))
	}
	if vh := vhostNames(t, decodeRoute(t, c)); !slices.Equal(vh, []string{envoy.PathVirtualHostName}) {
		t.Fatalf("virtual hosts %v, want none of a", vh)
	}
	if value(c.metrics.translationErrors) != 1 || value(c.metrics.leftOut) != 1 || value(c.metrics.agents) != 0 {
		t.Fatalf("errors %v, left out %v, agents %v; want 1, 1, 0", value(c.metrics.translationErrors),
			value(c.metrics.leftOut), value(c.metrics.agents))
	}
	waitEnvoy(t, c, feed.put(entry("a")))
	if got := names(c.resources(emptySelector.key, resourcev3.ClusterType)); !slices.Equal(got, []string{"agent.a"}) {
		t.Fatalf("clusters %v after the fix", got)
	}
	if value(c.metrics.leftOut) != 0 || value(c.metrics.agents) != 1 {
		t.Fatalf("left out %v, agents %v after the fix; want 0, 1", value(c.metrics.leftOut), value(c.metrics.agents))
	}
}

// vhostNames returns the virtual host names of the route configuration
// sidecard in resources.
func vhostNames(t testing.TB, resources map[string]proto.Message) []string {
	t.Helper()
	rc, ok := resources[envoy.RouteConfigName].(*route.RouteConfiguration)
	if !ok {
		t.Fatalf("no route configuration %s in %v", envoy.RouteConfigName, names(resources))
	}
	var out []string
	for _, vh := range rc.GetVirtualHosts() {
		out = append(out, vh.GetName())
	}
	return out
}

// decodeRoute returns the route configuration of the view of every agent,
// decoded from its wire form (see envoyroute.go).
func decodeRoute(t testing.TB, c *EnvoyCache) map[string]proto.Message {
	t.Helper()
	out := make(map[string]proto.Message)
	for name, r := range c.resources(emptySelector.key, resourcev3.RouteType) {
		b, err := proto.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		var rc route.RouteConfiguration
		if err := proto.Unmarshal(b, &rc); err != nil {
			t.Fatal(err)
		}
		out[name] = &rc
	}
	return out
}

// endpointAddr returns host:port of the first endpoint of a load
// assignment, or "".
func endpointAddr(m any) string {
	cla, ok := m.(*endpoint.ClusterLoadAssignment)
	if !ok || len(cla.GetEndpoints()) == 0 || len(cla.GetEndpoints()[0].GetLbEndpoints()) == 0 {
		return ""
	}
	sa := cla.GetEndpoints()[0].GetLbEndpoints()[0].GetEndpoint().GetAddress().GetSocketAddress()
	return sa.GetAddress() + ":" + strconv.Itoa(int(sa.GetPortValue()))
}

// canceledContext returns a context that is already done.
func canceledContext() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

func TestEnvoyCacheWaitFor(t *testing.T) {
	feed := newFakeFeed()
	c := startEnvoyCache(t, feed, EnvoyCacheOptions{})
	if err := c.WaitFor(canceledContext(), c.Revision()+1); err == nil {
		t.Fatal("WaitFor of a future revision with a done context succeeded")
	}
	rev := feed.put(entry("a"))
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	if err := c.WaitFor(ctx, rev); err != nil {
		t.Fatal(err)
	}
	if got := names(c.resources(emptySelector.key, resourcev3.ClusterType)); !slices.Equal(got, []string{"agent.a"}) {
		t.Fatalf("clusters %v once WaitFor returned", got)
	}
}
