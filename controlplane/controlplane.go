// Package controlplane is sidecard's control plane: it owns the registry
// (a durable store fed by the HTTP API and registry files), and serves it to
// sidecars and Envoy-side clients.
//
// This file composes the parts; each lives in its own sub-package: store
// (bbolt, revisions, change feed), view (an index following the feed),
// filesource (registry directories), auth (bearer tokens), xds (the registry
// over delta and state-of-the-world xDS, the Envoy types translated by
// envoy, and the status of connected nodes), api (HTTP) and compat (the
// A2A Registry compatible API, on the same HTTP server). lease expires the
// entries whose lease (ttl_seconds) was not renewed.
//
// Edits take effect while it runs (reload.go): the registry directories are
// watched and every change is synced into the store, and the config file
// and the tokens file are watched and reloaded as a transaction.
package controlplane

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sidecard/sidecard/controlplane/api"
	"github.com/sidecard/sidecard/controlplane/auth"
	"github.com/sidecard/sidecard/controlplane/compat"
	"github.com/sidecard/sidecard/controlplane/filesource"
	"github.com/sidecard/sidecard/controlplane/lease"
	"github.com/sidecard/sidecard/controlplane/store"
	"github.com/sidecard/sidecard/controlplane/view"
	"github.com/sidecard/sidecard/controlplane/xds"
	"github.com/sidecard/sidecard/watch"
)

// Deps are what the caller (cmd) owns and hands in. Every field may be
// zero.
type Deps struct {
	Logger     *slog.Logger
	Registerer prometheus.Registerer
	Gatherer   prometheus.Gatherer
	// LogLevel is the level of Logger's handler: the control plane sets it
	// to log_level, at start and on every reload. nil: a change of
	// log_level needs a restart.
	LogLevel *slog.LevelVar
	// ConfigPath is the config file the configuration was read from; ""
	// when there is none. It is shown by GET /v1/config and, with
	// LoadConfig, watched.
	ConfigPath string
	// LoadConfig turns reloading on: it is called whenever the config file
	// or the tokens file may have changed, and returns the configuration to
	// run with, validated — the config file with the command line's flags
	// applied over it, so that flags keep winning. nil: no reloads (and no
	// sidecard_config_* metrics; they carry component="controlplane", so
	// Registerer must not add a component label then).
	LoadConfig func() (Config, error)
}

// ControlPlane is a running control plane. Build it with New, then Run it.
type ControlPlane struct {
	cfg    Config
	log    *slog.Logger
	store  *store.Bolt
	leases *lease.Expirer
	view   *view.View
	files  *filesource.Source
	api    *api.API
	httpLn net.Listener
	http   *http.Server
	cache  *xds.RegistryCache
	envoy  *xds.EnvoyCache // nil unless envoy.enabled
	xds    *xds.Server
	xdsLn  net.Listener
	ready  atomic.Bool
	tokens atomic.Pointer[auth.Tokens] // nil: writes are not authenticated
	// readAuth is auth.require_read_token: reads need a token too.
	readAuth atomic.Bool

	registry *watch.Watcher // of the registry directories, for followRegistry
	reload   *reloader      // the configuration in effect and its reloads
}

// New opens the store, builds every part and binds the listeners, so that
// a bad config or a busy port fails here and not half-way through Run.
func New(cfg Config, deps Deps) (*ControlPlane, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("control-plane config: %w", err)
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	cp := &ControlPlane{cfg: cfg, log: deps.Logger}
	if err := cp.build(deps); err != nil {
		cp.closeAll()
		return nil, err
	}
	return cp, nil
}

func (cp *ControlPlane) build(deps Deps) error {
	var err error
	cp.store, err = store.Open(filepath.Join(cp.cfg.DataDir, "registry.db"), store.Options{
		History: cp.cfg.Store.History, Registerer: deps.Registerer,
	})
	if err != nil {
		return fmt.Errorf("open store: %w", err)
	}
	if cp.leases, err = lease.New(cp.store, lease.Options{Logger: cp.log, Registerer: deps.Registerer}); err != nil {
		return fmt.Errorf("build lease expirer: %w", err)
	}
	if cp.view, err = view.New(cp.store, view.Options{Logger: cp.log}); err != nil {
		return fmt.Errorf("build view: %w", err)
	}
	if err := cp.buildFiles(deps); err != nil {
		return err
	}
	if err := cp.buildXDS(deps); err != nil {
		return err
	}
	initial, err := buildCandidate(cp.cfg)
	if err != nil {
		return err
	}
	cp.tokens.Store(initial.tokens)
	cp.readAuth.Store(initial.cfg.Auth.RequireReadToken)
	if err := cp.buildReload(deps, initial); err != nil {
		return err
	}
	if cp.api, err = api.New(api.Options{
		Store: cp.store, View: cp.view, Leases: cp.store, Ready: cp.ready.Load,
		Tokens: cp.tokens.Load, RequireReadToken: cp.readAuth.Load,
		Sources:      api.SourcesFunc(func() any { return cp.files.Status() }),
		Nodes:        api.NodesFunc(func() any { return cp.xds.Nodes() }),
		Config:       api.ConfigFunc(func() any { return cp.reload.Status() }),
		MaxBodyBytes: cp.cfg.HTTP.MaxBodyBytes,
		Logger:       cp.log, Registerer: deps.Registerer, Gatherer: deps.Gatherer,
	}); err != nil {
		return fmt.Errorf("build HTTP API: %w", err)
	}
	compatReg, err := compat.NewStoreRegistry(cp.store, cp.view)
	if err != nil {
		return fmt.Errorf("build A2A Registry compatibility API: %w", err)
	}
	compatAPI, err := compat.New(compat.Options{Registry: compatReg, Ready: cp.ready.Load,
		Tokens: cp.tokens.Load, RequireReadToken: cp.readAuth.Load,
		MaxBodyBytes: cp.cfg.HTTP.MaxBodyBytes, Logger: cp.log, Registerer: deps.Registerer})
	if err != nil {
		return fmt.Errorf("build A2A Registry compatibility API: %w", err)
	}
	mux := http.NewServeMux() // /v1/... and the rest to api, /agents, /jsonrpc and /health to compat
	mux.Handle("/", cp.api.Handler())
	compatAPI.Mount(mux)
	if cp.httpLn, err = net.Listen("tcp", cp.cfg.HTTPAddr); err != nil {
		return fmt.Errorf("listen HTTP on %s: %w", cp.cfg.HTTPAddr, err)
	}
	cp.http = api.NewServer(cp.cfg.HTTPAddr, mux, api.Timeouts{
		Read: cp.cfg.HTTP.ReadTimeout, Write: cp.cfg.HTTP.WriteTimeout,
	})
	return nil
}

// buildFiles builds the file source of the registry directories and their
// watcher.
func (cp *ControlPlane) buildFiles(deps Deps) error {
	var err error
	if cp.files, err = filesource.New(cp.cfg.RegistryDirs, cp.store, filesource.Options{
		Logger: cp.log, Registerer: deps.Registerer,
	}); err != nil {
		return fmt.Errorf("build file source: %w", err)
	}
	if cp.registry, err = watch.New(cp.cfg.RegistryDirs, watch.Options{
		Filter: filesource.IsRegistryName, Logger: cp.log, Registerer: watchRegisterer(deps.Registerer, "registry"),
	}); err != nil {
		return fmt.Errorf("watch registry directories: %w", err)
	}
	return nil
}

// buildXDS builds the registry's xDS cache, the Envoy types' cache (when
// enabled) and the server, and binds the xDS listener.
func (cp *ControlPlane) buildXDS(deps Deps) error {
	var err error
	if cp.cache, err = xds.NewRegistryCache(cp.store, xds.RegistryCacheOptions{
		Logger: cp.log, Registerer: deps.Registerer,
	}); err != nil {
		return fmt.Errorf("build registry xDS cache: %w", err)
	}
	if cp.cfg.Envoy.Enabled {
		if cp.envoy, err = xds.NewEnvoyCache(cp.store, xds.EnvoyCacheOptions{
			Logger: cp.log, Registerer: deps.Registerer,
			Translation: cp.cfg.Envoy.Options(), MaxSelectors: cp.cfg.Envoy.MaxSelectors,
		}); err != nil {
			return fmt.Errorf("build Envoy xDS cache: %w", err)
		}
	}
	if cp.xds, err = xds.NewServer(cp.cache, xds.ServerOptions{
		Logger: cp.log, Registerer: deps.Registerer, Envoy: cp.envoy,
	}); err != nil {
		return fmt.Errorf("build xDS server: %w", err)
	}
	if cp.xdsLn, err = net.Listen("tcp", cp.cfg.XDSAddr); err != nil {
		return fmt.Errorf("listen xDS on %s: %w", cp.cfg.XDSAddr, err)
	}
	return nil
}

// XDSAddr is the address the xDS gRPC server listens on (useful with port 0).
func (cp *ControlPlane) XDSAddr() string { return cp.xdsLn.Addr().String() }

// HTTPAddr is the address the HTTP API listens on (useful with port 0).
func (cp *ControlPlane) HTTPAddr() string { return cp.httpLn.Addr().String() }

// Run serves until ctx is done, then shuts every part down and closes the
// store. It returns the first error of any part.
func (cp *ControlPlane) Run(ctx context.Context) error {
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
	wg.Go(func() { fail(cp.view.Run(ctx)) })
	wg.Go(func() { fail(cp.leases.Run(ctx)) })
	wg.Go(func() { fail(cp.cache.Run(ctx)) })
	if cp.envoy != nil {
		wg.Go(func() { fail(cp.envoy.Run(ctx)) })
	}
	wg.Go(func() { fail(cp.xds.Serve(ctx, cp.xdsLn)) })
	wg.Go(func() {
		if err := cp.http.Serve(cp.httpLn); !errors.Is(err, http.ErrServerClosed) {
			fail(fmt.Errorf("serve HTTP: %w", err))
		}
	})
	wg.Go(func() { fail(cp.start(ctx)) })
	registryEvents := make(chan watch.Event)
	wg.Go(func() { fail(cp.registry.Run(ctx, registryEvents)) })
	wg.Go(func() { cp.followRegistry(ctx, registryEvents) })
	if cp.reload.watcher != nil {
		configEvents := make(chan watch.Event)
		wg.Go(func() { fail(cp.reload.watcher.Run(ctx, configEvents)) })
		wg.Go(func() { cp.reload.run(ctx, configEvents) })
	}

	<-ctx.Done()
	shutdownCtx, done := context.WithTimeout(context.Background(), 5*time.Second)
	defer done()
	_ = cp.http.Shutdown(shutdownCtx)
	wg.Wait()
	if err := cp.store.Close(); err != nil && errc == nil {
		errc = fmt.Errorf("close store: %w", err)
	}
	return errc
}

// start loads the registry directories and marks the control plane ready once
// the view reflects everything loaded and the xDS caches have loaded the
// store.
func (cp *ControlPlane) start(ctx context.Context) error {
	res, err := cp.files.Sync(ctx)
	if err != nil {
		return fmt.Errorf("load registry directories: %w", err)
	}
	cp.log.Info("registry directories loaded", "dirs", cp.cfg.RegistryDirs, "result", res)
	if err := cp.view.WaitFor(ctx, cp.store.Revision()); err != nil {
		return err
	}
	if err := cp.cache.WaitReady(ctx); err != nil {
		return err
	}
	if cp.envoy != nil {
		if err := cp.envoy.WaitFor(ctx, cp.store.Revision()); err != nil {
			return err
		}
	}
	cp.ready.Store(true)
	return nil
}

// followRegistry syncs the registry directories on every Event of the
// registry watcher until ctx is done. One Sync runs at a time: the changes
// made meanwhile gather in the watcher into one Event. A failed Sync (the
// store) is logged and retried on the next Event; files that fail to load
// are logged and reported by the file source.
func (cp *ControlPlane) followRegistry(ctx context.Context, events <-chan watch.Event) {
	for {
		select {
		case <-ctx.Done():
			return
		case ev := <-events:
			res, err := cp.files.Sync(ctx)
			switch {
			case ctx.Err() != nil:
				return
			case err != nil:
				cp.log.Error("registry directories not synced; retrying on the next change", "error", err)
			default:
				cp.log.Debug("registry directories synced", "paths", len(ev.Paths), "resync", ev.Resync, "result", res)
			}
		}
	}
}

// ConfigStatus returns the state of the configuration: its generation, when
// it was loaded, why the last reload was refused, and the keys waiting for
// a restart. The result is the caller's.
func (cp *ControlPlane) ConfigStatus() ConfigStatus { return cp.reload.Status() }

// closeAll releases what build acquired when New fails part-way.
func (cp *ControlPlane) closeAll() {
	if cp.httpLn != nil {
		cp.httpLn.Close()
	}
	if cp.xdsLn != nil {
		cp.xdsLn.Close()
	}
	if cp.store != nil {
		cp.store.Close()
	}
}
