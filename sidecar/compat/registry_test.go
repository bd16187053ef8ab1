package compat_test

import (
	"context"
	"testing"
	"time"

	"github.com/sidecard/sidecard/cache"
	"github.com/sidecard/sidecard/internal/a2aregistry"
	"github.com/sidecard/sidecard/registry"
	"github.com/sidecard/sidecard/sidecar/compat"
)

// TestReplicaRegistryWrites checks a registration's merge with the entry
// at the control plane, its retry when it races another write, and that a
// write waits for the replica only as long as the visible wait.
func TestReplicaRegistryWrites(t *testing.T) {
	replica, err := cache.NewReplica(cache.ReplicaOptions{})
	if err != nil {
		t.Fatal(err)
	}
	w := newFakeWriter(replica)
	reg, err := compat.NewReplicaRegistry(replica, w, 100*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	c, err := registry.ParseCard([]byte(weatherCard))
	if err != nil {
		t.Fatal(err)
	}
	custom := []registry.Endpoint{{URL: "http://10.0.0.7:9001", Weight: 2}}
	w.mu.Lock()
	w.store(&registry.Entry{Name: "weather", Card: c, Endpoints: custom, TTLSeconds: 30,
		Labels: map[string]string{"team": "forecast"}}, registry.SourceAPI)
	w.raceOnce = true
	w.mu.Unlock()

	stored, err := reg.Register(ctx, &registry.Entry{Name: "weather", Card: c, Endpoints: c.DefaultEndpoints(),
		Labels: map[string]string{a2aregistry.LabelNormalised: "true"}})
	if err != nil {
		t.Fatal(err)
	}
	if stored.TTLSeconds != 30 || stored.Labels["team"] != "forecast" || stored.Labels[a2aregistry.LabelNormalised] != "true" ||
		len(stored.Endpoints) != 1 || stored.Endpoints[0] != custom[0] {
		t.Errorf("merged entry %+v", stored)
	}
	if w.puts != 2 {
		t.Errorf("%d puts, want 2 (one raced, one retried)", w.puts)
	}
	if got, err := reg.Get(ctx, "weather"); err != nil || got.Revision != stored.Revision {
		t.Errorf("the replica does not show the write at once: %+v %v", got, err)
	}

	w.propagate = false // an entry this sidecar does not replicate
	start := time.Now()
	if _, err := reg.Register(ctx, &registry.Entry{Name: "elsewhere", Card: c, Endpoints: c.DefaultEndpoints()}); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 100*time.Millisecond || d > 5*time.Second {
		t.Errorf("a write the replica never shows answered after %v, want the visible wait", d)
	}
	if n, _ := reg.Count(ctx); n != 1 {
		t.Errorf("Count = %d, want 1", n)
	}
}
