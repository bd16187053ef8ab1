package register

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Values of the op label of the Client's metrics.
const (
	opPut       = "put"
	opGet       = "get"
	opDelete    = "delete"
	opHeartbeat = "heartbeat"
)

// Values of the result label of the Client's metrics.
const (
	resultOK          = "ok"          // the expected 2xx
	resultRefused     = "refused"     // another answer (404, 409, 400, ...)
	resultUnavailable = "unavailable" // no usable answer within the attempts
)

// clientMetrics are the Client's metrics; labels are bounded (op × result).
type clientMetrics struct {
	calls   *prometheus.CounterVec
	retries prometheus.Counter
}

func newClientMetrics(reg prometheus.Registerer) (*clientMetrics, error) {
	m := &clientMetrics{
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sidecard_register_controlplane_calls_total",
			Help: "Calls of the sidecar to the control plane's HTTP API on behalf of its agents, by op " +
				"(put, get, delete, heartbeat) and result (ok, refused: a non-2xx answer, unavailable: none after retries).",
		}, []string{"op", "result"}),
		retries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sidecard_register_controlplane_retries_total",
			Help: "Attempts of control-plane HTTP API calls after the first one.",
		}),
	}
	for _, op := range []string{opPut, opGet, opDelete, opHeartbeat} {
		for _, r := range []string{resultOK, resultRefused, resultUnavailable} {
			m.calls.WithLabelValues(op, r)
		}
	}
	return m, registerAll(reg, "control-plane client", m.calls, m.retries)
}

func (m *clientMetrics) observe(op, result string) { m.calls.WithLabelValues(op, result).Inc() }

// Values of the reason label of deregistrations.
const (
	reasonUnhealthy = "unhealthy" // failure_threshold health checks failed in a row
	reasonAgent     = "agent"     // the agent asked (DELETE)
	reasonShutdown  = "shutdown"  // the sidecar shut down cleanly
)

// registrarMetrics are the Registrar's metrics.
type registrarMetrics struct {
	agents          prometheus.Gauge
	checks          *prometheus.CounterVec
	deregistrations *prometheus.CounterVec
	reregistrations prometheus.Counter
}

func newRegistrarMetrics(reg prometheus.Registerer) (*registrarMetrics, error) {
	m := &registrarMetrics{
		agents: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "sidecard_register_agents",
			Help: "Agents registered through this sidecar (healthy or not).",
		}),
		checks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sidecard_register_health_checks_total",
			Help: "Health checks of agents registered through this sidecar, by result (pass, fail).",
		}, []string{"result"}),
		deregistrations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sidecard_register_deregistrations_total",
			Help: "Agents removed from the control plane by this sidecar, by reason (unhealthy, agent, shutdown).",
		}, []string{"reason"}),
		reregistrations: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sidecard_register_reregistrations_total",
			Help: "Agents registered again by this sidecar: healthy again, or their lease was lost.",
		}),
	}
	for _, r := range []string{"pass", "fail"} {
		m.checks.WithLabelValues(r)
	}
	for _, r := range []string{reasonUnhealthy, reasonAgent, reasonShutdown} {
		m.deregistrations.WithLabelValues(r)
	}
	return m, registerAll(reg, "registrar", m.agents, m.checks, m.deregistrations, m.reregistrations)
}

// registerAll registers cs with reg unless reg is nil.
func registerAll(reg prometheus.Registerer, what string, cs ...prometheus.Collector) error {
	if reg == nil {
		return nil
	}
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("register %s metrics: %w", what, err)
		}
	}
	return nil
}
