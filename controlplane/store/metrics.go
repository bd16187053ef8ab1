package store

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Operations, the values of the op label of sidecard_store_writes_total.
const (
	opPut    = "put"
	opDelete = "delete"
	opApply  = "apply"
	opRenew  = "renew"  // a lease moved, no revision
	opExpire = "expire" // expired leases deleted
)

// metrics are the store's Prometheus metrics. Gauges read the store's atomic
// state when scraped, so they never lag behind or race with the store.
type metrics struct {
	reg        prometheus.Registerer // nil: not exported
	collectors []prometheus.Collector

	writes   *prometheus.CounterVec
	duration prometheus.Histogram
}

// newMetrics builds the store's metrics around s and registers them with reg
// when reg is non-nil.
func newMetrics(reg prometheus.Registerer, s *Bolt) (*metrics, error) {
	m := &metrics{
		reg: reg,
		writes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sidecard_store_writes_total",
			Help: "Committed write transactions, by operation (put, delete, apply, renew, expire).",
		}, []string{"op"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "sidecard_store_write_duration_seconds",
			Help:    "Time of store write transactions, fsync included, committed or not.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16),
		}),
	}
	m.collectors = []prometheus.Collector{
		m.writes,
		m.duration,
		gaugeFunc("sidecard_store_revision", "Latest committed store revision.",
			func() float64 { return float64(s.Revision()) }),
		gaugeFunc("sidecard_store_entries", "Entries in the store.",
			func() float64 { return float64(s.entries.Load()) }),
		gaugeFunc("sidecard_store_compacted_revision", "Newest revision compacted out of the change feed.",
			func() float64 { return float64(s.compacted.Load()) }),
	}
	for _, op := range []string{opPut, opDelete, opApply, opRenew, opExpire} {
		m.writes.WithLabelValues(op)
	}
	if err := m.register(); err != nil {
		return nil, err
	}
	return m, nil
}

func gaugeFunc(name, help string, f func() float64) prometheus.GaugeFunc {
	return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f)
}

// register registers every collector, or none: on failure it unregisters
// those it registered.
func (m *metrics) register() error {
	if m.reg == nil {
		return nil
	}
	for i, c := range m.collectors {
		if err := m.reg.Register(c); err != nil {
			for _, done := range m.collectors[:i] {
				m.reg.Unregister(done)
			}
			return fmt.Errorf("register store metrics: %w", err)
		}
	}
	return nil
}

// unregister removes the metrics from the registerer, so that a store can be
// reopened with the same one.
func (m *metrics) unregister() {
	if m.reg == nil {
		return
	}
	for _, c := range m.collectors {
		m.reg.Unregister(c)
	}
}
