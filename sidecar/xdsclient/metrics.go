package xdsclient

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Operations of an applied resource change, the values of the "op" label.
const (
	opUpsert = "upsert"
	opRemove = "remove"
)

// metrics are a Client's metrics.
type metrics struct {
	connected   prometheus.Gauge
	applied     *prometheus.CounterVec
	nacks       prometheus.Counter
	reconnects  prometheus.Counter
	updateDelay prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		connected: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "sidecard_sidecar_stream_connected",
			Help: "1 while the sidecar has a live xDS stream to a control plane, else 0.",
		}),
		applied: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sidecard_sidecar_updates_applied_total",
			Help: "Registry resource changes applied to the replica, by op (upsert, remove).",
		}, []string{"op"}),
		nacks: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sidecard_sidecar_nacks_total",
			Help: "xDS responses rejected (NACKed) by the sidecar.",
		}),
		reconnects: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sidecard_sidecar_reconnects_total",
			Help: "xDS stream attempts made after a failed or ended stream.",
		}),
		updateDelay: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "sidecard_sidecar_update_delay_seconds",
			Help: "Time from an entry's update at the control plane to its application " +
				"on the sidecar, for updates streamed live (not the initial sync of a stream).",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 15),
		}),
	}
	m.applied.WithLabelValues(opUpsert)
	m.applied.WithLabelValues(opRemove)
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.connected, m.applied, m.nacks, m.reconnects, m.updateDelay} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register xds client metrics: %w", err)
		}
	}
	return m, nil
}
