package api

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sidecard/sidecard/controlplane/auth"
)

// Defaults of Options.
const (
	DefaultMaxBodyBytes = 1 << 20         // 1 MiB
	DefaultViewWait     = 2 * time.Second // see Options.ViewWait
)

// routeUnmatched is the route label of requests no pattern matched.
const routeUnmatched = "unmatched"

// Options configures an API. Store and View are required; zero values of the
// other fields mean their defaults.
type Options struct {
	// Store receives writes and answers single-entry reads.
	Store Store
	// View answers searches.
	View View
	// Leases renews leases for POST /v1/agents/{name}/heartbeat; nil serves
	// no heartbeat route.
	Leases Leases
	// Sources reports the registry sources for GET /v1/sources; nil serves
	// an empty list.
	Sources Sources
	// Nodes reports the connected sidecars for GET /v1/sidecars; nil serves
	// an empty list.
	Nodes Nodes
	// Config reports the configuration for GET /v1/config; nil serves no
	// such route.
	Config Config
	// Ready reports readiness for GET /readyz; nil means always ready.
	Ready func() bool
	// Tokens returns the tokens requests are checked against; it is called
	// per request, so a reload can swap what it returns. Nil, or a nil or
	// empty *auth.Tokens, disables authentication. Writes (PUT, DELETE,
	// heartbeat) need a token with the write scope, and change only the
	// entries its name registered (and entries nobody registered) unless it
	// has the admin scope.
	Tokens func() *auth.Tokens
	// RequireReadToken reports whether reads (GET /v1/agents, /v1/agents/{name},
	// /v1/sources, /v1/sidecars, /v1/config) need a token with the read
	// scope; it is called per read, so a reload can change it. Nil, or false,
	// leaves reads open; so do tokens that are not configured. /healthz,
	// /readyz and /metrics are always open.
	RequireReadToken func() bool
	// MaxBodyBytes bounds request bodies; 0 means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// ViewWait bounds how long a search waits for the view to reach the
	// store's revision before answering 503; 0 means DefaultViewWait.
	ViewWait time.Duration
	// Logger receives a debug line per request and errors; nil discards.
	Logger *slog.Logger
	// Registerer receives the API's metrics; nil leaves them unregistered.
	Registerer prometheus.Registerer
	// Gatherer is served on GET /metrics; nil serves no /metrics.
	Gatherer prometheus.Gatherer
}

// DefaultOptions returns the defaults of the optional fields.
func DefaultOptions() Options {
	return Options{MaxBodyBytes: DefaultMaxBodyBytes, ViewWait: DefaultViewWait}
}

// Validate reports whether o is usable. It does not modify o.
func (o Options) Validate() error {
	var errs []error
	if o.Store == nil {
		errs = append(errs, errors.New("store is required"))
	}
	if o.View == nil {
		errs = append(errs, errors.New("view is required"))
	}
	if o.MaxBodyBytes < 0 {
		errs = append(errs, fmt.Errorf("max body bytes %d is negative", o.MaxBodyBytes))
	}
	if o.ViewWait < 0 {
		errs = append(errs, fmt.Errorf("view wait %v is negative", o.ViewWait))
	}
	return errors.Join(errs...)
}

// API is the control plane's HTTP API. It is safe for concurrent use; build
// it with New and serve Handler().
type API struct {
	store        Store
	view         View
	leases       Leases
	sourceStatus Sources
	nodes        Nodes
	configStatus Config
	ready        func() bool
	tokens       func() *auth.Tokens
	readToken    func() bool
	maxBody      int64
	viewWait     time.Duration
	log          *slog.Logger
	metrics      *metrics
	handler      http.Handler
}

// New validates opts and returns the API. It fails when the metrics cannot
// be registered (e.g. twice with one Registerer).
func New(opts Options) (*API, error) {
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("new control-plane API: %w", err)
	}
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, fmt.Errorf("new control-plane API: %w", err)
	}
	d := DefaultOptions()
	a := &API{
		store: opts.Store, view: opts.View, leases: opts.Leases, sourceStatus: opts.Sources, nodes: opts.Nodes, ready: opts.Ready,
		configStatus: opts.Config, tokens: opts.Tokens, readToken: opts.RequireReadToken,
		maxBody: orDefault(opts.MaxBodyBytes, d.MaxBodyBytes), viewWait: orDefault(opts.ViewWait, d.ViewWait),
		log: opts.Logger, metrics: m,
	}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	a.handler = a.routes(opts.Gatherer)
	return a, nil
}

// Handler returns the API's handler. Serve it with a server from NewServer,
// which bounds header, body and connection times.
func (a *API) Handler() http.Handler { return a.handler }

// routes builds the API's mux. A known path with another method is a 405
// and an unknown path a 404, both in the §4 shape.
func (a *API) routes(gatherer prometheus.Gatherer) *http.ServeMux {
	mux := http.NewServeMux()
	handle := func(pattern string, h http.Handler) {
		_, path, _ := strings.Cut(pattern, " ")
		if path == "" {
			path = pattern
		}
		mux.Handle(pattern, a.instrument(path, h))
	}
	handle("PUT /v1/agents/{name}", a.serve(a.requireScope(auth.Write, a.putAgent)))
	handle("DELETE /v1/agents/{name}", a.serve(a.requireScope(auth.Write, a.deleteAgent)))
	handle("GET /v1/agents/{name}", a.serve(a.requireRead(a.getAgent)))
	handle("GET /v1/agents", a.serve(a.requireRead(a.listAgents)))
	handle("GET /v1/sources", a.serve(a.requireRead(a.sources)))
	handle("GET /v1/sidecars", a.serve(a.requireRead(a.sidecars)))
	handle("GET /healthz", a.serve(a.healthz))
	handle("GET /readyz", a.serve(a.readyz))
	allowed := map[string]string{
		"/v1/agents/{name}": "GET, HEAD, PUT, DELETE",
		"/v1/agents":        "GET, HEAD",
		"/v1/sources":       "GET, HEAD",
		"/v1/sidecars":      "GET, HEAD",
		"/healthz":          "GET, HEAD",
		"/readyz":           "GET, HEAD",
	}
	if a.leases != nil {
		handle("POST /v1/agents/{name}/heartbeat", a.serve(a.requireScope(auth.Write, a.heartbeat)))
		allowed["/v1/agents/{name}/heartbeat"] = "POST"
	}
	if a.configStatus != nil {
		handle("GET /v1/config", a.serve(a.requireRead(a.config)))
		allowed["/v1/config"] = "GET, HEAD"
	}
	if gatherer != nil {
		handle("GET /metrics", promhttp.HandlerFor(gatherer, promhttp.HandlerOpts{}))
		allowed["/metrics"] = "GET, HEAD"
	}
	for path, allow := range allowed {
		handle(path, a.serve(methodNotAllowed(allow)))
	}
	mux.Handle("/", a.instrument(routeUnmatched, a.serve(notFound)))
	return mux
}

// orDefault returns v, or def when v is zero.
func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}
