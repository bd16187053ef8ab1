package xds

import (
	"testing"

	route "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/proto"

	"github.com/sidecard/sidecard/controlplane/envoy"
)

// TestEnvoyRouteConfigurationWire checks that the pre-encoded shared route
// configuration decodes to what envoy.RouteConfiguration assembles, aliases
// collisions included, through additions and removals.
func TestEnvoyRouteConfigurationWire(t *testing.T) {
	feed := newFakeFeed()
	for _, name := range []string{"a", "a.agents.local", "b", "c"} {
		feed.put(entry(name))
	}
	c := startEnvoyCache(t, feed, EnvoyCacheOptions{})
	rds := newSotw(t, c, resourcev3.RouteType, node("envoy", nil), envoy.RouteConfigName)
	defer rds.close()
	check := func(what string, agents ...string) {
		t.Helper()
		rds.mustWatch()
		got := rds.take()[envoy.RouteConfigName]
		vhosts := make([]*route.VirtualHost, len(agents))
		for i, name := range agents {
			res, err := envoy.Resources(entry(name), envoy.DefaultOptions())
			if err != nil {
				t.Fatal(err)
			}
			vhosts[i] = res.VirtualHost
		}
		want, err := envoy.RouteConfiguration(vhosts)
		if err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(got, want) {
			t.Fatalf("%s: route configuration\n%v\nwant\n%v", what, got, want)
		}
	}
	check("initial", "a", "a.agents.local", "b", "c")
	feed.del("b")
	waitEnvoy(t, c, feed.put(entry("d")))
	check("b removed, d added", "a", "a.agents.local", "c", "d")
	waitEnvoy(t, c, feed.del("a.agents.local"))
	check("alias owner removed", "a", "c", "d")
}
