package compat

import (
	"fmt"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// The api label values.
const (
	apiREST    = "rest"
	apiJSONRPC = "jsonrpc"
)

// REST operation names, the method label of REST requests.
const (
	opRegister   = "register"
	opGet        = "get"
	opList       = "list"
	opUnregister = "unregister"
	opSearch     = "search"
	opHealth     = "health"
)

var restOps = []string{opRegister, opGet, opList, opUnregister, opSearch, opHealth}

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
		m.counters[[2]string{apiREST, op}] = m.requests.WithLabelValues(apiREST, op)
	}
	for _, method := range append(MethodNames(), MethodUnknown) {
		m.counters[[2]string{apiJSONRPC, method}] = m.requests.WithLabelValues(apiJSONRPC, method)
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

// observe counts a request of api and method answered with code: 0 for a
// JSON-RPC success, else a JSON-RPC error code or an HTTP status (an error
// when >= 400).
func (m *Metrics) observe(api, method string, code int) {
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
