package compat

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sidecard/sidecard/controlplane/auth"
)

// DefaultMaxBodyBytes bounds request bodies when Options.MaxBodyBytes is 0.
const DefaultMaxBodyBytes = 1 << 20

// Paths are the ServeMux patterns the compat API answers under; Mount
// registers them. They do not overlap the sidecard API's /v1/..., /healthz,
// /readyz and /metrics.
var Paths = []string{"/agents", "/agents/", "/jsonrpc", "/health"}

// Options configures a Handler. Registry is required; zero values of the
// other fields mean their defaults.
type Options struct {
	// Registry is what the API reads and writes.
	Registry Registry
	// Tokens returns the bearer tokens writes are checked against, called
	// per write so that a reload can swap them; nil, or a nil or empty
	// *auth.Tokens, leaves writes open (as on the sidecard API).
	Tokens func() *auth.Tokens
	// Ready reports readiness for the health checks; nil means always ready.
	Ready func() bool
	// MaxBodyBytes bounds request bodies; 0 means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// MaxResults bounds the agents of a listing or search; 0 means
	// DefaultMaxResults.
	MaxResults int
	// Logger receives a debug line per request and internal errors; nil
	// discards.
	Logger *slog.Logger
	// Registerer receives the metrics; nil leaves them unregistered.
	Registerer prometheus.Registerer
}

// DefaultOptions returns the defaults of the optional fields.
func DefaultOptions() Options {
	return Options{MaxBodyBytes: DefaultMaxBodyBytes, MaxResults: DefaultMaxResults}
}

// Validate reports whether o is usable. It does not modify o.
func (o Options) Validate() error {
	var errs []error
	if o.Registry == nil {
		errs = append(errs, errors.New("registry is required"))
	}
	if o.MaxBodyBytes < 0 {
		errs = append(errs, fmt.Errorf("max body bytes %d is negative", o.MaxBodyBytes))
	}
	if o.MaxResults < 0 {
		errs = append(errs, fmt.Errorf("max results %d is negative", o.MaxResults))
	}
	return errors.Join(errs...)
}

// Handler serves the A2A Registry compatible API over net/http: REST under
// /agents and /health, JSON-RPC 2.0 at /jsonrpc. It is safe for concurrent
// use; build it with New and Mount it, or serve it directly.
type Handler struct {
	svc     *Service
	rpc     *Dispatcher
	tokens  func() *auth.Tokens
	maxBody int64
	log     *slog.Logger
	metrics *Metrics
	mux     *http.ServeMux
}

// New validates opts and returns the Handler. It fails when the metrics
// cannot be registered (e.g. twice with one Registerer).
func New(opts Options) (*Handler, error) {
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("new compat API: %w", err)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	svc, err := NewService(opts.Registry, ServiceOptions{MaxResults: opts.MaxResults, Ready: opts.Ready, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("new compat API: %w", err)
	}
	m, err := NewMetrics(opts.Registerer)
	if err != nil {
		return nil, fmt.Errorf("new compat API: %w", err)
	}
	h := &Handler{
		svc: svc, rpc: NewDispatcher(svc, m), tokens: opts.Tokens,
		maxBody: orDefault(opts.MaxBodyBytes, DefaultMaxBodyBytes), log: log, metrics: m,
	}
	h.mux = h.routes()
	return h, nil
}

// Mount registers h on mux for every pattern of Paths.
func (h *Handler) Mount(mux *http.ServeMux) {
	for _, p := range Paths {
		mux.Handle(p, h)
	}
}

// ServeHTTP answers the compat API's routes; other paths get a 404.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// routes builds the mux. A known path with another method is a 405 with
// Allow, an unknown one a 404, both as {"detail": "..."}.
func (h *Handler) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("POST /agents", h.rest(opRegister, h.register))
	mux.Handle("GET /agents", h.rest(opList, h.list))
	mux.Handle("POST /agents/search", h.rest(opSearch, h.search))
	mux.Handle("GET /agents/{id}", h.rest(opGet, h.get))
	mux.Handle("DELETE /agents/{id}", h.rest(opUnregister, h.unregister))
	mux.Handle("GET /health", h.rest(opHealth, h.health))
	mux.HandleFunc("POST /jsonrpc", h.jsonrpc)
	mux.Handle("/agents", h.rest(MethodUnknown, methodNotAllowed("GET, HEAD, POST")))
	mux.Handle("/agents/{id}", h.rest(MethodUnknown, func(w http.ResponseWriter, r *http.Request) (int, error) {
		allow := "GET, HEAD, DELETE"
		if r.PathValue("id") == "search" {
			allow = "GET, HEAD, POST, DELETE"
		}
		return methodNotAllowed(allow)(w, r)
	}))
	mux.Handle("/health", h.rest(MethodUnknown, methodNotAllowed("GET, HEAD")))
	mux.HandleFunc("/jsonrpc", func(w http.ResponseWriter, r *http.Request) {
		h.metrics.observe(apiJSONRPC, MethodUnknown, http.StatusMethodNotAllowed)
		w.Header().Set("Allow", "POST")
		writeRPC(w, http.StatusMethodNotAllowed, appendError(nil, nil,
			invalidRequest("use POST with a JSON-RPC 2.0 request or batch")))
	})
	mux.Handle("/", h.rest(MethodUnknown, func(http.ResponseWriter, *http.Request) (int, error) {
		return 0, &httpError{status: http.StatusNotFound, detail: "Not Found"}
	}))
	return mux
}

// mayWrite reports whether r carries a token the Tokens option accepts (or
// tokens are not configured).
func (h *Handler) mayWrite(r *http.Request) bool {
	if h.tokens == nil {
		return true
	}
	who, ok := h.tokens().Check(r.Header.Get("Authorization"))
	if ok && who != "" {
		h.log.LogAttrs(r.Context(), slog.LevelDebug, "authenticated compat API write",
			slog.String("token", who), slog.String("method", r.Method), slog.String("path", r.URL.Path))
	}
	return ok
}

// jsonrpc handles POST /jsonrpc and logs it at debug level.
func (h *Handler) jsonrpc(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	status := h.serveRPC(w, r)
	if h.log.Enabled(r.Context(), slog.LevelDebug) {
		h.log.LogAttrs(r.Context(), slog.LevelDebug, "compat API request",
			slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.String("op", apiJSONRPC),
			slog.Int("status", status), slog.Duration("duration", time.Since(start)))
	}
}

// serveRPC answers a JSON-RPC request or batch and returns the status: 200
// with the response, 204 when every call was a notification, 413 or 415
// with a JSON-RPC error for a body too large or not JSON.
func (h *Handler) serveRPC(w http.ResponseWriter, r *http.Request) int {
	body, err := h.readBody(w, r)
	if err != nil {
		he := &httpError{status: http.StatusBadRequest, detail: err.Error()}
		errors.As(err, &he)
		h.metrics.observe(apiJSONRPC, MethodUnknown, he.status)
		writeRPC(w, he.status, appendError(nil, nil, invalidRequest(he.detail)))
		return he.status
	}
	resp := h.rpc.Serve(r.Context(), body, h.mayWrite(r))
	if resp == nil {
		w.WriteHeader(http.StatusNoContent)
		return http.StatusNoContent
	}
	writeRPC(w, http.StatusOK, resp)
	return http.StatusOK
}
