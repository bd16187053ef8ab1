package xds

import (
	"sync"
	"testing"
	"time"

	discovery "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
)

// blockComparisons makes every comparison of a first watch of c signal on
// started once it runs (outside the cache's mutex) and wait for release,
// which the end of the test calls too (before stopping the cache). It must
// be called before the cache's goroutines start comparing.
func blockComparisons(t *testing.T, c *RegistryCache) (started <-chan struct{}, release func()) {
	s := make(chan struct{}, 16)
	r := make(chan struct{})
	c.comparing = func() {
		s <- struct{}{}
		<-r
	}
	release = sync.OnceFunc(func() { close(r) })
	t.Cleanup(release)
	return s, release
}

// waitSignal waits for a value on ch or fails the test.
func waitSignal(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(waitFor):
		t.Fatalf("%s: timed out", what)
	}
}

// reconnect opens a stream on l whose first request carries known as its
// initial_resource_versions, on a goroutine; the channel returned yields
// CreateDeltaWatch's error.
func reconnect(l *localStream, id string, known map[string]string) <-chan error {
	first := sub(node(id, nil), "*")
	first.InitialResourceVersions = known
	watched := make(chan error, 1)
	go func() { watched <- l.watch(first) }()
	return watched
}

var ack = func() *discovery.DeltaDiscoveryRequest { return &discovery.DeltaDiscoveryRequest{ResponseNonce: "1"} }

// TestUpdatesFlowDuringFirstWatchComparison holds the comparison of a
// reconnecting stream's initial_resource_versions while changes are applied:
// another stream receives them meanwhile, and the reconnecting stream, brought
// to the revision of its snapshot, gets them with its next watch.
func TestUpdatesFlowDuringFirstWatchComparison(t *testing.T) {
	feed := newFakeFeed()
	for _, name := range []string{"a", "b", "c"} {
		feed.put(entry(name))
	}
	c := startCache(t, feed, RegistryCacheOptions{})
	settled := newLocalStream(t, c, 1)
	settled.mustWatch(sub(node("settled", nil), "*"))
	settled.take(false)
	settled.mustWatch(ack())

	started, release := blockComparisons(t, c)
	r := newLocalStream(t, c, 1)
	watched := reconnect(r, "reconnecting", map[string]string{"a": "1", "b": "2", "c": "3"})
	waitSignal(t, started, "comparison")

	ra := feed.put(entry("a", "v=2"))
	got, _ := settled.take(false)
	expect(t, "update during the comparison", got, want([]string{at("a", ra)}))
	settled.mustWatch(ack())
	feed.del("b")
	got, _ = settled.take(false)
	expect(t, "deletion during the comparison", got, want(nil, "b"))
	settled.mustWatch(ack())
	rd := feed.put(entry("d"))
	got, _ = settled.take(false)
	expect(t, "creation during the comparison", got, want([]string{at("d", rd)}))
	settled.mustWatch(ack())

	release()
	if err := <-watched; err != nil {
		t.Fatalf("CreateDeltaWatch: %v", err)
	}
	got, resp := r.take(false)
	expect(t, "first response", got, want(nil))
	if v := resp.GetSystemVersionInfo(); v != "3" {
		t.Fatalf("first response at version %q, want the snapshot's (3)", v)
	}
	r.mustWatch(ack())
	got, _ = r.take(false)
	expect(t, "next watch", got, want([]string{at("a", ra), at("d", rd)}, "b"))
}

// TestEarlyWatchesAnsweredAfterLoad opens more streams than GOMAXPROCS
// before the first load; each is compared with its known versions once the
// cache is loaded.
func TestEarlyWatchesAnsweredAfterLoad(t *testing.T) {
	feed := newFakeFeed()
	for _, name := range []string{"a", "b", "c"} {
		feed.put(entry(name))
	}
	c, err := NewRegistryCache(feed, RegistryCacheOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		known map[string]string
		want  deltaGot
	}{
		{nil, want([]string{at("a", 1), at("b", 2), at("c", 3)})},
		{map[string]string{"a": "1", "b": "2", "c": "3"}, want(nil)},
		{map[string]string{"a": "1", "b": "1"}, want([]string{at("b", 2), at("c", 3)})},
		{map[string]string{"a": "1", "b": "2", "c": "3", "gone": "9"}, want(nil, "gone")},
		{map[string]string{"x": "1", "y": "2"}, want([]string{at("a", 1), at("b", 2), at("c", 3)}, "x", "y")},
	}
	streams := make([]*localStream, len(tests))
	for i, tt := range tests {
		streams[i] = newLocalStream(t, c, 1)
		if err := <-reconnect(streams[i], "n", tt.known); err != nil {
			t.Fatalf("CreateDeltaWatch: %v", err)
		}
	}
	runCache(t, c)
	for i, tt := range tests {
		got, _ := streams[i].take(false)
		expect(t, "after the load", got, tt.want)
	}
}

// TestEarlyWatchCancelledWhileCompared cancels a watch created before the
// first load while its comparison runs: the cancel waits for the comparison
// (which reads the stream's subscription), and the watch is not answered.
func TestEarlyWatchCancelledWhileCompared(t *testing.T) {
	feed := newFakeFeed()
	feed.put(entry("a"))
	c, err := NewRegistryCache(feed, RegistryCacheOptions{})
	if err != nil {
		t.Fatal(err)
	}
	started, release := blockComparisons(t, c)
	l := newLocalStream(t, c, 1)
	if err := <-reconnect(l, "n", nil); err != nil {
		t.Fatalf("CreateDeltaWatch: %v", err)
	}
	runCache(t, c)
	t.Cleanup(release) // again, to run before runCache's: Run waits for the comparison
	waitSignal(t, started, "comparison")

	cancelled := make(chan struct{})
	go func() {
		l.cancel()
		close(cancelled)
	}()
	deadline := time.Now().Add(waitFor)
	for value(c.metrics.watches) != 0 { // the cancel removed the watch
		if time.Now().After(deadline) {
			t.Fatal("watch not removed by its cancel")
		}
		time.Sleep(time.Millisecond) // polling a condition
	}
	select {
	case <-cancelled:
		t.Fatal("cancel returned while the comparison reads the stream's subscription")
	default:
	}
	release()
	waitSignal(t, cancelled, "cancel")
	c.mu.Lock()
	inflight := len(c.inflight)
	c.mu.Unlock()
	if l.pending() || inflight != 0 || value(c.metrics.watches) != 0 {
		t.Fatalf("cancelled watch answered: response %v, remembered %d, watches %v",
			l.pending(), inflight, value(c.metrics.watches))
	}
}

// TestDeferredFirstResponseKeepsItsSnapshot defers a first response (its
// channel is full) while a change is applied: the response handed over
// later is the one computed, at its snapshot's revision, and the change
// comes with the next watch.
func TestDeferredFirstResponseKeepsItsSnapshot(t *testing.T) {
	feed := newFakeFeed()
	feed.put(entry("a"))
	c := startCache(t, feed, RegistryCacheOptions{RetryInterval: time.Millisecond})
	l := newLocalStream(t, c, 0) // unbuffered, nobody receiving: every send fails
	l.mustWatch(sub(node("n", nil), "*"))
	if value(c.metrics.deferred) < 1 || value(c.metrics.watches) != 1 {
		t.Fatalf("deferred %v, watches %v", value(c.metrics.deferred), value(c.metrics.watches))
	}
	rb := feed.put(entry("b"))
	waitCache(t, c, rb)
	got, resp := l.take(false)
	expect(t, "deferred first response", got, want([]string{at("a", 1)}))
	if v := resp.GetSystemVersionInfo(); v != "1" {
		t.Fatalf("deferred first response at version %q, want its snapshot's (1)", v)
	}
	l.mustWatch(ack())
	got, _ = l.take(false)
	expect(t, "next watch", got, want([]string{at("b", rb)}))
}
