package xdsclient

import (
	"maps"
	"testing"
	"time"

	"github.com/sidecard/sidecard/cache"
)

func TestOptionsValidate(t *testing.T) {
	r, err := cache.NewReplica(cache.ReplicaOptions{})
	if err != nil {
		t.Fatal(err)
	}
	valid := func() Options {
		return Options{Addresses: []string{"127.0.0.1:18000"}, NodeID: "host-a", Replica: r}
	}
	tests := []struct {
		name string
		mod  func(*Options)
		ok   bool
	}{
		{"defaults", func(*Options) {}, true},
		{"no address", func(o *Options) { o.Addresses = nil }, false},
		{"an empty address", func(o *Options) { o.Addresses = append(o.Addresses, "") }, false},
		{"no node id", func(o *Options) { o.NodeID = "" }, false},
		{"no replica", func(o *Options) { o.Replica = nil }, false},
		{"max below initial", func(o *Options) { o.Backoff = BackoffOptions{Initial: time.Second, Max: time.Millisecond} }, false},
		{"negative initial", func(o *Options) { o.Backoff.Initial = -time.Second }, false},
		{"keepalive below gRPC's minimum", func(o *Options) { o.Keepalive.Time = 5 * time.Second }, false},
		{"negative keepalive timeout", func(o *Options) { o.Keepalive.Timeout = -time.Second }, false},
		{"custom keepalive", func(o *Options) { o.Keepalive = KeepaliveOptions{Time: 30 * time.Second, Timeout: time.Second} }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := valid()
			tt.mod(&o)
			if err := o.Validate(); (err == nil) != tt.ok {
				t.Fatalf("Validate() = %v, want ok %v", err, tt.ok)
			}
		})
	}
}

func TestOptionsDefaults(t *testing.T) {
	labels := map[string]string{"zone": "eu-1"}
	o := Options{Labels: labels}.withDefaults()
	if o.Backoff != DefaultBackoff() || o.Keepalive != DefaultKeepalive() ||
		o.DialTimeout != DefaultDialTimeout || o.MaxMessageBytes != DefaultMaxMessageBytes {
		t.Errorf("defaults not applied: %+v", o)
	}
	if DefaultKeepalive().Time != 10*time.Second || DefaultKeepalive().Timeout > 3*time.Second {
		t.Errorf("DefaultKeepalive = %+v, want 10 s and at most 3 s", DefaultKeepalive())
	}
	o.Labels["zone"] = "changed"
	if labels["zone"] != "eu-1" {
		t.Error("withDefaults shares the caller's labels map")
	}
	ka := keepaliveParams(o.Keepalive)
	if ka.Time != 10*time.Second || ka.Timeout != 3*time.Second || !ka.PermitWithoutStream {
		t.Errorf("keepalive parameters %+v", ka)
	}
}

func TestJitterBackoff(t *testing.T) {
	b := newJitterBackoff(BackoffOptions{Initial: 100 * time.Millisecond, Max: time.Second})
	ceilings := []time.Duration{100, 200, 400, 800, 1000, 1000}
	for round := range 2 {
		for i, c := range ceilings {
			ceiling := c * time.Millisecond
			if d := b.NextBackOff(); d <= 0 || d > ceiling {
				t.Fatalf("round %d wait %d = %v, want in (0, %v]", round, i, d, ceiling)
			}
		}
		b.Reset()
	}
	// Full jitter spreads waits over the whole range.
	var low, high bool
	for range 200 {
		b.Reset()
		d := b.NextBackOff()
		low = low || d < 30*time.Millisecond
		high = high || d > 70*time.Millisecond
	}
	if !low || !high {
		t.Errorf("200 first waits did not spread over (0, 100ms]: low %v high %v", low, high)
	}
}

func TestBuildNode(t *testing.T) {
	n := buildNode("host-a", map[string]string{"zone": "eu-1"}, nil)
	if n.GetId() != "host-a" || n.GetUserAgentName() != userAgent {
		t.Errorf("node %v", n)
	}
	md := n.GetMetadata().AsMap()
	if got := md[metadataLabels]; !maps.Equal(toStrings(got), map[string]string{"zone": "eu-1"}) {
		t.Errorf("labels %v", got)
	}
	if got, ok := md[metadataSelector]; !ok || len(toStrings(got)) != 0 {
		t.Errorf("selector %v (present %v), want an empty struct", got, ok)
	}
}

func TestSetSelectorSignalsOnlyChanges(t *testing.T) {
	r, err := cache.NewReplica(cache.ReplicaOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(Options{Addresses: []string{"127.0.0.1:1"}, NodeID: "n", Replica: r,
		Selector: map[string]string{"team": "a"}})
	if err != nil {
		t.Fatal(err)
	}
	c.SetSelector(map[string]string{"team": "a"})
	c.SetLabels(nil)
	if len(c.nodeChanged) != 0 {
		t.Fatal("an unchanged selector or labels signalled the stream")
	}
	sel := map[string]string{"team": "b"}
	c.SetSelector(sel)
	sel["team"] = "mutated"
	c.SetLabels(map[string]string{"zone": "x"})
	if len(c.nodeChanged) != 1 {
		t.Fatal("a change did not signal the stream")
	}
	md := c.node().GetMetadata().AsMap()
	if toStrings(md[metadataSelector])["team"] != "b" || toStrings(md[metadataLabels])["zone"] != "x" {
		t.Errorf("node metadata %v", md)
	}
}

// toStrings converts a decoded Struct of strings back to a map.
func toStrings(v any) map[string]string {
	m, _ := v.(map[string]any)
	out := make(map[string]string, len(m))
	for k, x := range m {
		out[k], _ = x.(string)
	}
	return out
}
