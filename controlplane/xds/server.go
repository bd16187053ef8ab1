package xds

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"slices"
	"sync/atomic"
	"time"

	discovery "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	gcplog "github.com/envoyproxy/go-control-plane/pkg/log"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/envoyproxy/go-control-plane/pkg/server/config"
	serverv3 "github.com/envoyproxy/go-control-plane/pkg/server/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/keepalive"

	registryv1 "github.com/sidecard/sidecard/registry/v1"
)

// Server is the control plane's xDS server: one gRPC server with the
// aggregated discovery service (ADS), delta and state-of-the-world, over a
// cachev3.MuxCache that routes each type URL to its cache (the registry type
// to a RegistryCache; with ServerOptions.Envoy, LDS, RDS, CDS and EDS to an
// EnvoyCache). Legacy wildcard (a first request naming no resource) is off
// for the registry, RDS and EDS types, where a stream subscribes to "*"
// explicitly, and on for LDS and CDS, as Envoy expects. It follows every
// stream through go-control-plane's callbacks and reports the connected
// nodes with Nodes.
//
// A cold sync sends every entry a sidecar sees in one response, up to
// ServerOptions.MaxSendMsgSize (256 MiB by default): sidecars must raise
// their grpc.MaxCallRecvMsgSize accordingly, as gRPC clients accept 4 MiB by
// default. (The registry cache keeps a stream's state as one revision
// watermark, so a response cannot be split without changing that state.)
//
// Its methods are safe for concurrent use; Serve must be called once. The
// zero value is not usable: use NewServer.
type Server struct {
	opts    ServerOptions
	grpc    *grpc.Server
	tracker *tracker
	metrics *serverMetrics
	// endStreams ends every stream handler (they return, closing their
	// streams) when Serve stops.
	endStreams context.CancelFunc
	serving    atomic.Bool
}

// NewServer returns a server of cache (and of the other types it will serve)
// with opts. It fails on invalid options or when the metrics cannot be
// registered.
func NewServer(cache *RegistryCache, opts ServerOptions) (*Server, error) {
	if cache == nil {
		return nil, errors.New("new xds server: nil registry cache")
	}
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("new xds server: %w", err)
	}
	opts = opts.withDefaults()
	caches := map[string]cachev3.Cache{
		registryv1.TypeURL: cache,
	}
	if opts.Envoy != nil {
		maps.Copy(caches, opts.Envoy.typeCaches())
	}
	served := slices.Sorted(maps.Keys(caches))
	m, err := newServerMetrics(opts.Registerer, served)
	if err != nil {
		return nil, fmt.Errorf("new xds server: %w", err)
	}
	tr := newTracker(opts.Logger, opts.Now, m, served)
	streamsCtx, endStreams := context.WithCancel(context.Background())
	xds := serverv3.NewServer(streamsCtx, newMux(caches), tr,
		config.DeactivateLegacyWildcardForTypes(noLegacyWildcard), withLogger(opts.Logger))
	gs := grpc.NewServer(grpcOptions(opts)...)
	discovery.RegisterAggregatedDiscoveryServiceServer(gs, xds)
	return &Server{opts: opts, grpc: gs, tracker: tr, metrics: m, endStreams: endStreams}, nil
}

// noLegacyWildcard are the types whose streams must subscribe to "*"
// explicitly: every type but LDS and CDS, the only ones where the xDS
// protocol defines legacy wildcard.
var noLegacyWildcard = []string{registryv1.TypeURL, resourcev3.RouteType, resourcev3.EndpointType}

// newMux returns a cache routing each request to the cache of its type URL;
// a request of another type fails its stream.
func newMux(caches map[string]cachev3.Cache) *cachev3.MuxCache {
	return &cachev3.MuxCache{
		Classify:      func(r *cachev3.Request) string { return r.GetTypeUrl() },
		ClassifyDelta: func(r *cachev3.DeltaRequest) string { return r.GetTypeUrl() },
		Caches:        caches,
	}
}

// grpcOptions returns the gRPC server options of opts: message size limits,
// streams per connection and keepalive (the server pings idle connections;
// clients may ping every MinClientPingInterval, even without streams).
func grpcOptions(opts ServerOptions) []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.MaxRecvMsgSize(opts.MaxRecvMsgSize),
		grpc.MaxSendMsgSize(opts.MaxSendMsgSize),
		grpc.MaxConcurrentStreams(opts.MaxConcurrentStreams),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{
			MinTime:             opts.MinClientPingInterval,
			PermitWithoutStream: true,
		}),
		grpc.KeepaliveParams(keepalive.ServerParameters{
			Time:    opts.KeepaliveTime,
			Timeout: opts.KeepaliveTimeout,
		}),
		grpc.WaitForHandlers(true),
	}
}

// withLogger sends go-control-plane's server logs to log: its info lines
// (such as stale nonces) at debug level.
func withLogger(log *slog.Logger) config.XDSOption {
	at := func(level slog.Level) func(string, ...any) {
		return func(format string, args ...any) {
			if log.Enabled(context.Background(), level) {
				log.Log(context.Background(), level, "xds server: "+fmt.Sprintf(format, args...))
			}
		}
	}
	return func(o *config.Opts) {
		o.Logger = gcplog.LoggerFuncs{DebugFunc: at(slog.LevelDebug), InfoFunc: at(slog.LevelDebug),
			WarnFunc: at(slog.LevelWarn), ErrorFunc: at(slog.LevelError)}
	}
}

// Serve serves lis until ctx is done, then ends every stream (clients see
// them close and reconnect elsewhere), waits up to ShutdownTimeout for the
// connections to drain and closes the rest. It returns nil after ctx is
// done, or the error that made the gRPC server stop serving lis. lis is
// closed on return. Serve must be called once.
func (s *Server) Serve(ctx context.Context, lis net.Listener) error {
	if !s.serving.CompareAndSwap(false, true) {
		return errors.New("xds server: Serve called twice")
	}
	served := make(chan error, 1)
	go func() { served <- s.grpc.Serve(lis) }()
	var err error
	select {
	case err = <-served:
		s.stop()
	case <-ctx.Done():
		s.stop()
		err = <-served
	}
	if err != nil && !errors.Is(err, grpc.ErrServerStopped) {
		return fmt.Errorf("serve xds on %s: %w", lis.Addr(), err)
	}
	return nil
}

// stop ends the stream handlers and stops the gRPC server, gracefully for
// up to ShutdownTimeout. It returns once every handler has returned.
func (s *Server) stop() {
	graceful := make(chan struct{})
	go func() {
		s.grpc.GracefulStop()
		close(graceful)
	}()
	s.endStreams()
	timer := time.NewTimer(s.opts.ShutdownTimeout)
	defer timer.Stop()
	select {
	case <-graceful:
	case <-timer.C:
		s.opts.Logger.Warn("xds server: graceful stop timed out; closing the remaining connections",
			slog.Duration("timeout", s.opts.ShutdownTimeout))
		s.grpc.Stop()
		<-graceful
	}
}

// Nodes returns the status of every node with an open stream that has sent
// a request, ordered by node ID. The result is new and owned by the caller.
func (s *Server) Nodes() []NodeStatus { return s.tracker.nodes() }
