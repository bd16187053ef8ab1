package xds

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Values of the "mode" label.
const (
	modeDelta = "delta"
	modeSotw  = "sotw"
)

// Values of the "reason" label of full comparisons: why a stream was compared
// with every resource instead of the change log.
const (
	fullFirstWatch = "first_watch"  // first watch of a delta stream (initial_resource_versions)
	fullView       = "view_change"  // the selector or the wildcard flag changed
	fullLagging    = "lagging"      // the stream's watermark is older than the change log
	fullSotw       = "sotw_respond" // a state-of-the-world wildcard response (full state)
)

// metrics are the cache's Prometheus metrics.
type metrics struct {
	watches         prometheus.Gauge
	responses       *prometheus.CounterVec
	resourcesSent   prometheus.Counter
	revision        prometheus.Gauge
	updateDuration  prometheus.Histogram
	deferred        prometheus.Counter
	fullComparisons *prometheus.CounterVec
	resyncs         prometheus.Counter
	streamResets    prometheus.Counter
}

// newMetrics builds the cache's metrics and registers them with reg unless
// reg is nil.
func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		watches: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "sidecard_xds_registry_watches",
			Help: "Open registry watches (delta and state-of-the-world) waiting for a change.",
		}),
		responses: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sidecard_xds_registry_responses_total",
			Help: "Registry responses handed to xDS streams, by mode (delta, sotw).",
		}, []string{"mode"}),
		resourcesSent: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sidecard_xds_registry_resources_sent_total",
			Help: "Registry resources (entries, not removals) in responses handed to xDS streams.",
		}),
		revision: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "sidecard_xds_registry_revision",
			Help: "Store revision the registry xDS cache has applied.",
		}),
		updateDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "sidecard_xds_registry_update_duration_seconds",
			Help:    "Time from reading a batch of feed changes to handing the responses to every open watch.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16),
		}),
		deferred: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sidecard_xds_registry_deferred_responses_total",
			Help: "Responses not handed to a stream because its channel was full; they are retried.",
		}),
		fullComparisons: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sidecard_xds_registry_full_comparisons_total",
			Help: "Responses computed by walking every resource instead of the change log, by reason.",
		}, []string{"reason"}),
		resyncs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sidecard_xds_registry_resyncs_total",
			Help: "Reloads of the registry xDS cache from the store after its change feed was compacted.",
		}),
		streamResets: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sidecard_xds_registry_stream_resets_total",
			Help: "Streams closed because they fell behind every change history the cache keeps.",
		}),
	}
	m.responses.WithLabelValues(modeDelta)
	m.responses.WithLabelValues(modeSotw)
	for _, r := range []string{fullFirstWatch, fullView, fullLagging, fullSotw} {
		m.fullComparisons.WithLabelValues(r)
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.watches, m.responses, m.resourcesSent, m.revision,
		m.updateDuration, m.deferred, m.fullComparisons, m.resyncs, m.streamResets} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register registry xds metrics: %w", err)
		}
	}
	return m, nil
}
