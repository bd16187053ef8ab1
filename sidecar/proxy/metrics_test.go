package proxy

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sidecard/sidecard/registry"
)

// TestStateFollowsReplica checks that the pools of an endpoint that left
// its entry are closed, and that an agent that left the replica is
// dropped with its metric children.
func TestStateFollowsReplica(t *testing.T) {
	a1, a2 := newUpstream(t, nil), newUpstream(t, nil)
	other := newUpstream(t, nil)
	e := newEnv(t, []*registry.Entry{simpleEntry(t, "x", 1, a1.url, a2.url), simpleEntry(t, "y", 1, other.url)}, nil)
	for range 4 {
		e.do(t, "GET", "/a2a/x", "", nil)
	}
	e.do(t, "GET", "/a2a/y", "", nil)
	if a1.hits() != 2 || a2.hits() != 2 {
		t.Fatalf("round robin: %d and %d requests, want 2 and 2", a1.hits(), a2.hits())
	}
	dropped := agentOf(e.p, "x").view.Load().eps[1]

	// x loses its second endpoint; y leaves the replica.
	e.replica.Replace([]*registry.Entry{simpleEntry(t, "x", 2, a1.url)}, nil)
	eventually(t, "y to be dropped", func() bool { return agentOf(e.p, "y") == nil })
	eventually(t, "x's view to follow its entry", func() bool { return len(agentOf(e.p, "x").view.Load().eps) == 1 })
	eventually(t, "the removed endpoint's pool to close", func() bool { return dropped.client.ConnsCount() == 0 })
	for _, name := range []string{"sidecard_proxy_requests_total", "sidecard_proxy_open_connections",
		"sidecard_proxy_upstream_duration_seconds", "sidecard_proxy_retries_total", "sidecard_proxy_ejections_total"} {
		if _, ok := metricValue(t, e.reg, name, map[string]string{"agent": "y"}); ok {
			t.Errorf("%s still has agent=y", name)
		}
		if _, ok := metricValue(t, e.reg, name, map[string]string{"agent": "x"}); !ok {
			t.Errorf("%s lost agent=x", name)
		}
	}
	for range 2 {
		e.do(t, "GET", "/a2a/x", "", nil)
	}
	if a1.hits() != 4 || a2.hits() != 2 {
		t.Errorf("after the update: %d and %d requests, want 4 and 2", a1.hits(), a2.hits())
	}
	if r := e.do(t, "GET", "/a2a/y", "", nil); r.status != 404 {
		t.Errorf("y after removal: %d", r.status)
	}
}

// TestMetricsRegisterOnce checks that a second proxy on the same
// registerer fails rather than sharing metrics.
func TestMetricsRegisterOnce(t *testing.T) {
	reg := prometheus.NewRegistry()
	e := newEnv(t, nil, nil)
	if _, err := New(DefaultOptions(), Deps{Source: e.replica, Registerer: reg}); err != nil {
		t.Fatal(err)
	}
	if _, err := New(DefaultOptions(), Deps{Source: e.replica, Registerer: reg}); err == nil {
		t.Fatal("registering the metrics twice succeeded")
	}
}
