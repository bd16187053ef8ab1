package xdsclient

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc/credentials"

	"github.com/sidecard/sidecard/cache"
)

// minKeepaliveTime is the shortest keepalive interval gRPC-Go allows a
// client; it silently raises shorter ones.
const minKeepaliveTime = 10 * time.Second

// Options configure a Client. Zero durations take their defaults.
type Options struct {
	// Addresses are the control planes' gRPC addresses (host:port), tried in
	// order, moving to the next on every failure. Required. Client.SetAddresses
	// replaces them at run time.
	Addresses []string
	// NodeID identifies the sidecar to the control plane. Required.
	NodeID string
	// Labels are the node's labels, sent in node.metadata.labels.
	Labels map[string]string
	// Selector is the label selector of the entries the node wants, sent in
	// node.metadata.selector; empty means every entry.
	Selector map[string]string
	// Replica receives the updates. Required.
	Replica *cache.Replica
	// Logger receives connection events and NACKs; nil discards them.
	Logger *slog.Logger
	// Registerer receives the client's metrics; nil registers nothing.
	Registerer prometheus.Registerer
	// Backoff paces reconnections.
	Backoff BackoffOptions
	// Keepalive detects a dead connection.
	Keepalive KeepaliveOptions
	// DialTimeout bounds establishing one connection; default 5 s.
	DialTimeout time.Duration
	// MaxMessageBytes bounds one response (an initial sync carries every
	// entry); default 256 MiB.
	MaxMessageBytes int
	// Credentials secure the connection; nil means plaintext.
	Credentials credentials.TransportCredentials
	// Now is the clock of status times and update delays; nil is time.Now.
	Now func() time.Time
}

// BackoffOptions configure reconnection: each wait is drawn uniformly from
// (0, min(Max, Initial·2ⁿ)] after the n-th consecutive failure ("full
// jitter").
type BackoffOptions struct {
	Initial time.Duration // default 250 ms
	Max     time.Duration // default 10 s
	// ResetAfter: a stream that stayed up this long was healthy, and the
	// next failure starts the backoff over. Default 10 s.
	ResetAfter time.Duration
}

// KeepaliveOptions configure gRPC keepalive pings. A connection silent for
// Time is pinged; without an answer within Timeout it is closed, so a dead
// control plane is noticed within Time+Timeout. The control plane's server
// must permit pings this frequent (keepalive.EnforcementPolicy.MinTime).
type KeepaliveOptions struct {
	Time    time.Duration // default 10 s, at least 10 s (the gRPC minimum)
	Timeout time.Duration // default 3 s
}

// Default values.
const (
	DefaultDialTimeout     = 5 * time.Second
	DefaultMaxMessageBytes = 256 << 20
)

// DefaultBackoff returns the default reconnection backoff.
func DefaultBackoff() BackoffOptions {
	return BackoffOptions{Initial: 250 * time.Millisecond, Max: 10 * time.Second, ResetAfter: 10 * time.Second}
}

// DefaultKeepalive returns the default keepalive settings.
func DefaultKeepalive() KeepaliveOptions {
	return KeepaliveOptions{Time: 10 * time.Second, Timeout: 3 * time.Second}
}

// withDefaults returns a copy of o with zero values replaced by defaults
// and its maps and slices copied.
func (o Options) withDefaults() Options {
	def, ka := DefaultBackoff(), DefaultKeepalive()
	o.Addresses = slices.Clone(o.Addresses)
	o.Labels = maps.Clone(o.Labels)
	o.Selector = maps.Clone(o.Selector)
	setDefault(&o.Backoff.Initial, def.Initial)
	setDefault(&o.Backoff.Max, def.Max)
	setDefault(&o.Backoff.ResetAfter, def.ResetAfter)
	setDefault(&o.Keepalive.Time, ka.Time)
	setDefault(&o.Keepalive.Timeout, ka.Timeout)
	setDefault(&o.DialTimeout, DefaultDialTimeout)
	if o.MaxMessageBytes == 0 {
		o.MaxMessageBytes = DefaultMaxMessageBytes
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

func setDefault(d *time.Duration, def time.Duration) {
	if *d == 0 {
		*d = def
	}
}

// Validate reports whether o, with defaults applied, is usable. It does no
// I/O and does not modify o.
func (o Options) Validate() error {
	o = o.withDefaults()
	var errs []error
	if len(o.Addresses) == 0 {
		errs = append(errs, errors.New("no control-plane address"))
	}
	if slices.Contains(o.Addresses, "") {
		errs = append(errs, errors.New("empty control-plane address"))
	}
	if o.NodeID == "" {
		errs = append(errs, errors.New("no node id"))
	}
	if o.Replica == nil {
		errs = append(errs, errors.New("no replica"))
	}
	if o.Backoff.Initial < 0 || o.Backoff.Max < o.Backoff.Initial || o.Backoff.ResetAfter < 0 {
		errs = append(errs, fmt.Errorf("backoff: need 0 < initial (%v) <= max (%v) and reset_after (%v) > 0",
			o.Backoff.Initial, o.Backoff.Max, o.Backoff.ResetAfter))
	}
	if o.Keepalive.Time < minKeepaliveTime {
		errs = append(errs, fmt.Errorf("keepalive time %v is below gRPC's minimum %v", o.Keepalive.Time, minKeepaliveTime))
	}
	if o.Keepalive.Timeout < 0 || o.DialTimeout < 0 || o.MaxMessageBytes < 0 {
		errs = append(errs, errors.New("negative keepalive timeout, dial timeout or message size"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("xds client options: %w", err)
	}
	return nil
}
