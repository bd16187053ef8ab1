package xds

import (
	"errors"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Defaults of ServerOptions.
const (
	// DefaultMaxRecvMsgSize bounds a request. The largest legitimate one is
	// the first delta request of a reconnecting sidecar, whose
	// initial_resource_versions name every entry it holds: about 4 MB for
	// 100k entries with 30-character names.
	DefaultMaxRecvMsgSize = 16 << 20
	// DefaultMaxSendMsgSize bounds a response. The first delta response of a
	// cold sync carries every entry a sidecar sees in one message (tens of MB
	// for 100k entries); sidecars must raise their grpc.MaxCallRecvMsgSize
	// (default 4 MiB) to this.
	DefaultMaxSendMsgSize = 256 << 20
	// DefaultMaxConcurrentStreams bounds the streams of one client
	// connection; a sidecar needs one.
	DefaultMaxConcurrentStreams = 100
	// DefaultKeepaliveTime is how long a connection may be idle before the
	// server pings it.
	DefaultKeepaliveTime = 30 * time.Second
	// DefaultKeepaliveTimeout is how long the server waits for the answer to
	// its ping before closing the connection.
	DefaultKeepaliveTimeout = 10 * time.Second
	// DefaultMinClientPingInterval is the shortest interval at which clients
	// may ping, with or without streams; faster pingers are disconnected.
	DefaultMinClientPingInterval = 5 * time.Second
	// DefaultShutdownTimeout bounds the graceful stop of Serve.
	DefaultShutdownTimeout = 5 * time.Second
)

// ServerOptions configures a Server. The zero value is valid: zero fields
// take the defaults of DefaultServerOptions.
type ServerOptions struct {
	// Logger receives connections, disconnections and NACKs of nodes; nil
	// discards them.
	Logger *slog.Logger
	// Registerer receives the server's metrics; nil leaves them unregistered.
	Registerer prometheus.Registerer
	// Envoy, when set, serves LDS, RDS, CDS and EDS; nil serves the registry
	// type only.
	Envoy *EnvoyCache
	// Now is the clock of node statuses and push latencies; nil is time.Now.
	Now func() time.Time
	// MaxRecvMsgSize bounds the size of a request, in bytes.
	MaxRecvMsgSize int
	// MaxSendMsgSize bounds the size of a response, in bytes.
	MaxSendMsgSize int
	// MaxConcurrentStreams bounds the streams of one client connection.
	MaxConcurrentStreams uint32
	// KeepaliveTime is how long a connection may be idle before the server
	// pings it; KeepaliveTimeout how long it waits for the answer.
	KeepaliveTime, KeepaliveTimeout time.Duration
	// MinClientPingInterval is the shortest interval at which a client may
	// ping, with or without streams.
	MinClientPingInterval time.Duration
	// ShutdownTimeout bounds how long Serve waits for streams to end once
	// its context is done before it closes every connection.
	ShutdownTimeout time.Duration
}

// DefaultServerOptions returns the options used for zero fields.
func DefaultServerOptions() ServerOptions {
	return ServerOptions{
		MaxRecvMsgSize:        DefaultMaxRecvMsgSize,
		MaxSendMsgSize:        DefaultMaxSendMsgSize,
		MaxConcurrentStreams:  DefaultMaxConcurrentStreams,
		KeepaliveTime:         DefaultKeepaliveTime,
		KeepaliveTimeout:      DefaultKeepaliveTimeout,
		MinClientPingInterval: DefaultMinClientPingInterval,
		ShutdownTimeout:       DefaultShutdownTimeout,
	}
}

// Validate reports whether o is usable, its zero fields counting as their
// defaults. It does not modify o.
func (o ServerOptions) Validate() error {
	if o.MaxRecvMsgSize < 0 || o.MaxSendMsgSize < 0 {
		return errors.New("xds server options: message sizes must not be negative")
	}
	if o.KeepaliveTime < 0 || o.KeepaliveTimeout < 0 || o.MinClientPingInterval < 0 || o.ShutdownTimeout < 0 {
		return errors.New("xds server options: intervals and timeouts must not be negative")
	}
	return nil
}

// withDefaults returns a copy of o with zero fields set to their defaults.
func (o ServerOptions) withDefaults() ServerOptions {
	d := DefaultServerOptions()
	o.MaxRecvMsgSize = orDefault(o.MaxRecvMsgSize, d.MaxRecvMsgSize)
	o.MaxSendMsgSize = orDefault(o.MaxSendMsgSize, d.MaxSendMsgSize)
	o.MaxConcurrentStreams = orDefault(o.MaxConcurrentStreams, d.MaxConcurrentStreams)
	o.KeepaliveTime = orDefault(o.KeepaliveTime, d.KeepaliveTime)
	o.KeepaliveTimeout = orDefault(o.KeepaliveTimeout, d.KeepaliveTimeout)
	o.MinClientPingInterval = orDefault(o.MinClientPingInterval, d.MinClientPingInterval)
	o.ShutdownTimeout = orDefault(o.ShutdownTimeout, d.ShutdownTimeout)
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// orDefault returns v, or def when v is zero.
func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}
