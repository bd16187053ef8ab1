package xds

import (
	"fmt"
	"strconv"
	"testing"

	discovery "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"github.com/envoyproxy/go-control-plane/pkg/server/stream/v3"

	"github.com/sidecard/sidecard/registry"
	registryv1 "github.com/sidecard/sidecard/registry/v1"
)

// The fan-out scenario of BRIEF §6: fanoutEntries resources, fanoutStreams
// wildcard delta streams in sync, one entry changes, every stream receives
// it and re-arms its watch. RegistryCache and go-control-plane's LinearCache
// run the same scenario; compare their ns/op.
const (
	fanoutEntries = 100_000
	fanoutStreams = 20
)

func fanoutName(i int) string { return fmt.Sprintf("agent-%06d", i%fanoutEntries) }

func BenchmarkUpdateFanout(b *testing.B) {
	feed := newFakeFeed()
	for i := range fanoutEntries {
		feed.put(entry(fanoutName(i), "team=t"+strconv.Itoa(i%10)))
	}
	c := startCache(b, feed, RegistryCacheOptions{})
	streams := make([]*localStream, fanoutStreams)
	for i := range streams {
		streams[i] = newLocalStream(b, c, 1)
		streams[i].mustWatch(sub(node("n"+strconv.Itoa(i), nil), "*"))
		if got := len(streams[i].takeRaw(false).GetResources()); got != fanoutEntries {
			b.Fatalf("initial sync of %d resources", got)
		}
		streams[i].mustWatch(&discovery.DeltaDiscoveryRequest{ResponseNonce: "1"})
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		feed.put(entry(fanoutName(i), "team=t"+strconv.Itoa(i%10), "v="+strconv.Itoa(i)))
		for _, s := range streams {
			if got := s.takeRaw(false); len(got.GetResources()) != 1 {
				b.Fatalf("response with %d resources, want 1", len(got.GetResources()))
			}
			s.mustWatch(&discovery.DeltaDiscoveryRequest{ResponseNonce: "1"})
		}
	}
}

func BenchmarkLinearCacheUpdateFanout(b *testing.B) {
	initial := make(map[string]types.Resource, fanoutEntries)
	for i := range fanoutEntries {
		e := entry(fanoutName(i), "team=t"+strconv.Itoa(i%10))
		e.Revision = int64(i + 1)
		initial[e.Name] = registry.ToProto(e)
	}
	lc := cachev3.NewLinearCache(registryv1.TypeURL, cachev3.WithInitialResources(initial))
	type linearStream struct {
		sub stream.Subscription
		ch  chan cachev3.DeltaResponse
	}
	first := &discovery.DeltaDiscoveryRequest{TypeUrl: registryv1.TypeURL, ResourceNamesSubscribe: []string{"*"}}
	ack := &discovery.DeltaDiscoveryRequest{TypeUrl: registryv1.TypeURL, ResponseNonce: "1"}
	watch := func(s *linearStream, req *discovery.DeltaDiscoveryRequest) {
		if _, err := lc.CreateDeltaWatch(req, s.sub, s.ch); err != nil {
			b.Fatal(err)
		}
	}
	take := func(s *linearStream) *discovery.DeltaDiscoveryResponse {
		resp := <-s.ch
		s.sub.SetReturnedResources(resp.GetNextVersionMap())
		out, err := resp.GetDeltaDiscoveryResponse()
		if err != nil {
			b.Fatal(err)
		}
		return out
	}
	streams := make([]*linearStream, fanoutStreams)
	for i := range streams {
		s := &linearStream{sub: stream.NewDeltaSubscription([]string{"*"}, nil, nil, false),
			ch: make(chan cachev3.DeltaResponse, 1)}
		streams[i] = s
		watch(s, first)
		if got := len(take(s).GetResources()); got != fanoutEntries {
			b.Fatalf("initial sync of %d resources", got)
		}
		watch(s, ack)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		e := entry(fanoutName(i), "team=t"+strconv.Itoa(i%10), "v="+strconv.Itoa(i))
		e.Revision = int64(fanoutEntries + i)
		if err := lc.UpdateResource(e.Name, registry.ToProto(e)); err != nil {
			b.Fatal(err)
		}
		for _, s := range streams {
			if got := take(s); len(got.GetResources()) != 1 {
				b.Fatalf("response with %d resources, want 1", len(got.GetResources()))
			}
			watch(s, ack)
		}
	}
}
