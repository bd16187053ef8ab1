package sidecar

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Values of the result label of sidecard_config_reloads_total.
const (
	reloadSuccess   = "success"   // a new configuration is in effect
	reloadFailure   = "failure"   // refused; the running configuration is kept
	reloadUnchanged = "unchanged" // the file holds the configuration in effect
)

// reloadMetrics are the metrics of configuration reloads. Their series
// carry component="sidecar", as the control plane's carry
// component="controlplane": the families are shared, so their names, help
// and labels must stay those of controlplane/metrics.go for both to
// register in one registry.
type reloadMetrics struct {
	reloads         *prometheus.CounterVec
	lastSuccessful  prometheus.Gauge
	restartRequired prometheus.Gauge
}

// newReloadMetrics builds the reload metrics and registers them with reg
// when reg is non-nil: all of them, or none.
func newReloadMetrics(reg prometheus.Registerer) (*reloadMetrics, error) {
	component := prometheus.Labels{"component": "sidecar"}
	m := &reloadMetrics{
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name:        "sidecard_config_reloads_total",
			Help:        "Configuration reloads (config file or tokens file changed, or the periodic resync), by result: success, failure (refused, nothing changed), unchanged (same content as in effect).",
			ConstLabels: component,
		}, []string{"result"}),
		lastSuccessful: prometheus.NewGauge(prometheus.GaugeOpts{
			Name:        "sidecard_config_last_reload_successful",
			Help:        "1 when the last configuration reload succeeded (or found the configuration in effect), 0 when it was refused.",
			ConstLabels: component,
		}),
		restartRequired: prometheus.NewGauge(prometheus.GaugeOpts{
			Name:        "sidecard_config_restart_required",
			Help:        "1 when the configuration files set keys that only take effect on a restart to values other than the running ones.",
			ConstLabels: component,
		}),
	}
	for _, r := range []string{reloadSuccess, reloadFailure, reloadUnchanged} {
		m.reloads.WithLabelValues(r)
	}
	m.lastSuccessful.Set(1) // the configuration the sidecar started with loaded
	if reg == nil {
		return m, nil
	}
	collectors := []prometheus.Collector{m.reloads, m.lastSuccessful, m.restartRequired}
	for i, c := range collectors {
		if err := reg.Register(c); err != nil {
			for _, done := range collectors[:i] {
				reg.Unregister(done)
			}
			return nil, fmt.Errorf("register config reload metrics: %w", err)
		}
	}
	return m, nil
}

// observe records the result of a reload and the number of keys waiting
// for a restart.
func (m *reloadMetrics) observe(result string, restartKeys int) {
	m.reloads.WithLabelValues(result).Inc()
	if result == reloadFailure {
		m.lastSuccessful.Set(0)
		return
	}
	m.lastSuccessful.Set(1)
	m.restartRequired.Set(min(float64(restartKeys), 1))
}
