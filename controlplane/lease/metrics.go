package lease

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the Expirer's Prometheus metrics.
type metrics struct {
	expired  prometheus.Counter
	failures prometheus.Counter
}

// newMetrics builds the Expirer's metrics, the lease gauge reading c when
// scraped, and registers them with reg unless reg is nil.
func newMetrics(reg prometheus.Registerer, c Counter) (*metrics, error) {
	m := &metrics{
		expired: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sidecard_lease_expired_total",
			Help: "Registry entries deleted because their lease expired.",
		}),
		failures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sidecard_lease_expire_failures_total",
			Help: "Attempts to delete expired entries that failed (and were retried).",
		}),
	}
	if reg == nil {
		return m, nil
	}
	active := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "sidecard_lease_active",
		Help: "Registry entries with a lease (ttl_seconds > 0).",
	}, func() float64 { return float64(c.LeaseCount()) })
	collectors := []prometheus.Collector{m.expired, m.failures, active}
	for i, col := range collectors {
		if err := reg.Register(col); err != nil {
			for _, done := range collectors[:i] {
				reg.Unregister(done)
			}
			return nil, fmt.Errorf("register lease metrics: %w", err)
		}
	}
	return m, nil
}
