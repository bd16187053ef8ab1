package view

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Reasons for a full load of the view, the values of the "reason" label.
const (
	loadInitial   = "initial"   // the first load when Run starts
	loadCompacted = "compacted" // the feed no longer had the changes the view needed
)

// metrics are the view's Prometheus metrics.
type metrics struct {
	revision prometheus.Gauge
	entries  prometheus.Gauge
	changes  prometheus.Counter
	loads    *prometheus.CounterVec
}

// newMetrics builds the view's metrics and registers them with reg unless reg
// is nil.
func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		revision: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "sidecard_view_revision",
			Help: "Store revision the control plane's registry view has applied.",
		}),
		entries: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "sidecard_view_entries",
			Help: "Entries in the control plane's registry view.",
		}),
		changes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sidecard_view_changes_applied_total",
			Help: "Store changes applied to the registry view.",
		}),
		loads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sidecard_view_loads_total",
			Help: "Full loads of the registry view from the store, by reason (initial, compacted).",
		}, []string{"reason"}),
	}
	m.loads.WithLabelValues(loadInitial)
	m.loads.WithLabelValues(loadCompacted)
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.revision, m.entries, m.changes, m.loads} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register view metrics: %w", err)
		}
	}
	return m, nil
}
