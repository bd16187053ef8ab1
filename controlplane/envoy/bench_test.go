package envoy

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	route "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/proto"

	"github.com/sidecard/sidecard/registry"
)

const benchAgents = 10_000

// benchEntries returns n entries sorted by name, each with two endpoints.
func benchEntries(b *testing.B, n int) []*registry.Entry {
	b.Helper()
	c, err := registry.ParseCard(card("http://card.invalid/"))
	if err != nil {
		b.Fatal(err)
	}
	entries := make([]*registry.Entry, n)
	for i := range entries {
		entries[i] = &registry.Entry{
			Name: fmt.Sprintf("agent-%05d", i),
			Endpoints: []registry.Endpoint{
				{URL: fmt.Sprintf("http://10.%d.%d.1:9001", i/256, i%256), Weight: 1},
				{URL: fmt.Sprintf("http://10.%d.%d.2:9001", i/256, i%256), Weight: 2},
			},
			Card: c,
		}
	}
	return entries
}

// BenchmarkTranslate10k translates a whole registry of 10k agents: every
// agent's resources, the shared route configuration and the HTTP listener.
func BenchmarkTranslate10k(b *testing.B) {
	entries := benchEntries(b, benchAgents)
	opts := DefaultOptions()
	b.ReportAllocs()
	for b.Loop() {
		vhosts := make([]*route.VirtualHost, len(entries))
		for i, e := range entries {
			a, err := Resources(e, opts)
			if err != nil {
				b.Fatal(err)
			}
			vhosts[i] = a.VirtualHost
		}
		if _, err := RouteConfiguration(vhosts); err != nil {
			b.Fatal(err)
		}
		if _, err := HTTPListener(opts); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTranslateOneChange measures what one change among 10k agents must
// rebuild. An endpoint change rebuilds the agent's resources only (its
// VirtualHost and ApiListener come out equal); an agent added or removed
// also reassembles the shared route configuration, which every Envoy is then
// sent whole ("+marshal" adds that encoding once; bytes/op-sent is its size).
func BenchmarkTranslateOneChange(b *testing.B) {
	entries := benchEntries(b, benchAgents)
	opts := DefaultOptions()
	vhosts := make([]*route.VirtualHost, len(entries))
	for i, e := range entries {
		a, err := Resources(e, opts)
		if err != nil {
			b.Fatal(err)
		}
		vhosts[i] = a.VirtualHost
	}
	changed := entries[benchAgents/2].Clone()
	changed.Endpoints[0].Weight = 5
	added := &registry.Entry{Name: "agent-05000x", Endpoints: changed.Endpoints, Card: changed.Card}

	b.Run("endpoints", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Resources(changed, opts); err != nil {
				b.Fatal(err)
			}
		}
	})
	membership := func(b *testing.B, marshal bool) {
		var sent int
		b.ReportAllocs()
		for b.Loop() {
			a, err := Resources(added, opts)
			if err != nil {
				b.Fatal(err)
			}
			i, _ := slices.BinarySearchFunc(vhosts, added.Name, func(v *route.VirtualHost, n string) int {
				return strings.Compare(v.GetName(), n)
			})
			rc, err := RouteConfiguration(slices.Insert(slices.Clip(vhosts), i, a.VirtualHost))
			if err != nil {
				b.Fatal(err)
			}
			if marshal {
				out, err := proto.Marshal(rc)
				if err != nil {
					b.Fatal(err)
				}
				sent = len(out)
			}
		}
		if marshal {
			b.ReportMetric(float64(sent), "bytes/op-sent")
		}
	}
	b.Run("membership", func(b *testing.B) { membership(b, false) })
	b.Run("membership+marshal", func(b *testing.B) { membership(b, true) })
}
