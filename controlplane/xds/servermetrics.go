package xds

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Values of the "kind" label of requests: what a request of a stream is.
const (
	kindInitial   = "initial"   // the stream's first request of its type
	kindACK       = "ack"       // accepts the response named by response_nonce
	kindNACK      = "nack"      // rejects it (error_detail set)
	kindSubscribe = "subscribe" // changes the subscription, without a nonce
)

// typeUnknown is the "type" label of a NACK of a type the server does not
// serve, which keeps the label's values bounded.
const typeUnknown = "unknown"

// serverMetrics are the Server's Prometheus metrics. The cache's metrics
// (metrics.go) count the responses and resources handed to streams.
type serverMetrics struct {
	streams     *prometheus.GaugeVec
	requests    *prometheus.CounterVec
	nacks       *prometheus.CounterVec
	pushLatency *prometheus.HistogramVec
}

// newServerMetrics builds the server's metrics, with a series for each of
// types (the served type URLs), and registers them with reg unless reg is
// nil.
func newServerMetrics(reg prometheus.Registerer, types []string) (*serverMetrics, error) {
	m := &serverMetrics{
		streams: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "sidecard_xds_streams",
			Help: "Open xDS streams, by mode (delta, sotw).",
		}, []string{"mode"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sidecard_xds_requests_total",
			Help: "xDS requests received, by mode and kind (initial, ack, nack, subscribe).",
		}, []string{"mode", "kind"}),
		nacks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sidecard_xds_nacks_total",
			Help: "xDS responses rejected by a client (NACKs), by type URL (\"unknown\" for types not served).",
		}, []string{"type"}),
		pushLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "sidecard_xds_push_latency_seconds",
			Help:    "Time from sending an xDS response to receiving its ACK, by mode.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}, []string{"mode"}),
	}
	for _, mode := range []string{modeDelta, modeSotw} {
		m.streams.WithLabelValues(mode)
		m.pushLatency.WithLabelValues(mode)
		for _, kind := range []string{kindInitial, kindACK, kindNACK, kindSubscribe} {
			m.requests.WithLabelValues(mode, kind)
		}
	}
	for _, t := range types {
		m.nacks.WithLabelValues(t)
	}
	m.nacks.WithLabelValues(typeUnknown)
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.streams, m.requests, m.nacks, m.pushLatency} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register xds server metrics: %w", err)
		}
	}
	return m, nil
}
