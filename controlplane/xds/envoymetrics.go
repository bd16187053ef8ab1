package xds

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Values of the "reason" label of refused Envoy watches.
const (
	refusedSelector = "bad_selector"   // node.metadata.selector is not a struct of strings
	refusedTooMany  = "too_many_views" // every selector view is in use
)

// envoyMetrics are the EnvoyCache's Prometheus metrics.
type envoyMetrics struct {
	agents            prometheus.Gauge
	leftOut           prometheus.Gauge
	translationErrors prometheus.Counter
	revision          prometheus.Gauge
	updateDuration    prometheus.Histogram
	views             prometheus.Gauge
	evictions         prometheus.Counter
	refused           *prometheus.CounterVec
	resyncs           prometheus.Counter
}

// newEnvoyMetrics builds the cache's metrics and registers them with reg
// unless reg is nil.
func newEnvoyMetrics(reg prometheus.Registerer) (*envoyMetrics, error) {
	m := &envoyMetrics{
		agents: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "sidecard_xds_envoy_agents",
			Help: "Agents with Envoy resources (cluster, load assignment, listener, virtual host).",
		}),
		leftOut: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "sidecard_xds_envoy_agents_left_out",
			Help: "Agents left out of the Envoy resources because they could not be translated.",
		}),
		translationErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sidecard_xds_envoy_translation_errors_total",
			Help: "Entries (at one revision each) that could not be translated to Envoy resources.",
		}),
		revision: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "sidecard_xds_envoy_revision",
			Help: "Store revision the Envoy xDS caches have applied.",
		}),
		updateDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "sidecard_xds_envoy_update_duration_seconds",
			Help:    "Time from reading a batch of feed changes to handing the responses to every open Envoy-type watch.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16),
		}),
		views: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "sidecard_xds_envoy_views",
			Help: "Selector views of the Envoy resources, the view of every agent included.",
		}),
		evictions: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sidecard_xds_envoy_view_evictions_total",
			Help: "Idle selector views dropped to make room for another selector.",
		}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sidecard_xds_envoy_refused_watches_total",
			Help: "Envoy-type watches refused (the stream fails), by reason.",
		}, []string{"reason"}),
		resyncs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sidecard_xds_envoy_resyncs_total",
			Help: "Reloads of the Envoy xDS caches from the store after its change feed was compacted.",
		}),
	}
	m.refused.WithLabelValues(refusedSelector)
	m.refused.WithLabelValues(refusedTooMany)
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.agents, m.leftOut, m.translationErrors, m.revision,
		m.updateDuration, m.views, m.evictions, m.refused, m.resyncs} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register envoy xds metrics: %w", err)
		}
	}
	return m, nil
}
