package lookup

import (
	"fmt"

	"github.com/dgraph-io/ristretto/v2"
	"github.com/prometheus/client_golang/prometheus"
)

// codeClasses are the values of the "code_class" label, indexed by the
// first digit of the status code minus 2.
var codeClasses = [...]string{"2xx", "3xx", "4xx", "5xx"}

// httpMetrics are the request metrics of a Handler. Every child is resolved
// at construction, so that recording allocates nothing.
type httpMetrics struct {
	requests [][len(codeClasses)]prometheus.Counter // [route][class]
	duration []prometheus.Observer                  // [route]
}

// newHTTPMetrics returns the request metrics of the routes labelled labels
// (indexed by routeID) and registers them with reg, unless reg is nil.
func newHTTPMetrics(reg prometheus.Registerer, labels []string) (*httpMetrics, error) {
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sidecard_sidecar_http_requests_total",
		Help: "Requests answered by the sidecar's lookup API, by route and status code class.",
	}, []string{"route", "code_class"})
	duration := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "sidecard_sidecar_http_request_duration_seconds",
		Help:    "Time spent in the sidecar's lookup handler per request, by route.",
		Buckets: prometheus.ExponentialBuckets(1e-6, 4, 11), // 1µs .. ~1s
	}, []string{"route"})
	m := &httpMetrics{
		requests: make([][len(codeClasses)]prometheus.Counter, len(labels)),
		duration: make([]prometheus.Observer, len(labels)),
	}
	for id, l := range labels {
		for c, class := range codeClasses {
			m.requests[id][c] = requests.WithLabelValues(l, class)
		}
		m.duration[id] = duration.WithLabelValues(l)
	}
	if err := register(reg, requests, duration); err != nil {
		return nil, err
	}
	return m, nil
}

// observe records one request of route id answered with status in seconds.
func (m *httpMetrics) observe(id routeID, status int, seconds float64) {
	c := min(max(status/100-2, 0), len(codeClasses)-1)
	m.requests[id][c].Inc()
	m.duration[id].Observe(seconds)
}

// renderMetrics count lookups of the rendered-response cache by kind and
// result. Unlike ristretto's own hit count, a cached value rendered from
// another revision or snapshot counts as a miss.
type renderMetrics struct {
	hit, miss [numKinds]prometheus.Counter
}

func newRenderMetrics(reg prometheus.Registerer) (*renderMetrics, error) {
	lookups := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sidecard_sidecar_render_cache_lookups_total",
		Help: "Lookups of a rendered response (entry, card, search page) by result: " +
			"hit, or miss (absent, or rendered from an older revision or snapshot).",
	}, []string{"kind", "result"})
	m := &renderMetrics{}
	for k, name := range kindNames {
		m.hit[k] = lookups.WithLabelValues(name, "hit")
		m.miss[k] = lookups.WithLabelValues(name, "miss")
	}
	if err := register(reg, lookups); err != nil {
		return nil, err
	}
	return m, nil
}

// ristrettoCollector exports a ristretto cache's metrics, read at scrape time.
type ristrettoCollector struct {
	c        *ristretto.Cache[uint64, *rendered]
	counters []ristrettoCounter
	used     *prometheus.Desc
	maxCost  *prometheus.Desc
}

// ristrettoCounter is one of ristretto's monotonic metrics.
type ristrettoCounter struct {
	desc  *prometheus.Desc
	value func(*ristretto.Metrics) uint64
}

var _ prometheus.Collector = (*ristrettoCollector)(nil)

func newRistrettoCollector(c *ristretto.Cache[uint64, *rendered]) *ristrettoCollector {
	counter := func(name, help string, value func(*ristretto.Metrics) uint64) ristrettoCounter {
		return ristrettoCounter{desc: prometheus.NewDesc("sidecard_cache_rendered_"+name, help, nil, nil), value: value}
	}
	return &ristrettoCollector{
		c: c,
		counters: []ristrettoCounter{
			counter("hits_total", "Rendered-response cache gets that found a value.", (*ristretto.Metrics).Hits),
			counter("misses_total", "Rendered-response cache gets that found nothing.", (*ristretto.Metrics).Misses),
			counter("keys_added_total", "Values admitted to the rendered-response cache.", (*ristretto.Metrics).KeysAdded),
			counter("keys_updated_total", "Values replaced in the rendered-response cache.", (*ristretto.Metrics).KeysUpdated),
			counter("keys_evicted_total", "Values evicted from the rendered-response cache.", (*ristretto.Metrics).KeysEvicted),
			counter("sets_dropped_total", "Sets dropped by the rendered-response cache under contention.", (*ristretto.Metrics).SetsDropped),
			counter("sets_rejected_total", "Sets refused by the rendered-response cache's admission policy.", (*ristretto.Metrics).SetsRejected),
			counter("added_bytes_total", "Cost (bytes) admitted to the rendered-response cache.", (*ristretto.Metrics).CostAdded),
			counter("evicted_bytes_total", "Cost (bytes) evicted from the rendered-response cache.", (*ristretto.Metrics).CostEvicted),
		},
		used:    prometheus.NewDesc("sidecard_cache_rendered_bytes", "Cost (bytes) held by the rendered-response cache.", nil, nil),
		maxCost: prometheus.NewDesc("sidecard_cache_rendered_max_bytes", "Bound on the rendered-response cache's cost (bytes).", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (rc *ristrettoCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, c := range rc.counters {
		ch <- c.desc
	}
	ch <- rc.used
	ch <- rc.maxCost
}

// Collect implements prometheus.Collector.
func (rc *ristrettoCollector) Collect(ch chan<- prometheus.Metric) {
	for _, c := range rc.counters {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.CounterValue, float64(c.value(rc.c.Metrics)))
	}
	maxCost := rc.c.MaxCost()
	ch <- prometheus.MustNewConstMetric(rc.used, prometheus.GaugeValue, float64(maxCost-rc.c.RemainingCost()))
	ch <- prometheus.MustNewConstMetric(rc.maxCost, prometheus.GaugeValue, float64(maxCost))
}

// register registers cs with reg; a nil reg registers nothing.
func register(reg prometheus.Registerer, cs ...prometheus.Collector) error {
	if reg == nil {
		return nil
	}
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("register lookup metrics: %w", err)
		}
	}
	return nil
}
