package compat

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sidecard/sidecard/controlplane/auth"
	"github.com/sidecard/sidecard/internal/a2aregistry"
)

// DefaultMaxBodyBytes bounds request bodies when Options.MaxBodyBytes is 0.
const DefaultMaxBodyBytes = a2aregistry.DefaultMaxBodyBytes

// Paths are the ServeMux patterns the compat API answers under; Mount
// registers them. They do not overlap the sidecard API's /v1/..., /healthz,
// /readyz and /metrics.
var Paths = []string{"/agents", "/agents/", "/jsonrpc", "/health"}

// Options configures a Handler. Registry is required; zero values of the
// other fields mean their defaults.
type Options struct {
	// Registry is what the API reads and writes.
	Registry a2aregistry.Registry
	// Tokens returns the bearer tokens requests are checked against, called
	// per request so that a reload can swap them; nil, or a nil or empty
	// *auth.Tokens, leaves writes open (as on the sidecard API). Writes need
	// a token with the write scope, and change only the agents its name
	// registered (and agents nobody registered) unless it has the admin
	// scope.
	Tokens func() *auth.Tokens
	// RequireReadToken reports whether reads need a token with the read
	// scope, called per request so that a reload can change it; nil, or
	// false, leaves them open, as do tokens that are not configured.
	RequireReadToken func() bool
	// Ready reports readiness for the health checks; nil means always ready.
	Ready func() bool
	// MaxBodyBytes bounds request bodies; 0 means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// MaxResults bounds the agents of a listing or search; 0 means
	// a2aregistry.DefaultMaxResults.
	MaxResults int
	// Logger receives a debug line per request and internal errors; nil
	// discards.
	Logger *slog.Logger
	// Registerer receives the metrics; nil leaves them unregistered.
	Registerer prometheus.Registerer
}

// DefaultOptions returns the defaults of the optional fields.
func DefaultOptions() Options {
	return Options{MaxBodyBytes: DefaultMaxBodyBytes, MaxResults: a2aregistry.DefaultMaxResults}
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
	svc       *a2aregistry.Service
	rpc       *a2aregistry.Dispatcher
	tokens    func() *auth.Tokens
	readToken func() bool
	maxBody   int64
	log       *slog.Logger
	metrics   *a2aregistry.Metrics
	mux       *http.ServeMux
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
	svc, err := a2aregistry.NewService(opts.Registry, a2aregistry.ServiceOptions{MaxResults: opts.MaxResults, Ready: opts.Ready, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("new compat API: %w", err)
	}
	m, err := a2aregistry.NewMetrics(opts.Registerer)
	if err != nil {
		return nil, fmt.Errorf("new compat API: %w", err)
	}
	maxBody := opts.MaxBodyBytes
	if maxBody == 0 {
		maxBody = DefaultMaxBodyBytes
	}
	h := &Handler{
		svc: svc, rpc: a2aregistry.NewDispatcher(svc, m), tokens: opts.Tokens, readToken: opts.RequireReadToken,
		maxBody: maxBody, log: log, metrics: m,
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
	mux.Handle("POST /agents", h.rest(a2aregistry.OpRegister, h.register))
	mux.Handle("GET /agents", h.rest(a2aregistry.OpList, h.list))
	mux.Handle("POST /agents/search", h.rest(a2aregistry.OpSearch, h.search))
	mux.Handle("GET /agents/{id}", h.rest(a2aregistry.OpGet, h.get))
	mux.Handle("DELETE /agents/{id}", h.rest(a2aregistry.OpUnregister, h.unregister))
	mux.Handle("GET /health", h.rest(a2aregistry.OpHealth, h.health))
	mux.HandleFunc("POST /jsonrpc", h.jsonrpc)
	notAllowed := h.rest(a2aregistry.MethodUnknown, func(w http.ResponseWriter, r *http.Request) (int, error) {
		return methodNotAllowed(a2aregistry.Allow(r.URL.Path))(w, r)
	})
	mux.Handle("/agents", notAllowed)
	mux.Handle("/agents/{id}", notAllowed)
	mux.Handle("/health", notAllowed)
	mux.HandleFunc("/jsonrpc", func(w http.ResponseWriter, r *http.Request) {
		h.metrics.Observe(a2aregistry.APIJSONRPC, a2aregistry.MethodUnknown, http.StatusMethodNotAllowed)
		w.Header().Set("Allow", a2aregistry.Allow("/jsonrpc"))
		writeRPC(w, http.StatusMethodNotAllowed,
			a2aregistry.InvalidRequestResponse("use POST with a JSON-RPC 2.0 request or batch"))
	})
	mux.Handle("/", h.rest(a2aregistry.MethodUnknown, func(http.ResponseWriter, *http.Request) (int, error) {
		return 0, &httpError{status: http.StatusNotFound, detail: a2aregistry.DetailNotFound}
	}))
	return mux
}

// authorize authenticates r for an operation that needs scope when tokens
// are configured: it returns r with the caller's identity in its context
// (auth.NewContext; auth.Open without tokens), for the Registry's ownership
// checks, or the error to answer, of KindUnauthenticated (401) or
// KindPermissionDenied (403).
func (h *Handler) authorize(r *http.Request, scope auth.Scopes) (*http.Request, error) {
	id, err := h.currentTokens().Authorize(r.Header.Get("Authorization"), scope)
	if err != nil {
		return nil, authError(err)
	}
	if id.Name != "" {
		h.log.LogAttrs(r.Context(), slog.LevelDebug, "authenticated compat API request",
			slog.String("token", id.Name), slog.String("scopes", id.Scopes.String()),
			slog.String("method", r.Method), slog.String("path", r.URL.Path))
	}
	return r.WithContext(auth.NewContext(r.Context(), id)), nil
}

// authorizeRead is authorize for a read: open unless the RequireReadToken
// option says otherwise.
func (h *Handler) authorizeRead(r *http.Request) (*http.Request, error) {
	if !h.readNeedsToken() {
		return r, nil
	}
	return h.authorize(r, auth.Read)
}

// access authenticates r for the JSON-RPC Dispatcher: which methods the
// caller may call, and r's context with the caller's identity (the write
// identity: reads need none).
func (h *Handler) access(r *http.Request) (context.Context, a2aregistry.Access) {
	tokens, header := h.currentTokens(), r.Header.Get("Authorization")
	id, err := tokens.Authorize(header, auth.Write)
	access := a2aregistry.Access{Write: authError(err)}
	if h.readNeedsToken() {
		_, err := tokens.Authorize(header, auth.Read)
		access.Read = authError(err)
	}
	return auth.NewContext(r.Context(), id), access
}

// currentTokens returns the tokens in effect; nil when none are configured.
func (h *Handler) currentTokens() *auth.Tokens {
	if h.tokens == nil {
		return nil
	}
	return h.tokens()
}

// readNeedsToken reports whether reads need a token now.
func (h *Handler) readNeedsToken() bool { return h.readToken != nil && h.readToken() }

// authError returns the compat error of an auth.Authorize error, nil for
// nil.
func authError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, auth.ErrPermissionDenied):
		return &a2aregistry.Error{Kind: a2aregistry.KindPermissionDenied, Message: err.Error()}
	}
	return &a2aregistry.Error{Kind: a2aregistry.KindUnauthenticated, Message: err.Error()}
}

// jsonrpc handles POST /jsonrpc and logs it at debug level.
func (h *Handler) jsonrpc(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	status := h.serveRPC(w, r)
	if h.log.Enabled(r.Context(), slog.LevelDebug) {
		h.log.LogAttrs(r.Context(), slog.LevelDebug, "compat API request",
			slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.String("op", a2aregistry.APIJSONRPC),
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
		h.metrics.Observe(a2aregistry.APIJSONRPC, a2aregistry.MethodUnknown, he.status)
		writeRPC(w, he.status, a2aregistry.InvalidRequestResponse(he.detail))
		return he.status
	}
	ctx, access := h.access(r)
	resp := h.rpc.Serve(ctx, body, access)
	if resp == nil {
		w.WriteHeader(http.StatusNoContent)
		return http.StatusNoContent
	}
	writeRPC(w, http.StatusOK, resp)
	return http.StatusOK
}
