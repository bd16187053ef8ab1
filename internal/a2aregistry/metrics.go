package a2aregistry

import (
	"fmt"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// The api label values: which surface a request came in on.
const (
	APIREST    = "rest"
	APIJSONRPC = "jsonrpc"
)

// REST operation names, the method label of REST requests.
const (
	OpRegister   = "register"
	OpGet        = "get"
	OpList       = "list"
	OpUnregister = "unregister"
	OpSearch     = "search"
	OpHealth     = "health"
)

var restOps = []string{OpRegister, OpGet, OpList, OpUnregister, OpSearch, OpHealth}

// Metrics are the compat API's Prometheus metrics, shared by its REST and
// JSON-RPC surfaces. Label values are bounded: api is "rest" or "jsonrpc";
// method is a REST operation (register, get, list, unregister, search,
// health) or a JSON-RPC method name, else "unknown"; code is a REST status
// or a JSON-RPC error code. Safe for concurrent use.
type Metrics struct {
	requests *prometheus.CounterVec
	errors   *prometheus.CounterVec
	counters map[[2]string]prometheus.Counter // (api, method) → requests, resolved once
}

// NewMetrics builds the metrics and registers them with reg unless reg is
// nil. It fails when they are already registered with reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sidecard_compat_requests_total",
			Help: "A2A Registry compatibility API requests (JSON-RPC: calls, batches counted per call), " +
				"by api (rest, jsonrpc) and method (REST operation or JSON-RPC method; unknown otherwise).",
		}, []string{"api", "method"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sidecard_compat_errors_total",
			Help: "A2A Registry compatibility API requests answered with an error, by api, method and code " +
				"(the REST status or the JSON-RPC error code).",
		}, []string{"api", "method", "code"}),
		counters: make(map[[2]string]prometheus.Counter),
	}
	for _, op := range append(restOps, MethodUnknown) {
		m.counters[[2]string{APIREST, op}] = m.requests.WithLabelValues(APIREST, op)
	}
	for _, method := range append(MethodNames(), MethodUnknown) {
		m.counters[[2]string{APIJSONRPC, method}] = m.requests.WithLabelValues(APIJSONRPC, method)
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.requests, m.errors} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register compat API metrics: %w", err)
		}
	}
	return m, nil
}

// Observe counts a request of api (APIREST or APIJSONRPC) and method (a
// REST operation, a JSON-RPC method name or MethodUnknown; anything else
// counts as MethodUnknown) answered with code: 0 for a JSON-RPC success,
// else a JSON-RPC error code or an HTTP status (an error when >= 400). A
// nil *Metrics counts nothing.
func (m *Metrics) Observe(api, method string, code int) {
	if m == nil {
		return
	}
	c, ok := m.counters[[2]string{api, method}]
	if !ok {
		method = MethodUnknown
		c = m.counters[[2]string{api, method}]
	}
	c.Inc()
	if code < 0 || code >= 400 {
		m.errors.WithLabelValues(api, method, strconv.Itoa(code)).Inc()
	}
}
