package register

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sidecard/sidecard/registry"
	"github.com/sidecard/sidecard/sidecar/lookup"
)

// ControlPlane is the write API a Registrar registers agents with;
// *Client implements it.
type ControlPlane interface {
	// Put creates or replaces e; ifMatch > 0 makes it conditional.
	Put(ctx context.Context, e *registry.Entry, ifMatch int64) (*Stored, error)
	// Delete deletes the entry named name (an error matching ErrNotFound
	// when there is none).
	Delete(ctx context.Context, name string) error
	// Heartbeat renews the lease of the entry named name.
	Heartbeat(ctx context.Context, name string) (Lease, error)
}

var _ ControlPlane = (*Client)(nil)

// Deps are what the sidecar hands a Registrar.
type Deps struct {
	// ControlPlane receives the registrations. Required.
	ControlPlane ControlPlane
	// HealthTransport makes the health checks; nil means a Transport of the
	// Registrar's own.
	HealthTransport http.RoundTripper
	// Clock times checks, heartbeats and leases; nil means the real clock.
	Clock Clock
	// Logger receives registrations, deregistrations and failures; nil
	// discards.
	Logger *slog.Logger
	// Registerer receives the Registrar's metrics; nil registers none.
	Registerer prometheus.Registerer
	// ShutdownTimeout bounds the deregistrations of a clean shutdown; 0
	// means DefaultShutdownTimeout.
	ShutdownTimeout time.Duration
}

// Registrar registers the sidecar's co-located agents with the control
// plane and keeps them registered while they are healthy (see the package
// documentation). Serve answers the agents; Run owns the goroutines that
// check them and renew their leases, and deregisters them when its context
// ends. It is safe for concurrent use; build it with New.
type Registrar struct {
	opts     Options
	cp       ControlPlane
	health   *http.Client
	own      *http.Transport // closed when Run returns; nil when given one
	clock    Clock
	log      *slog.Logger
	metrics  *registrarMetrics
	shutdown time.Duration

	mu    sync.Mutex
	regs  map[string]*registration
	state runState
	wake  chan struct{} // 1 slot: a registration waits for its worker
}

// runState is where a Registrar is in its life.
type runState uint8

const (
	stateIdle    runState = iota // Run not called yet: registrations wait
	stateRunning                 // Run starts a worker per registration
	stateClosed                  // Run has returned or is deregistering: no more registrations
)

// New returns a Registrar for opts, which must pass Validate.
func New(opts Options, deps Deps) (*Registrar, error) {
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("register options: %w", err)
	}
	if deps.ControlPlane == nil {
		return nil, errors.New("register: ControlPlane is required")
	}
	m, err := newRegistrarMetrics(deps.Registerer)
	if err != nil {
		return nil, err
	}
	r := &Registrar{
		opts: opts, cp: deps.ControlPlane, clock: clockOrReal(deps.Clock), log: deps.Logger, metrics: m,
		shutdown: orDefault(deps.ShutdownTimeout, DefaultShutdownTimeout),
		regs:     make(map[string]*registration), wake: make(chan struct{}, 1),
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	rt := deps.HealthTransport
	if rt == nil {
		r.own = &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 2, IdleConnTimeout: 2 * opts.HealthInterval,
			DisableCompression: true}
		rt = r.own
	}
	r.health = &http.Client{Transport: rt, Timeout: opts.healthTimeout()}
	return r, nil
}

// registration is one agent registered through the sidecar.
type registration struct {
	name string

	// op serialises the control-plane calls made for this name (the
	// agent's PUT and DELETE, re-registrations, heartbeats and
	// deregistrations), so that they reach the control plane in order.
	op sync.Mutex

	done    chan struct{} // closed when the registration ends: its worker returns
	started bool          // a worker runs it; guarded by Registrar.mu

	mu         sync.Mutex // guards the fields below
	entry      *registry.Entry
	healthURL  string
	committed  bool // the first PUT succeeded
	removed    bool // deleted by the agent, or its first PUT failed
	registered bool // the control plane has it, as far as the sidecar knows
	healthy    bool
	failures   int // failed checks in a row
	lastCheck  time.Time
	checkErr   string
	cpErr      string
	expiresAt  time.Time
}

// status returns the registration as GET /v1/status shows it.
func (g *registration) status() lookup.Registration {
	g.mu.Lock()
	defer g.mu.Unlock()
	s := lookup.Registration{Name: g.name, Healthy: g.healthy, LastCheck: g.lastCheck, LastError: g.checkErr}
	if s.LastError == "" {
		s.LastError = g.cpErr
	}
	if g.registered {
		s.ExpiresAt = g.expiresAt
	}
	return s
}

// Registrations returns the agents registered through this sidecar, in
// name order, for GET /v1/status. The slice is the caller's.
func (r *Registrar) Registrations() []lookup.Registration {
	r.mu.Lock()
	regs := make([]*registration, 0, len(r.regs))
	for _, g := range r.regs {
		regs = append(regs, g)
	}
	r.mu.Unlock()
	out := make([]lookup.Registration, 0, len(regs))
	for _, g := range regs {
		g.mu.Lock()
		committed := g.committed && !g.removed
		g.mu.Unlock()
		if committed {
			out = append(out, g.status())
		}
	}
	slices.SortFunc(out, func(a, b lookup.Registration) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Run starts a worker per registration, the registrations made before Run
// included, until ctx ends; then it stops the workers, deregisters every
// agent still registered (within the shutdown timeout) and returns nil. It
// must be called once.
func (r *Registrar) Run(ctx context.Context) error {
	r.mu.Lock()
	if r.state != stateIdle {
		r.mu.Unlock()
		return errors.New("register: Run called twice")
	}
	r.state = stateRunning
	r.mu.Unlock()
	var wg sync.WaitGroup
	for {
		r.startWorkers(ctx, &wg)
		select {
		case <-r.wake:
		case <-ctx.Done():
			r.mu.Lock()
			r.state = stateClosed
			regs := make([]*registration, 0, len(r.regs))
			for _, g := range r.regs {
				regs = append(regs, g)
			}
			r.mu.Unlock()
			wg.Wait()
			r.deregisterAll(context.WithoutCancel(ctx), regs)
			if r.own != nil {
				r.own.CloseIdleConnections()
			}
			return nil
		}
	}
}

// startWorkers starts the worker of every committed registration that has
// none.
func (r *Registrar) startWorkers(ctx context.Context, wg *sync.WaitGroup) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, g := range r.regs {
		g.mu.Lock()
		ready := g.committed && !g.removed
		g.mu.Unlock()
		if ready && !g.started {
			g.started = true
			wg.Go(func() { r.work(ctx, g) })
		}
	}
}

// signal tells Run that a registration waits for its worker.
func (r *Registrar) signal() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// deregisterAll deletes, concurrently and within the shutdown timeout, the
// agents of regs that the control plane has.
func (r *Registrar) deregisterAll(ctx context.Context, regs []*registration) {
	ctx, cancel := context.WithTimeout(ctx, r.shutdown)
	defer cancel()
	var wg sync.WaitGroup
	for _, g := range regs {
		wg.Go(func() {
			g.op.Lock()
			defer g.op.Unlock()
			g.mu.Lock()
			live := g.registered && !g.removed
			g.mu.Unlock()
			if !live {
				return
			}
			err := r.cp.Delete(ctx, g.name)
			if err != nil && !errors.Is(err, ErrNotFound) {
				r.log.Warn("could not deregister agent on shutdown; its lease will expire",
					"agent", g.name, "error", err)
				return
			}
			g.mu.Lock()
			g.registered = false
			g.mu.Unlock()
			r.metrics.deregistrations.WithLabelValues(reasonShutdown).Inc()
			r.log.Info("agent deregistered: sidecar shutting down", "agent", g.name)
		})
	}
	wg.Wait()
}

// healthURL returns the URL of e's health check: path on the origin of its
// first endpoint.
func healthURL(e *registry.Entry, path string) (string, error) {
	if len(e.Endpoints) == 0 {
		return "", errors.New("the entry has no http(s) endpoint to health-check; give endpoints or a card url")
	}
	u, err := url.Parse(e.Endpoints[0].URL)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("endpoints[0].url %q is not an absolute URL", e.Endpoints[0].URL)
	}
	return u.Scheme + "://" + u.Host + path, nil
}
