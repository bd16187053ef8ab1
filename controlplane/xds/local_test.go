package xds

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discovery "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"github.com/envoyproxy/go-control-plane/pkg/server/stream/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	registryv1 "github.com/sidecard/sidecard/registry/v1"
)

// follower is what both caches of this package offer tests: a Run loop
// following the feed, readiness, and the revision applied.
type follower interface {
	Run(ctx context.Context) error
	WaitReady(ctx context.Context) error
	Revision() int64
}

// startCache runs a cache on feed until the test ends and waits for it to
// load.
func startCache(t testing.TB, feed *fakeFeed, opts RegistryCacheOptions) *RegistryCache {
	t.Helper()
	c, err := NewRegistryCache(feed, opts)
	if err != nil {
		t.Fatal(err)
	}
	startFollower(t, c)
	return c
}

// startFollower runs c until the test ends and waits for it to load.
func startFollower(t testing.TB, c follower) {
	t.Helper()
	runFollower(t, c)
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	if err := c.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
}

// runCache runs c until the test ends.
func runCache(t testing.TB, c *RegistryCache) { runFollower(t, c) }

// runFollower runs c until the test ends.
func runFollower(t testing.TB, c follower) {
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- c.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-ran; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}

// waitCache waits until c has applied revision rev.
func waitCache(t testing.TB, c *RegistryCache, rev int64) {
	t.Helper()
	waitRevision(t, "cache", c, rev)
}

// waitRevision waits until c, named what in the failure, has applied
// revision rev.
func waitRevision(t testing.TB, what string, c follower, rev int64) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for c.Revision() < rev {
		if time.Now().After(deadline) {
			t.Fatalf("%s at revision %d, want %d", what, c.Revision(), rev)
		}
		time.Sleep(time.Millisecond) // polling a condition
	}
}

// localStream drives CreateDeltaWatch as go-control-plane's delta server
// does for one stream: one subscription, one response channel, a new watch
// per request after cancelling the previous one, the node of the first
// request on later ones, the returned resources of each response applied to
// the subscription.
type localStream struct {
	t      testing.TB
	c      *RegistryCache
	sub    stream.Subscription
	ch     chan cachev3.DeltaResponse
	cancel func()
	opened bool
	node   *core.Node
}

func newLocalStream(t testing.TB, c *RegistryCache, capacity int) *localStream {
	return &localStream{t: t, c: c, ch: make(chan cachev3.DeltaResponse, capacity)}
}

// watch handles req as the server does and returns CreateDeltaWatch's error.
func (l *localStream) watch(req *discovery.DeltaDiscoveryRequest) error {
	req.TypeUrl = registryv1.TypeURL
	if req.GetNode() != nil {
		l.node = req.GetNode()
	} else {
		req.Node = l.node
	}
	if !l.opened {
		l.sub = stream.NewDeltaSubscription(req.GetResourceNamesSubscribe(), req.GetResourceNamesUnsubscribe(),
			req.GetInitialResourceVersions(), false)
		l.opened = true
	} else {
		if l.cancel != nil {
			l.cancel()
		}
		l.sub.UpdateResourceSubscriptions(req.GetResourceNamesSubscribe(), req.GetResourceNamesUnsubscribe())
	}
	var err error
	l.cancel, err = l.c.CreateDeltaWatch(req, l.sub, l.ch)
	return err
}

// mustWatch is watch failing the test on error.
func (l *localStream) mustWatch(req *discovery.DeltaDiscoveryRequest) {
	l.t.Helper()
	if err := l.watch(req); err != nil {
		l.t.Fatalf("CreateDeltaWatch: %v", err)
	}
}

// take receives the next response; unless unapplied, it records its
// returned resources in the subscription as the server does when it sends it.
func (l *localStream) take(unapplied bool) (deltaGot, *discovery.DeltaDiscoveryResponse) {
	l.t.Helper()
	out := l.takeRaw(unapplied)
	return gotDelta(l.t, out), out
}

// takeRaw is take without decoding the response.
func (l *localStream) takeRaw(unapplied bool) *discovery.DeltaDiscoveryResponse {
	l.t.Helper()
	select {
	case resp := <-l.ch:
		if !unapplied {
			l.sub.SetReturnedResources(resp.GetNextVersionMap())
		}
		out, err := resp.GetDeltaDiscoveryResponse()
		if err != nil {
			l.t.Fatal(err)
		}
		return out
	case <-time.After(waitFor):
		l.t.Fatal("no response")
		return nil
	}
}

// pending reports whether a response waits in the channel.
func (l *localStream) pending() bool { return len(l.ch) > 0 }

func TestWatchBeforeLoad(t *testing.T) {
	feed := newFakeFeed()
	feed.put(entry("a"))
	c, err := NewRegistryCache(feed, RegistryCacheOptions{})
	if err != nil {
		t.Fatal(err)
	}
	l := newLocalStream(t, c, 1)
	l.mustWatch(sub(node("n", nil), "*"))
	if c.Ready() || l.pending() || value(c.metrics.watches) != 1 {
		t.Fatalf("before Run: ready %v, response %v, watches %v", c.Ready(), l.pending(), value(c.metrics.watches))
	}
	runCache(t, c)
	got, _ := l.take(false)
	expect(t, "after the load", got, want([]string{at("a", 1)}))
	if !c.Ready() || c.Revision() != 1 {
		t.Fatalf("after Run: ready %v, revision %d", c.Ready(), c.Revision())
	}
	// The answered watch leaves the open set right after its response is
	// handed over.
	deadline := time.Now().Add(waitFor)
	for value(c.metrics.watches) != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("after Run: watches %v, want 0", value(c.metrics.watches))
		}
		time.Sleep(time.Millisecond) // polling a condition
	}
}

func TestInflightResponseNotYetApplied(t *testing.T) {
	feed := newFakeFeed()
	feed.put(entry("a"))
	c := startCache(t, feed, RegistryCacheOptions{})
	l := newLocalStream(t, c, 2)
	l.mustWatch(sub(node("n", nil), "*"))
	got, _ := l.take(false)
	expect(t, "initial", got, want([]string{at("a", 1)}))
	l.mustWatch(&discovery.DeltaDiscoveryRequest{ResponseNonce: "1"})

	// x is sent by a notification the server has not applied yet when the
	// client's next request arrives; x is then deleted.
	waitCache(t, c, feed.put(entry("x")))
	got, _ = l.take(true)
	expect(t, "x created", got, want([]string{at("x", 2)}))
	waitCache(t, c, feed.del("x"))
	l.mustWatch(&discovery.DeltaDiscoveryRequest{ResponseNonce: "1"})
	got, _ = l.take(false)
	expect(t, "next watch", got, want(nil, "x"))
}

func TestLaggingStreamCatchesUp(t *testing.T) {
	feed := newFakeFeed()
	for _, e := range []string{"a", "b", "d"} {
		feed.put(entry(e, "team=x"))
	}
	feed.put(entry("c", "team=y"))
	c := startCache(t, feed, RegistryCacheOptions{BatchLimit: 1, LogSize: 2, TombstoneLimit: 8})
	l := newLocalStream(t, c, 1)
	l.mustWatch(sub(node("n", map[string]string{"team": "x"}), "*"))
	got, _ := l.take(false)
	expect(t, "initial", got, want([]string{at("a", 1), at("b", 2), at("d", 3)}))

	// The client takes its time to ACK; meanwhile more changes than the log holds.
	ra := feed.put(entry("a", "team=x", "v=2"))
	feed.del("b")
	rc := feed.put(entry("c", "team=x"))
	feed.put(entry("d", "team=y"))
	waitCache(t, c, feed.put(entry("e", "team=y")))
	l.mustWatch(&discovery.DeltaDiscoveryRequest{ResponseNonce: "1"})
	got, _ = l.take(false)
	// d left the selector and b was deleted: removed. e changed since the
	// watermark and is not seen: the client may have held it, so it is
	// reported removed too.
	expect(t, "catching up", got, want([]string{at("a", ra), at("c", rc)}, "b", "d", "e"))
	if n := value(c.metrics.fullComparisons.WithLabelValues(fullLagging)); n != 1 {
		t.Fatalf("lagging comparisons = %v, want 1", n)
	}
}

func TestStreamTooFarBehindIsReset(t *testing.T) {
	tests := []struct {
		name string
		// behind makes the stream (synced at revision 3, watch rearmed or
		// not) fall behind every history.
		parked bool
	}{
		{"on its next request", false},
		{"while its watch is open", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			feed := newFakeFeed()
			for _, e := range []string{"a", "b", "c"} {
				feed.put(entry(e))
			}
			c := startCache(t, feed, RegistryCacheOptions{BatchLimit: 1, LogSize: 1, TombstoneLimit: 1})
			l := newLocalStream(t, c, 1)
			l.mustWatch(sub(node("n", nil), "*"))
			l.take(false)
			if tt.parked {
				l.mustWatch(&discovery.DeltaDiscoveryRequest{ResponseNonce: "1"})
				// Two deletions in one batch: a resync after compaction.
				feed.hold()
				feed.del("a")
				feed.del("b")
				feed.compact()
				feed.release()
				got, resp := l.take(false)
				expect(t, "reset response", got, want(nil))
				if resp.GetSystemVersionInfo() != "5" {
					t.Fatalf("reset response at version %q", resp.GetSystemVersionInfo())
				}
			} else {
				feed.del("a")
				waitCache(t, c, feed.del("b"))
			}
			err := l.watch(&discovery.DeltaDiscoveryRequest{ResponseNonce: "1"})
			if status.Code(err) != codes.Unavailable {
				t.Fatalf("CreateDeltaWatch: %v, want Unavailable", err)
			}
			if n := value(c.metrics.streamResets); n < 1 {
				t.Fatalf("stream resets = %v", n)
			}
		})
	}
}

func TestDeferredResponseIsRetried(t *testing.T) {
	feed := newFakeFeed()
	feed.put(entry("a"))
	c := startCache(t, feed, RegistryCacheOptions{RetryInterval: time.Millisecond})
	l := newLocalStream(t, c, 0) // unbuffered, nobody receiving: every send fails
	l.mustWatch(sub(node("n", nil), "*"))
	if value(c.metrics.deferred) < 1 || value(c.metrics.watches) != 1 {
		t.Fatalf("deferred %v, watches %v", value(c.metrics.deferred), value(c.metrics.watches))
	}
	got, _ := l.take(false)
	expect(t, "retried response", got, want([]string{at("a", 1)}))
	deadline := time.Now().Add(waitFor)
	for value(c.metrics.watches) != 0 {
		if time.Now().After(deadline) {
			t.Fatal("watch still open after its response")
		}
		time.Sleep(time.Millisecond) // polling a condition
	}
}

func TestRequestChecks(t *testing.T) {
	feed := newFakeFeed()
	c := startCache(t, feed, RegistryCacheOptions{})
	sotwSub := stream.NewSotwSubscription(nil, false)
	deltaSub := stream.NewDeltaSubscription([]string{"*"}, nil, nil, false)
	tests := []struct {
		name string
		call func() error
		code codes.Code // codes.OK: any error
	}{
		{"fetch", func() error {
			_, err := c.Fetch(context.Background(), &discovery.DiscoveryRequest{TypeUrl: registryv1.TypeURL})
			return err
		}, codes.OK},
		{"delta watch of another type", func() error {
			_, err := c.CreateDeltaWatch(&discovery.DeltaDiscoveryRequest{TypeUrl: "type.googleapis.com/x"},
				deltaSub, make(chan cachev3.DeltaResponse, 1))
			return err
		}, codes.OK},
		{"sotw watch of another type", func() error {
			_, err := c.CreateWatch(&discovery.DiscoveryRequest{TypeUrl: "type.googleapis.com/x"},
				sotwSub, make(chan cachev3.Response, 1))
			return err
		}, codes.OK},
		{"initial version for the state key", func() error {
			_, err := c.CreateDeltaWatch(&discovery.DeltaDiscoveryRequest{TypeUrl: registryv1.TypeURL,
				InitialResourceVersions: map[string]string{stateKey: "9 1 {}"}},
				deltaSub, make(chan cachev3.DeltaResponse, 1))
			return err
		}, codes.InvalidArgument},
		{"sotw watch with a bad selector", func() error {
			n := node("n", map[string]string{"team": "x"})
			n.Metadata.Fields["selector"] = n.Metadata.Fields["labels"].GetStructValue().Fields["zone"]
			_, err := c.CreateWatch(&discovery.DiscoveryRequest{TypeUrl: registryv1.TypeURL, Node: n},
				sotwSub, make(chan cachev3.Response, 1))
			return err
		}, codes.InvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if err == nil {
				t.Fatal("no error")
			}
			if tt.code != codes.OK && status.Code(err) != tt.code {
				t.Fatalf("error %v, want code %v", err, tt.code)
			}
		})
	}
}

func TestInflightForgottenAfterTTL(t *testing.T) {
	feed := newFakeFeed()
	feed.put(entry("a"))
	c, err := NewRegistryCache(feed, RegistryCacheOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var clock atomic.Int64 // seconds since the epoch of the fake clock
	c.now = func() time.Time { return time.Unix(clock.Load(), 0) }
	runCache(t, c)
	l := newLocalStream(t, c, 1)
	l.mustWatch(sub(node("n", nil), "*"))
	l.take(false)
	l.mustWatch(&discovery.DeltaDiscoveryRequest{ResponseNonce: "1"})
	feed.put(entry("x"))
	l.take(false) // sent by a notification: remembered; the stream then closes
	l.cancel()

	inflightLen := func() int {
		c.mu.Lock()
		defer c.mu.Unlock()
		return len(c.inflight)
	}
	if n := inflightLen(); n != 1 {
		t.Fatalf("%d responses remembered, want 1", n)
	}
	clock.Add(int64(2 * inflightTTL / time.Second))
	waitCache(t, c, feed.put(entry("y")))
	if n := inflightLen(); n != 0 {
		t.Fatalf("%d responses remembered after the TTL, want 0", n)
	}
}
