package xds

import (
	"time"

	"testing"

	discovery "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	grpcstatus "google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/structpb"
)

func TestDeltaWildcardFanout(t *testing.T) {
	h := newHarness(t, entry("a"), entry("b"), entry("c"))
	streams := []*deltaClient{
		h.delta(sub(node("n1", nil), "*")),
		h.delta(sub(node("n2", nil), "*")),
		h.delta(sub(node("n3", nil), "*")),
	}
	for _, s := range streams {
		expect(t, "initial sync", s.next(), want([]string{at("a", 1), at("b", 2), at("c", 3)}))
	}
	steps := []struct {
		name   string
		change func() int64
		want   func(rev int64) deltaGot
	}{
		{"update", func() int64 { return h.feed.put(entry("b", "v=2")) },
			func(rev int64) deltaGot { return want([]string{at("b", rev)}) }},
		{"delete", func() int64 { return h.feed.del("a") },
			func(int64) deltaGot { return want(nil, "a") }},
		{"create", func() int64 { return h.feed.put(entry("d")) },
			func(rev int64) deltaGot { return want([]string{at("d", rev)}) }},
		{"burst", func() int64 {
			h.feed.hold()
			h.feed.put(entry("c", "v=2"))
			h.feed.put(entry("e"))
			rev := h.feed.del("d")
			h.feed.release()
			return rev
		}, func(rev int64) deltaGot { return want([]string{at("c", rev-2), at("e", rev-1)}, "d") }},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			rev := st.change()
			for _, s := range streams {
				expect(t, st.name, s.until(rev), st.want(rev))
			}
		})
	}
	m := h.cache.metrics
	if got := value(m.fullComparisons.WithLabelValues(fullFirstWatch)); got != 3 {
		t.Errorf("first-watch comparisons = %v, want 3", got)
	}
	for _, reason := range []string{fullView, fullLagging} {
		if got := value(m.fullComparisons.WithLabelValues(reason)); got != 0 {
			t.Errorf("%s comparisons = %v, want 0: a re-arm walked every resource", reason, got)
		}
	}
}

func TestDeltaExplicitNames(t *testing.T) {
	h := newHarness(t, entry("a"), entry("b"))
	s := h.delta(sub(node("n", nil), "a", "ghost"))
	expect(t, "initial", s.next(), want([]string{at("a", 1)}, "ghost"))

	h.feed.put(entry("b", "v=2")) // not subscribed: never sent
	rev := h.feed.put(entry("a", "v=2"))
	expect(t, "update of a", s.until(rev), want([]string{at("a", rev)}))

	rev = h.feed.del("a")
	expect(t, "delete of a", s.until(rev), want(nil, "a"))

	rev = h.feed.put(entry("ghost"))
	expect(t, "ghost created", s.until(rev), want([]string{at("ghost", rev)}))
}

func TestDeltaSubscriptionChanges(t *testing.T) {
	h := newHarness(t, entry("a"), entry("b"), entry("c"))
	s := h.delta(sub(node("n", nil), "a"))
	expect(t, "initial", s.next(), want([]string{at("a", 1)}))

	s.send(sub(nil, "b", "ghost"))
	expect(t, "subscribe b and ghost", s.next(), want([]string{at("b", 2)}, "ghost"))

	// The subscription to ghost2 makes the server answer, so the update of a
	// below comes after the unsubscription.
	s.send(&discovery.DeltaDiscoveryRequest{ResourceNamesUnsubscribe: []string{"a"},
		ResourceNamesSubscribe: []string{"ghost2"}})
	expect(t, "unsubscribe a", s.next(), want(nil, "ghost2"))
	h.feed.put(entry("a", "v=2")) // unsubscribed: never sent
	rev := h.feed.put(entry("b", "v=2"))
	expect(t, "after unsubscribing a", s.until(rev), want([]string{at("b", rev)}))

	s.send(sub(nil, "*"))
	expect(t, "subscribe to wildcard", s.next(), want([]string{at("a", rev-1), at("c", 3)}))

	// Explicitly unsubscribing a name while wildcard: the server asks the
	// cache to say whether it still exists.
	s.send(&discovery.DeltaDiscoveryRequest{ResourceNamesUnsubscribe: []string{"b"}})
	expect(t, "unsubscribe b while wildcard", s.next(), want([]string{at("b", rev)}))

	s.send(&discovery.DeltaDiscoveryRequest{ResourceNamesUnsubscribe: []string{"*"}})
	expect(t, "leave wildcard", s.next(), want(nil, "a", "b", "c"))

	rev = h.feed.put(entry("ghost"))
	expect(t, "still subscribed to ghost", s.until(rev), want([]string{at("ghost", rev)}))
}

func TestDeltaReconnectWithInitialVersions(t *testing.T) {
	h := newHarness(t, entry("a", "team=x"), entry("b", "team=x"), entry("c", "team=y"), entry("gone"))
	h.feed.del("gone")
	h.feed.put(entry("a", "team=x", "v=2"))
	h.waitRevision(h.feed.put(entry("d", "team=x")))
	// Now: a@6 b@2 c@3 d@7; gone deleted at 5.
	tests := []struct {
		name     string
		node     map[string]string
		subs     []string
		initial  map[string]string
		expected deltaGot
	}{
		{"wildcard up to date", nil, []string{"*"},
			map[string]string{"a": "6", "b": "2", "c": "3", "d": "7"}, want(nil)},
		{"wildcard behind", nil, []string{"*"},
			map[string]string{"a": "1", "b": "2", "c": "3", "gone": "4", "zzz": "9"},
			want([]string{at("a", 6), at("d", 7)}, "gone", "zzz")},
		{"wildcard from nothing", nil, []string{"*"}, nil,
			want([]string{at("a", 6), at("b", 2), at("c", 3), at("d", 7)})},
		{"explicit names", nil, []string{"a", "b", "gone", "ghost"},
			map[string]string{"a": "6", "b": "1", "gone": "4", "c": "3"},
			want([]string{at("b", 2)}, "ghost", "gone")},
		{"selector", map[string]string{"team": "x"}, []string{"*"},
			map[string]string{"a": "1", "b": "2", "c": "3"},
			want([]string{at("a", 6), at("d", 7)}, "c")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			first := sub(node("n", tt.node), tt.subs...)
			first.InitialResourceVersions = tt.initial
			s := h.delta(first)
			expect(t, "first response", s.next(), tt.expected)
		})
	}
}

func TestDeltaSelector(t *testing.T) {
	h := newHarness(t, entry("a", "team=forecast"), entry("b", "team=billing"), entry("c", "team=forecast"))
	forecast := map[string]string{"team": "forecast"}
	wild := h.delta(sub(node("w", forecast), "*"))
	named := h.delta(sub(node("e", forecast), "a", "b"))
	expect(t, "wildcard initial", wild.next(), want([]string{at("a", 1), at("c", 3)}))
	expect(t, "named initial", named.next(), want([]string{at("a", 1)}, "b"))

	h.feed.put(entry("b", "team=billing", "v=2")) // seen by neither
	rev := h.feed.put(entry("a", "team=forecast", "v=2"))
	expect(t, "wildcard: invisible change skipped", wild.until(rev), want([]string{at("a", rev)}))
	expect(t, "named: invisible change skipped", named.until(rev), want([]string{at("a", rev)}))

	rev = h.feed.put(entry("b", "team=forecast"))
	expect(t, "wildcard: b enters", wild.until(rev), want([]string{at("b", rev)}))
	expect(t, "named: b enters", named.until(rev), want([]string{at("b", rev)}))

	rev = h.feed.put(entry("a", "team=billing"))
	expect(t, "wildcard: a leaves", wild.until(rev), want(nil, "a"))
	expect(t, "named: a leaves", named.until(rev), want(nil, "a"))

	// The node changes its selector on a later request of the same stream.
	wild.send(&discovery.DeltaDiscoveryRequest{Node: node("w", map[string]string{"team": "billing"})})
	expect(t, "selector change", wild.next(), want([]string{at("a", rev)}, "b", "c"))
	rev = h.feed.put(entry("c", "team=billing"))
	expect(t, "after the selector change", wild.until(rev), want([]string{at("c", rev)}))
}

func TestDeltaNACKKeepsTheStream(t *testing.T) {
	h := newHarness(t, entry("a"), entry("b"))
	s := h.delta(sub(node("n", nil), "*"))
	expect(t, "initial", s.next(), want([]string{at("a", 1), at("b", 2)}))

	rev := h.feed.put(entry("a", "v=2"))
	resp := s.recv()
	expect(t, "update", gotDelta(t, resp), want([]string{at("a", rev)}))
	s.send(&discovery.DeltaDiscoveryRequest{ResponseNonce: resp.GetNonce(),
		ErrorDetail: &status.Status{Code: int32(codes.InvalidArgument), Message: "a: bad card"}})

	rev = h.feed.put(entry("b", "v=2"))
	expect(t, "next update, NACKed one not resent", s.until(rev), want([]string{at("b", rev)}))
}

func TestDeltaCompactedFeedResync(t *testing.T) {
	h := newHarness(t, entry("a"), entry("b"), entry("c"))
	s := h.delta(sub(node("n", nil), "*"))
	expect(t, "initial", s.next(), want([]string{at("a", 1), at("b", 2), at("c", 3)}))

	h.feed.hold()
	ra := h.feed.put(entry("a", "v=2"))
	h.feed.del("b")
	rd := h.feed.put(entry("d"))
	h.feed.compact()
	h.feed.release()
	expect(t, "after resync", s.until(rd), want([]string{at("a", ra), at("d", rd)}, "b"))
	if got := value(h.cache.metrics.resyncs); got != 1 {
		t.Fatalf("resyncs = %v, want 1", got)
	}
}

func TestDeltaBadSelector(t *testing.T) {
	h := newHarness(t, entry("a"))
	n := node("n", nil)
	n.Metadata = &structpb.Struct{Fields: map[string]*structpb.Value{
		"selector": structpb.NewStructValue(&structpb.Struct{Fields: map[string]*structpb.Value{
			"team": structpb.NewNumberValue(5)}})}}
	s := h.delta(sub(n, "*"))
	select {
	case _, ok := <-s.resps:
		if ok {
			t.Fatal("got a response for a node with a bad selector")
		}
	case <-time.After(waitFor):
		t.Fatal("stream not closed")
	}
	if err := <-s.ended; grpcstatus.Code(err) != codes.InvalidArgument {
		t.Fatalf("stream ended with %v, want InvalidArgument", err)
	}
}
