package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	discovery "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	serverconfig "github.com/envoyproxy/go-control-plane/pkg/server/config"
	serverv3 "github.com/envoyproxy/go-control-plane/pkg/server/v3"
	"google.golang.org/grpc"

	"github.com/sidecard/sidecard/controlplane/store"
	"github.com/sidecard/sidecard/controlplane/xds"
	"github.com/sidecard/sidecard/registry"
	registryv1 "github.com/sidecard/sidecard/registry/v1"
)

// fillBatch is how many entries one store transaction writes when the store
// is filled.
const fillBatch = 1000

// controlPlane is the xDS side of a control plane for one scenario: a bbolt
// store in a temporary directory, a cache of the registry type following it
// and go-control-plane's server on a gRPC server on 127.0.0.1. It owns the
// goroutines running the cache and the server; Close stops and waits for
// them and removes the directory.
type controlPlane struct {
	store *store.Bolt
	addr  string
	// fill and load are how long filling the store and loading the cache took.
	fill, load time.Duration

	dir    string
	cancel context.CancelFunc
	server *grpc.Server // go-control-plane's bare server; nil with sidecard's
	// ran and served receive the result of the cache's and the server's
	// goroutines; nil when that goroutine was not started.
	ran, served chan error
}

// startControlPlane fills a new store with cfg.Entries generated entries,
// loads the cache of the given kind from it and serves it. The control plane
// runs until Close.
func startControlPlane(ctx context.Context, cfg config, kind string) (cp *controlPlane, err error) {
	dir, err := os.MkdirTemp(cfg.Dir, "sidecard-xdsload-")
	if err != nil {
		return nil, fmt.Errorf("control plane: %w", err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	cp = &controlPlane{dir: dir, cancel: cancel}
	defer func() {
		if err != nil {
			err, cp = errors.Join(err, cp.Close()), nil
		}
	}()
	if cp.store, err = store.Open(filepath.Join(dir, "registry.db"), store.Options{}); err != nil {
		return cp, fmt.Errorf("control plane: %w", err)
	}
	start := time.Now()
	if err := fill(ctx, cp.store, cfg.Entries); err != nil {
		return cp, err
	}
	cp.fill = time.Since(start)
	start = time.Now()
	cache, err := cp.startCache(runCtx, kind)
	if err != nil {
		return cp, err
	}
	cp.load = time.Since(start)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return cp, fmt.Errorf("control plane: %w", err)
	}
	cp.addr = lis.Addr().String()
	if cfg.Server == serverSidecard {
		return cp, cp.serveSidecard(runCtx, cache, lis)
	}
	cp.servePlain(runCtx, cache, lis)
	return cp, nil
}

// fill writes the first n generated entries to s, in batches generated as
// they are written.
func fill(ctx context.Context, s *store.Bolt, n int) error {
	batch := make([]*registry.Entry, 0, fillBatch)
	for i := 0; i < n; i += fillBatch {
		batch = batch[:0]
		for j := i; j < min(i+fillBatch, n); j++ {
			e, err := generateEntry(j)
			if err != nil {
				return err
			}
			batch = append(batch, e)
		}
		res, err := s.Apply(ctx, registry.SourceAPI, batch, nil)
		if err != nil {
			return fmt.Errorf("fill the store: %w", err)
		}
		if res.Written != len(batch) {
			return fmt.Errorf("fill the store: wrote %d of a batch of %d", res.Written, len(batch))
		}
	}
	return nil
}

// startCache starts the cache of the given kind following the store and
// returns it once it holds every entry.
func (cp *controlPlane) startCache(ctx context.Context, kind string) (cachev3.Cache, error) {
	if kind == cacheLinear {
		lc, rev, err := loadLinear(cp.store)
		if err != nil {
			return nil, err
		}
		cp.ran = make(chan error, 1)
		go func() { cp.ran <- followLinear(ctx, cp.store, lc, rev) }()
		return lc, nil
	}
	rc, err := xds.NewRegistryCache(cp.store, xds.RegistryCacheOptions{})
	if err != nil {
		return nil, fmt.Errorf("control plane: %w", err)
	}
	cp.ran = make(chan error, 1)
	go func() { cp.ran <- rc.Run(ctx) }()
	waitCtx, stop := context.WithCancel(ctx)
	defer stop()
	ready := make(chan error, 1)
	go func() { ready <- rc.WaitReady(waitCtx) }()
	select {
	case err := <-ready:
		if err != nil {
			return nil, fmt.Errorf("control plane: %w", err)
		}
		return rc, nil
	case err := <-cp.ran:
		cp.ran <- nil // reported here, not again by Close
		return nil, fmt.Errorf("control plane: the registry cache stopped while loading: %w", err)
	}
}

// servePlain serves cache on lis with go-control-plane's ADS server, legacy
// wildcard off, until Close.
func (cp *controlPlane) servePlain(ctx context.Context, cache cachev3.Cache, lis net.Listener) {
	mux := &cachev3.MuxCache{
		Classify:      func(r *cachev3.Request) string { return r.GetTypeUrl() },
		ClassifyDelta: func(r *cachev3.DeltaRequest) string { return r.GetTypeUrl() },
		Caches:        map[string]cachev3.Cache{registryv1.TypeURL: cache},
	}
	srv := serverv3.NewServer(ctx, mux, &serverv3.CallbackFuncs{}, serverconfig.DeactivateLegacyWildcard())
	cp.server = grpc.NewServer()
	discovery.RegisterAggregatedDiscoveryServiceServer(cp.server, srv)
	cp.served = make(chan error, 1)
	go func() {
		err := cp.server.Serve(lis)
		if errors.Is(err, grpc.ErrServerStopped) {
			err = nil
		}
		cp.served <- err
	}()
}

// serveSidecard serves cache, a RegistryCache, on lis with sidecard's xDS
// server until Close.
func (cp *controlPlane) serveSidecard(ctx context.Context, cache cachev3.Cache, lis net.Listener) error {
	rc, ok := cache.(*xds.RegistryCache)
	if !ok {
		return errors.Join(fmt.Errorf("control plane: sidecard's server needs the registry cache, not %T", cache), lis.Close())
	}
	srv, err := xds.NewServer(rc, xds.ServerOptions{})
	if err != nil {
		return errors.Join(fmt.Errorf("control plane: %w", err), lis.Close())
	}
	cp.served = make(chan error, 1)
	go func() { cp.served <- srv.Serve(ctx, lis) }()
	return nil
}

// Close stops the server and the cache, waits for them, closes the store
// and removes its directory. It returns the errors of any of them.
func (cp *controlPlane) Close() error {
	if cp.server != nil {
		cp.server.Stop()
	}
	cp.cancel() // stops sidecard's server, the cache and the follower
	var errs []error
	for _, ch := range []chan error{cp.served, cp.ran} {
		if ch != nil {
			errs = append(errs, <-ch)
		}
	}
	if cp.store != nil {
		errs = append(errs, cp.store.Close())
	}
	errs = append(errs, os.RemoveAll(cp.dir))
	return errors.Join(errs...)
}
