package cache

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Kinds of replica update, the values of the "kind" label.
const (
	kindApply   = "apply"   // a delta
	kindReplace = "replace" // a full state
	kindRestore = "restore" // a snapshot read from disk
)

// Results of a persist attempt, the values of the "result" label.
const (
	resultOK    = "ok"
	resultError = "error"
)

// replicaMetrics are a Replica's metrics.
type replicaMetrics struct {
	entries  prometheus.Gauge
	revision prometheus.Gauge
	updates  *prometheus.CounterVec
}

func newReplicaMetrics(reg prometheus.Registerer) (*replicaMetrics, error) {
	m := &replicaMetrics{
		entries: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "sidecard_cache_replica_entries",
			Help: "Entries in the sidecar's current replica snapshot.",
		}),
		revision: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "sidecard_cache_replica_revision",
			Help: "Highest entry revision in the sidecar's replica.",
		}),
		updates: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sidecard_cache_updates_total",
			Help: "Replica snapshots published, by kind (apply, replace, restore).",
		}, []string{"kind"}),
	}
	for _, k := range []string{kindApply, kindReplace, kindRestore} {
		m.updates.WithLabelValues(k)
	}
	if err := register(reg, m.entries, m.revision, m.updates); err != nil {
		return nil, err
	}
	return m, nil
}

// observe records that s was published by an update of kind.
func (m *replicaMetrics) observe(s *Snapshot, kind string) {
	m.entries.Set(float64(s.Len()))
	m.revision.Set(float64(s.revision))
	m.updates.WithLabelValues(kind).Inc()
}

// persistMetrics are a Persister's metrics.
type persistMetrics struct {
	total    *prometheus.CounterVec
	duration prometheus.Histogram
}

func newPersistMetrics(reg prometheus.Registerer) (*persistMetrics, error) {
	m := &persistMetrics{
		total: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sidecard_cache_persist_total",
			Help: "Replica snapshot writes to disk, by result (ok, error).",
		}, []string{"result"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "sidecard_cache_persist_duration_seconds",
			Help:    "Time to write a replica snapshot to disk, fsyncs included.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
		}),
	}
	m.total.WithLabelValues(resultOK)
	m.total.WithLabelValues(resultError)
	if err := register(reg, m.total, m.duration); err != nil {
		return nil, err
	}
	return m, nil
}

// register registers cs with reg; a nil reg registers nothing.
func register(reg prometheus.Registerer, cs ...prometheus.Collector) error {
	if reg == nil {
		return nil
	}
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("register cache metrics: %w", err)
		}
	}
	return nil
}
