package xds

import (
	"fmt"
	"testing"

	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"

	"github.com/sidecard/sidecard/controlplane/envoy"
	"github.com/sidecard/sidecard/registry"
)

// envoyBenchAgents is the registry size of the Envoy benchmarks.
const envoyBenchAgents = 10_000

// envoyBenchEntry returns agent i with two endpoints, the first weighted w.
func envoyBenchEntry(i int, w uint32) *registry.Entry {
	e := entry(fmt.Sprintf("agent-%05d", i))
	e.Endpoints = []registry.Endpoint{
		{URL: fmt.Sprintf("http://10.%d.%d.1:9001", i/256, i%256), Weight: w},
		{URL: fmt.Sprintf("http://10.%d.%d.2:9001", i/256, i%256), Weight: 2},
	}
	return e
}

// envoyBenchFeed returns a feed of envoyBenchAgents agents.
func envoyBenchFeed() *fakeFeed {
	feed := newFakeFeed()
	for i := range envoyBenchAgents {
		feed.put(envoyBenchEntry(i, 1))
	}
	return feed
}

// BenchmarkEnvoyLoad10k lists and translates 10k agents into the view of
// every agent (a control-plane start); B/op is the memory it builds.
func BenchmarkEnvoyLoad10k(b *testing.B) {
	feed := envoyBenchFeed()
	b.ReportAllocs()
	for b.Loop() {
		c, err := NewEnvoyCache(feed, EnvoyCacheOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if err := c.sync(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEnvoyOneChange10k applies one change among 10k agents end to end:
// the store's feed commits it, Run reads it, translates the one agent,
// updates the caches, and the open watches receive their responses,
// marshalled (GetDiscoveryResponse) as the server sends them.
//
// The envoy client watches as Envoy does, state-of-the-world: CDS
// wildcard, EDS of every cluster, RDS sidecard.
//
//   - envoy/endpoints: one agent's endpoint weight changes; only EDS
//     answers, with that one ClusterLoadAssignment.
//   - envoy/membership: one agent is removed, then added back
//     (alternately); RDS answers with the reassembled RouteConfiguration
//     (bytes/op-rds is its size) and CDS with its full state, EDS on
//     additions.
//
// The grpc client watches as grpc-go does for xds:///<name>: LDS, CDS and
// EDS of that one agent (grpc/endpoints: its endpoint weight changes; EDS
// answers).
func BenchmarkEnvoyOneChange10k(b *testing.B) {
	const changed = envoyBenchAgents / 2
	name := fmt.Sprintf("agent-%05d", changed)
	// The state of the feed outlives each run of a sub-benchmark (testing
	// runs it several times): weight and present say what the feed holds.
	endpoints := func(b *testing.B, feed *fakeFeed, weight *uint32, eds *sotwWatcher, quiet ...*sotwWatcher) {
		b.ReportAllocs()
		for b.Loop() {
			*weight = 3 - *weight // 1, 2, 1, ...
			feed.put(envoyBenchEntry(changed, *weight))
			if got := eds.takeRaw().GetResources(); len(got) != 1 {
				b.Fatalf("EDS response of %d resources, want 1", len(got))
			}
			eds.mustWatch()
		}
		for _, w := range quiet {
			if w.pending() {
				b.Fatalf("an endpoint change was sent to %s", w.typeURL)
			}
		}
	}

	b.Run("envoy", func(b *testing.B) {
		feed := envoyBenchFeed()
		c := startEnvoyCache(b, feed, EnvoyCacheOptions{})
		clusters := make([]string, envoyBenchAgents)
		for i := range clusters {
			clusters[i] = envoy.ClusterName(fmt.Sprintf("agent-%05d", i))
		}
		n := node("envoy-1", nil)
		cds := newSotw(b, c, resourcev3.ClusterType, n)
		eds := newSotw(b, c, resourcev3.EndpointType, n, clusters...)
		rds := newSotw(b, c, resourcev3.RouteType, n, envoy.RouteConfigName)
		arm(b, cds, eds, rds)
		weight, present := uint32(1), true

		b.Run("endpoints", func(b *testing.B) { endpoints(b, feed, &weight, eds, cds, rds) })
		b.Run("membership", func(b *testing.B) {
			b.ReportAllocs()
			var rdsBytes int
			for b.Loop() {
				if present {
					feed.del(name)
				} else {
					feed.put(envoyBenchEntry(changed, weight))
				}
				present = !present
				rc := rds.takeRaw().GetResources()
				if len(rc) != 1 {
					b.Fatalf("RDS response of %d resources", len(rc))
				}
				rdsBytes = len(rc[0].GetValue())
				if got, want := len(cds.takeRaw().GetResources()), envoyBenchAgents-1; got != want && got != want+1 {
					b.Fatalf("CDS response of %d clusters", got)
				}
				rds.mustWatch()
				cds.mustWatch()
				if present {
					eds.takeRaw()
					eds.mustWatch()
				}
			}
			b.ReportMetric(float64(rdsBytes), "bytes/op-rds")
		})
	})
	b.Run("grpc", func(b *testing.B) {
		feed := envoyBenchFeed()
		c := startEnvoyCache(b, feed, EnvoyCacheOptions{})
		n := node("grpc-1", nil)
		lds := newSotw(b, c, resourcev3.ListenerType, n, name)
		cds := newSotw(b, c, resourcev3.ClusterType, n, envoy.ClusterName(name))
		eds := newSotw(b, c, resourcev3.EndpointType, n, envoy.ClusterName(name))
		arm(b, lds, cds, eds)
		weight := uint32(1)

		b.Run("endpoints", func(b *testing.B) { endpoints(b, feed, &weight, eds, lds, cds) })
	})
}

// arm opens the watches, takes their initial responses and opens the next
// ones, closed when the benchmark ends.
func arm(b *testing.B, watchers ...*sotwWatcher) {
	b.Helper()
	for _, w := range watchers {
		w.mustWatch()
		w.takeRaw()
		w.mustWatch()
		b.Cleanup(w.close)
	}
}
