package proxy

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// codeClasses are the values of the "code_class" label, indexed by the
// first digit of the status code minus 2 (1xx counts as 2xx).
var codeClasses = [...]string{"2xx", "3xx", "4xx", "5xx"}

// metrics are the proxy's metrics. The "agent" label only takes names of
// the replica: children are created when an agent is first served and
// deleted when it leaves the replica (agentTable.sync).
type metrics struct {
	requests  *prometheus.CounterVec
	upstream  *prometheus.HistogramVec
	retries   *prometheus.CounterVec
	ejections *prometheus.CounterVec
}

// agentMetrics are the children of one agent, resolved once so that
// recording is a few atomic adds.
type agentMetrics struct {
	requests  [len(codeClasses)]prometheus.Counter
	upstream  prometheus.Observer
	retries   prometheus.Counter
	ejections prometheus.Counter
}

// newMetrics builds the proxy's metrics and registers them, with a
// collector of open connections reading conns at scrape time, with reg;
// a nil reg registers nothing.
func newMetrics(reg prometheus.Registerer, conns func(yield func(agent string, n int))) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sidecard_proxy_requests_total",
			Help: "Requests to /a2a/{agent}/... of a registered agent (cards included), by status code class.",
		}, []string{"agent", "code_class"}),
		upstream: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "sidecard_proxy_upstream_duration_seconds",
			Help:    "Time from the first attempt to an agent's response headers (or the last failure), retries included.",
			Buckets: prometheus.ExponentialBuckets(100e-6, 4, 10), // 100µs .. ~26s
		}, []string{"agent"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sidecard_proxy_retries_total",
			Help: "Attempts after the first one, by agent.",
		}, []string{"agent"}),
		ejections: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sidecard_proxy_ejections_total",
			Help: "Endpoints ejected by passive outlier detection, by agent.",
		}, []string{"agent"}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.requests, m.upstream, m.retries, m.ejections, &connsCollector{conns: conns}} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register proxy metrics: %w", err)
		}
	}
	return m, nil
}

// forAgent returns the children of agent name.
func (m *metrics) forAgent(name string) *agentMetrics {
	am := &agentMetrics{
		upstream:  m.upstream.WithLabelValues(name),
		retries:   m.retries.WithLabelValues(name),
		ejections: m.ejections.WithLabelValues(name),
	}
	for i, class := range codeClasses {
		am.requests[i] = m.requests.WithLabelValues(name, class)
	}
	return am
}

// drop deletes the children of agent name.
func (m *metrics) drop(name string) {
	for _, class := range codeClasses {
		m.requests.DeleteLabelValues(name, class)
	}
	m.upstream.DeleteLabelValues(name)
	m.retries.DeleteLabelValues(name)
	m.ejections.DeleteLabelValues(name)
}

// request counts one request answered with status.
func (am *agentMetrics) request(status int) {
	am.requests[min(max(status/100-2, 0), len(codeClasses)-1)].Inc()
}

// connsDesc describes sidecard_proxy_open_connections.
var connsDesc = prometheus.NewDesc("sidecard_proxy_open_connections",
	"Connections open to the endpoints of an agent (idle and in use), read at scrape time.",
	[]string{"agent"}, nil)

// connsCollector exports the open connections of every agent.
type connsCollector struct {
	conns func(yield func(agent string, n int))
}

var _ prometheus.Collector = (*connsCollector)(nil)

// Describe implements prometheus.Collector.
func (c *connsCollector) Describe(ch chan<- *prometheus.Desc) { ch <- connsDesc }

// Collect implements prometheus.Collector.
func (c *connsCollector) Collect(ch chan<- prometheus.Metric) {
	c.conns(func(agent string, n int) {
		ch <- prometheus.MustNewConstMetric(connsDesc, prometheus.GaugeValue, float64(n), agent)
	})
}
