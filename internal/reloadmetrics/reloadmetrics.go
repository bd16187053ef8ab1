// Package reloadmetrics holds the metrics of configuration reloads, shared
// by the control plane and the sidecar: the families are the same on both
// (told apart by a component label), so they are defined once.
//
// It lives under internal/ because controlplane and sidecar must not import
// each other (BRIEF §3).
package reloadmetrics

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Results of a reload: the values of the result label of
// sidecard_config_reloads_total.
const (
	Success   = "success"   // a new configuration is in effect
	Failure   = "failure"   // refused; the running configuration is kept
	Unchanged = "unchanged" // the files hold the configuration in effect
)

// Metrics are the metrics of one component's configuration reloads. Safe
// for concurrent use.
type Metrics struct {
	reloads         *prometheus.CounterVec
	lastSuccessful  prometheus.Gauge
	restartRequired prometheus.Gauge
}

// New builds the reload metrics of component ("controlplane", "sidecar")
// and registers them with reg when reg is non-nil: all of them, or none.
func New(reg prometheus.Registerer, component string) (*Metrics, error) {
	labels := prometheus.Labels{"component": component}
	m := &Metrics{
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name:        "sidecard_config_reloads_total",
			Help:        "Configuration reloads (a watched file changed, or the periodic resync), by result: success, failure (refused, nothing changed), unchanged (same content as in effect).",
			ConstLabels: labels,
		}, []string{"result"}),
		lastSuccessful: prometheus.NewGauge(prometheus.GaugeOpts{
			Name:        "sidecard_config_last_reload_successful",
			Help:        "1 when the last configuration reload succeeded (or found the configuration in effect), 0 when it was refused.",
			ConstLabels: labels,
		}),
		restartRequired: prometheus.NewGauge(prometheus.GaugeOpts{
			Name:        "sidecard_config_restart_required",
			Help:        "1 when the configuration files set keys that only take effect on a restart to values other than the running ones.",
			ConstLabels: labels,
		}),
	}
	for _, r := range []string{Success, Failure, Unchanged} {
		m.reloads.WithLabelValues(r)
	}
	m.lastSuccessful.Set(1) // the configuration the component started with loaded
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

// Observe records the result of a reload and the number of keys waiting
// for a restart.
func (m *Metrics) Observe(result string, restartKeys int) {
	m.reloads.WithLabelValues(result).Inc()
	if result == Failure {
		m.lastSuccessful.Set(0)
		return
	}
	m.lastSuccessful.Set(1)
	m.restartRequired.Set(min(float64(restartKeys), 1))
}
