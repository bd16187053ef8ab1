package watch

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Kinds of signal, the values of the "kind" label.
const (
	kindChange = "change"
	kindResync = "resync"
)

// metrics are a Watcher's metrics. Watchers that share a Registerer share
// them (the counters add up); to tell them apart, give each a Registerer
// wrapped with prometheus.WrapRegistererWith and a distinguishing label.
type metrics struct {
	events  prometheus.Counter
	signals *prometheus.CounterVec
	merged  prometheus.Counter
	errors  prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		events: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sidecard_watch_events_total",
			Help: "Raw fsnotify events received, before filtering and debouncing.",
		}),
		signals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sidecard_watch_signals_total",
			Help: "Events delivered to the consumer, by kind (change, resync).",
		}, []string{"kind"}),
		merged: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sidecard_watch_merged_total",
			Help: "Times new changes joined a signal that was due but not yet taken by a busy consumer.",
		}),
		errors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sidecard_watch_errors_total",
			Help: "fsnotify errors and directories that could not be watched.",
		}),
	}
	if reg == nil {
		m.signals.WithLabelValues(kindChange)
		m.signals.WithLabelValues(kindResync)
		return m, nil
	}
	var err error
	if m.events, err = register(reg, m.events); err != nil {
		return nil, err
	}
	if m.signals, err = register(reg, m.signals); err != nil {
		return nil, err
	}
	if m.merged, err = register(reg, m.merged); err != nil {
		return nil, err
	}
	if m.errors, err = register(reg, m.errors); err != nil {
		return nil, err
	}
	m.signals.WithLabelValues(kindChange)
	m.signals.WithLabelValues(kindResync)
	return m, nil
}

// register registers c with reg, or returns the collector of the same
// description registered before (by another Watcher).
func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	err := reg.Register(c)
	if err == nil {
		return c, nil
	}
	if are, ok := errors.AsType[prometheus.AlreadyRegisteredError](err); ok {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing, nil
		}
	}
	return c, fmt.Errorf("register watch metrics: %w", err)
}

// signal records that ev was delivered.
func (m *metrics) signal(ev Event) {
	kind := kindChange
	if ev.Resync {
		kind = kindResync
	}
	m.signals.WithLabelValues(kind).Inc()
}
