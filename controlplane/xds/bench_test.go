package xds

import (
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

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

// BenchmarkUpdateDuringReconnects is BRIEF §6's reconnect storm:
// fanoutEntries resources, reconnectors goroutines opening stream after
// stream whose first request carries initial_resource_versions of every
// entry (a sidecar restarting with its replica), while each op commits one
// update and waits for its delivery to a stream in sync. It reports the
// longest wait for the cache's mutex seen by a probe locking it every
// millisecond (max-lock-wait-ms), the slowest update (max-update-ms) and the
// reconnects completed per second.
func BenchmarkUpdateDuringReconnects(b *testing.B) {
	const reconnectors = 2
	feed := newFakeFeed()
	known := make(map[string]string, fanoutEntries)
	for i := range fanoutEntries {
		known[fanoutName(i)] = strconv.FormatInt(feed.put(entry(fanoutName(i), "team=t"+strconv.Itoa(i%10))), 10)
	}
	c := startCache(b, feed, RegistryCacheOptions{})
	restart := func() error {
		first := sub(node("r", nil), "*")
		first.TypeUrl, first.InitialResourceVersions = registryv1.TypeURL, known
		ch := make(chan cachev3.DeltaResponse, 1)
		s := stream.NewDeltaSubscription(first.ResourceNamesSubscribe, nil, known, false)
		if _, err := c.CreateDeltaWatch(first, s, ch); err != nil {
			return err
		}
		<-ch
		return nil
	}
	settled := newLocalStream(b, c, 1)
	first := sub(node("n", nil), "*")
	first.InitialResourceVersions = known
	settled.mustWatch(first)
	settled.takeRaw(false)
	settled.mustWatch(&discovery.DeltaDiscoveryRequest{ResponseNonce: "1"})

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var reconnects atomic.Int64
	errs := make(chan error, reconnectors)
	for range reconnectors {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if err := restart(); err != nil {
					errs <- err
					return
				}
				reconnects.Add(1)
			}
		})
	}
	var maxWait atomic.Int64
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
			}
			t0 := time.Now()
			c.mu.Lock()
			wait := time.Since(t0)
			c.mu.Unlock()
			if int64(wait) > maxWait.Load() {
				maxWait.Store(int64(wait))
			}
		}
	})
	b.ReportAllocs()
	start := time.Now()
	var slowest time.Duration
	i := 0
	for b.Loop() {
		i++
		t0 := time.Now()
		feed.put(entry(fanoutName(i), "team=t"+strconv.Itoa(i%10), "v="+strconv.Itoa(i)))
		if got := settled.takeRaw(false); len(got.GetResources()) != 1 {
			b.Fatalf("response with %d resources, want 1", len(got.GetResources()))
		}
		settled.mustWatch(&discovery.DeltaDiscoveryRequest{ResponseNonce: "1"})
		slowest = max(slowest, time.Since(t0))
	}
	elapsed := time.Since(start)
	close(stop)
	wg.Wait()
	select {
	case err := <-errs:
		b.Fatalf("reconnect: %v", err)
	default:
	}
	b.ReportMetric(float64(slowest)/float64(time.Millisecond), "max-update-ms")
	b.ReportMetric(float64(maxWait.Load())/float64(time.Millisecond), "max-lock-wait-ms")
	b.ReportMetric(float64(reconnects.Load())/elapsed.Seconds(), "reconnects/s")
}
