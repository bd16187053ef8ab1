package reloadmetrics

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

func value(t *testing.T, c prometheus.Collector) float64 {
	t.Helper()
	ch := make(chan prometheus.Metric, 1)
	c.Collect(ch)
	var m dto.Metric
	if err := (<-ch).Write(&m); err != nil {
		t.Fatal(err)
	}
	if m.Counter != nil {
		return m.Counter.GetValue()
	}
	return m.Gauge.GetValue()
}

func TestObserve(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := New(reg, "sidecar")
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		result             string
		restartKeys        int
		wantLast, wantRest float64
	}{
		{Success, 0, 1, 0},
		{Failure, 0, 0, 0},
		{Unchanged, 2, 1, 1},
		{Success, 0, 1, 0},
	}
	for i, s := range steps {
		m.Observe(s.result, s.restartKeys)
		if got := value(t, m.lastSuccessful); got != s.wantLast {
			t.Errorf("step %d: last_reload_successful = %v, want %v", i, got, s.wantLast)
		}
		if got := value(t, m.restartRequired); got != s.wantRest {
			t.Errorf("step %d: restart_required = %v, want %v", i, got, s.wantRest)
		}
	}
	if got := value(t, m.reloads.WithLabelValues(Success)); got != 2 {
		t.Errorf("reloads{success} = %v, want 2", got)
	}
}

// Both components register their families in one registry (sidecard dev).
func TestTwoComponentsShareARegistry(t *testing.T) {
	reg := prometheus.NewRegistry()
	if _, err := New(reg, "controlplane"); err != nil {
		t.Fatal(err)
	}
	if _, err := New(reg, "sidecar"); err != nil {
		t.Fatalf("second component: %v", err)
	}
	if _, err := New(reg, "sidecar"); err == nil {
		t.Fatal("the same component twice registered without error")
	}
}
