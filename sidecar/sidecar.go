package sidecar

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/valyala/fasthttp"

	"github.com/sidecard/sidecard/cache"
	"github.com/sidecard/sidecard/internal/reloadmetrics"
	"github.com/sidecard/sidecard/sidecar/lookup"
	"github.com/sidecard/sidecard/sidecar/proxy"
	"github.com/sidecard/sidecard/sidecar/xdsclient"
	"github.com/sidecard/sidecard/watch"
)

// ReplicaFile is the name of the replica snapshot inside the data directory.
const ReplicaFile = "replica.json"

// Deps are what the caller (cmd) owns and hands in. Every field may be
// zero.
type Deps struct {
	Logger     *slog.Logger
	Registerer prometheus.Registerer
	Gatherer   prometheus.Gatherer
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// LogLevel is the level of Logger's handler: the sidecar sets it to
	// log_level, at start and on every reload. nil: a change of log_level
	// needs a restart.
	LogLevel *slog.LevelVar
	// ConfigPath is the config file the configuration was read from; ""
	// when there is none. It is shown in GET /v1/status and, with
	// LoadConfig, watched.
	ConfigPath string
	// LoadConfig turns reloading on: it is called whenever ConfigPath may
	// have changed (edited in place, renamed over, deleted and created
	// again, or swapped ConfigMap-style), and returns the configuration to
	// run with: the file read strictly with the command line's flags
	// applied over it, so that flags keep winning, and node.id filled in.
	// The sidecar validates it. nil: no reloads (and no sidecard_config_*
	// metrics; they carry component="sidecar", so Registerer must not add
	// a component label then).
	LoadConfig func() (Config, error)
}

// Sidecar is a running sidecar. Build it with New, then Run it.
//
// Its configuration can change while it runs: with Deps.LoadConfig, edits
// of the config file are put in effect as a transaction (see reload.go);
// the keys of RestartKeys keep their starting value until a restart.
type Sidecar struct {
	cfg       Config // the configuration it started with
	log       *slog.Logger
	now       func() time.Time
	replica   *cache.Replica
	persister *cache.Persister
	client    *xdsclient.Client
	lookup    *lookup.Handler
	proxy     *proxy.Proxy
	agents    *agents // registration through the sidecar, compat API
	server    *fasthttp.Server
	ln        net.Listener
	reload    *reloader
	// warm is true when the replica was restored from disk at start, so
	// the sidecar is ready before any control plane answers.
	warm   bool
	synced atomic.Bool // a control plane's response has been applied
}

// New restores the replica from the data directory when a snapshot is
// there, builds every part and binds the listener, so that a bad config or
// a busy port fails here and not half-way through Run.
func New(cfg Config, deps Deps) (*Sidecar, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("sidecar config: %w", err)
	}
	if deps.LoadConfig != nil && deps.ConfigPath == "" {
		return nil, errors.New("sidecar: Deps.LoadConfig needs Deps.ConfigPath, the file to watch")
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	s := &Sidecar{cfg: cfg, log: deps.Logger, now: deps.Now}
	if err := s.build(deps); err != nil {
		if s.ln != nil {
			s.ln.Close()
		}
		return nil, err
	}
	return s, nil
}

func (s *Sidecar) build(deps Deps) error {
	var err error
	if s.replica, err = cache.NewReplica(cache.ReplicaOptions{Registerer: deps.Registerer}); err != nil {
		return fmt.Errorf("build replica: %w", err)
	}
	if err := os.MkdirAll(s.cfg.DataDir, 0o755); err != nil {
		return fmt.Errorf("create data directory: %w", err)
	}
	path := filepath.Join(s.cfg.DataDir, ReplicaFile)
	s.restore(path)
	if s.persister, err = cache.NewPersister(cache.PersisterOptions{
		Replica: s.replica, Path: path, Logger: s.log, Registerer: deps.Registerer,
	}); err != nil {
		return fmt.Errorf("build persister: %w", err)
	}
	if s.client, err = xdsclient.New(xdsclient.Options{
		Addresses: s.cfg.ControlPlane.Addresses, NodeID: s.cfg.Node.ID,
		Labels: s.cfg.Node.Labels, Selector: s.cfg.Subscribe.Selector,
		Replica: s.replica, Logger: s.log, Registerer: deps.Registerer, Now: s.now,
	}); err != nil {
		return fmt.Errorf("build xDS client: %w", err)
	}
	if s.proxy, err = proxy.New(s.cfg.Proxy, proxy.Deps{
		Source: s.replica, Registerer: deps.Registerer, Logger: s.log, Now: s.now,
	}); err != nil {
		return fmt.Errorf("build proxy: %w", err)
	}
	if s.agents, err = buildAgents(s.cfg, s.replica, s.Ready, deps); err != nil {
		return err
	}
	if s.lookup, err = lookup.New(lookup.Options{
		Source: s.replica, Status: s, Ready: s.Ready, Stale: s.stale,
		Gatherer: deps.Gatherer, Registerer: deps.Registerer,
		CacheMaxCostBytes: s.cfg.Cache.MaxCostBytes,
		Mounts:            []lookup.Mount{{Prefix: proxy.Prefix, Route: "a2a", Handler: s.proxy.Serve}, s.agents.mount()},
		EntryWrite:        s.agents.registrar.Serve,
	}); err != nil {
		return fmt.Errorf("build lookup API: %w", err)
	}
	s.server = lookup.NewServer(s.lookup, lookup.ServerOptions{Logger: s.log})
	// The proxy sets the body limit and write timeout of /a2a/ requests.
	s.server.HeaderReceived = s.proxy.RequestConfig
	s.agents.hook(s.server)
	if err := s.buildReload(deps); err != nil {
		return err
	}
	if s.ln, err = net.Listen("tcp", s.cfg.Addr); err != nil {
		return fmt.Errorf("listen on %s: %w", s.cfg.Addr, err)
	}
	return nil
}

// buildReload builds the reloader, which holds the configuration in
// effect, and puts in effect what the constructors did not take (the
// overrides, the log level). Reloading is on when deps.LoadConfig is set.
func (s *Sidecar) buildReload(deps Deps) error {
	initial, err := buildCandidate(s.cfg)
	if err != nil {
		return err
	}
	r := &reloader{
		path: deps.ConfigPath, load: deps.LoadConfig, level: deps.LogLevel,
		proxy: s.proxy, client: s.client, lookup: s.lookup,
		log: s.log, now: s.now, started: s.cfg,
	}
	if r.path != "" {
		if r.path, err = filepath.Abs(r.path); err != nil {
			return fmt.Errorf("config file %q: %w", deps.ConfigPath, err)
		}
	}
	reg := deps.Registerer
	if r.load == nil {
		reg = nil // no reloads: no reload metrics
	}
	if r.metrics, err = reloadmetrics.New(reg, "sidecar"); err != nil {
		return err
	}
	if r.load != nil {
		var wreg prometheus.Registerer
		if reg != nil {
			wreg = prometheus.WrapRegistererWith(prometheus.Labels{"watch": "config"}, reg)
		}
		if r.watcher, err = watch.New([]string{r.path}, watch.Options{Logger: s.log, Registerer: wreg}); err != nil {
			return fmt.Errorf("watch the config file: %w", err)
		}
	}
	r.start(initial)
	s.reload = r
	return nil
}

// restore loads the replica snapshot at path. A missing file is a cold
// start; an unreadable one is logged and the sidecar starts cold too, since
// the control plane will send everything again.
func (s *Sidecar) restore(path string) {
	snap, err := cache.LoadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		s.log.Info("no replica on disk: starting cold", "path", path)
	case err != nil:
		s.log.Warn("replica on disk unusable: starting cold", "path", path, "error", err)
	default:
		s.replica.Restore(snap)
		s.warm = true
		s.log.Info("replica restored from disk", "path", path, "agents", snap.Len(), "revision", snap.Revision())
	}
}

// Addr is the address the lookup API listens on (useful with port 0).
func (s *Sidecar) Addr() string { return s.ln.Addr().String() }

// Replica is the sidecar's replica, for in-process use (sidecard dev, tests).
func (s *Sidecar) Replica() *cache.Replica { return s.replica }

// Ready reports whether the sidecar has a replica to answer from: restored
// from disk, or received from a control plane.
func (s *Sidecar) Ready() bool {
	if s.warm || s.synced.Load() {
		return true
	}
	if s.client.Status().ACKs > 0 {
		s.synced.Store(true)
		return true
	}
	return false
}

// stale reports whether there is no live stream to a control plane and for
// how many seconds; it runs on every lookup, so it only reads an atomic.
func (s *Sidecar) stale() (bool, int64) {
	since, down := s.client.DownSince()
	if !down {
		return false, 0
	}
	return true, int64(s.now().Sub(since) / time.Second)
}

// Status answers GET /v1/status.
func (s *Sidecar) Status() lookup.Status {
	snap := s.replica.Load()
	cs := s.client.Status()
	cfg := s.reload.state.Load()
	st := lookup.Status{
		NodeID:       s.cfg.Node.ID,
		Connected:    cs.Connected,
		ControlPlane: cs.Address,
		Revision:     syncedRevision(snap),
		Agents:       snap.Len(),
		LastUpdate:   snap.UpdatedAt(),
		Config:       cfg.status,
	}
	st.Config.RestartRequired = slices.Clone(cfg.status.RestartRequired)
	if len(cfg.overrides) > 0 {
		st.Overrides = make([]lookup.Override, len(cfg.overrides))
		for i, o := range cfg.overrides {
			_, o.Registered = snap.Index().Get(o.Name)
			o.Endpoints = slices.Clone(o.Endpoints)
			st.Overrides[i] = o
		}
	}
	_, st.StaleSeconds = s.stale()
	st.Registrations = s.agents.registrar.Registrations()
	return st
}

// Run serves until ctx is done, then stops every part: the HTTP server
// first, then the stream, then a final write of the replica. It returns the
// first error of any part.
func (s *Sidecar) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg   sync.WaitGroup
		once sync.Once
		errc error
	)
	fail := func(err error) {
		if err != nil && !errors.Is(err, context.Canceled) {
			once.Do(func() { errc = err })
			cancel()
		}
	}
	wg.Go(func() { fail(s.client.Run(ctx)) })
	wg.Go(func() { fail(s.persister.Run(ctx)) })
	wg.Go(func() { fail(s.proxy.Run(ctx)) })
	wg.Go(func() { fail(s.agents.run(ctx)) })
	if s.reload.watcher != nil {
		wg.Go(func() { fail(s.reload.Run(ctx)) })
	}
	wg.Go(func() {
		if err := s.server.Serve(s.ln); err != nil {
			fail(fmt.Errorf("serve HTTP: %w", err))
		}
	})
	<-ctx.Done()
	s.proxy.Close() // ends open streams, which would hold the shutdown up
	shutdownCtx, done := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer done()
	_ = s.server.ShutdownWithContext(shutdownCtx)
	// A Shutdown that ran before Serve registered the listener missed it;
	// closing it makes such a Serve return at once.
	_ = s.ln.Close()
	wg.Wait()
	s.lookup.Close()
	return errc
}

// SetSelector changes the label selector of the live subscription: the
// control plane sends the entries that now match and removes those that no
// longer do. A later config reload that changes something puts the
// file's selector back. Safe for concurrent use.
func (s *Sidecar) SetSelector(sel map[string]string) { s.client.SetSelector(sel) }

// SetProxyOptions puts new proxy options in effect for the requests that
// start from then on; invalid options change nothing. A later config
// reload that changes something puts the file's options back. Safe for
// concurrent use.
func (s *Sidecar) SetProxyOptions(o proxy.Options) error { return s.proxy.SetOptions(o) }

// syncedRevision is the control-plane revision the replica is in sync with:
// the system version of the last response (the store revision, which moves
// on deletes too), or the highest entry revision held when no response has
// said so yet. It is what GET /v1/sidecars reports as acked_revision.
func syncedRevision(snap *cache.Snapshot) int64 {
	rev := snap.Revision()
	if v, err := strconv.ParseInt(snap.SystemVersion(), 10, 64); err == nil && v > rev {
		return v
	}
	return rev
}
