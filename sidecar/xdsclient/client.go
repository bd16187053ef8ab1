package xdsclient

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	"google.golang.org/grpc"
	grpcbackoff "google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/keepalive"
)

// Client keeps a delta ADS stream to a control plane and applies what it
// streams to a cache.Replica.
//
// Run drives it; Status, SetLabels, SetSelector and SetAddresses are safe
// to call from any goroutine at any time. The zero value is not usable;
// use New.
type Client struct {
	opts    Options
	log     *slog.Logger
	metrics *metrics
	started atomic.Bool
	// downSince is when the client last lost (or, from New, had not yet
	// opened) its stream, in Unix nanoseconds; 0 while a stream is live.
	downSince atomic.Int64

	mu       sync.Mutex // guards the fields below
	labels   map[string]string
	selector map[string]string
	status   Status
	// addrs are the control-plane addresses; cursor is the index in addrs
	// of the address of the current (or last) attempt, -1 when that
	// address is not in addrs (before the first attempt, or after
	// SetAddresses dropped it): the next attempt takes the one after.
	addrs  []string
	cursor int
	// attempt is the address of the stream or dial in progress, or of the
	// last one; cancelAttempt ends the one in progress (nil between
	// attempts); moved is set when SetAddresses ended it.
	attempt       string
	cancelAttempt context.CancelFunc
	moved         bool

	// nodeChanged has one slot: a pending value means the live stream must
	// resend the node. Never closed.
	nodeChanged chan struct{}
	// addrsChanged has one slot: a pending value wakes Run from its
	// backoff because the address it would retry was dropped. Never closed.
	addrsChanged chan struct{}
}

// errAddressesChanged ends a stream whose address SetAddresses dropped.
var errAddressesChanged = errors.New("the control-plane address is no longer configured")

// New validates opts and returns a client. It does no I/O; Run connects.
func New(opts Options) (*Client, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts = opts.withDefaults()
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, err
	}
	c := &Client{
		opts:         opts,
		log:          opts.Logger,
		metrics:      m,
		labels:       opts.Labels,
		selector:     opts.Selector,
		addrs:        opts.Addresses,
		cursor:       -1,
		nodeChanged:  make(chan struct{}, 1),
		addrsChanged: make(chan struct{}, 1),
	}
	c.downSince.Store(opts.Now().UnixNano())
	return c, nil
}

// SetSelector replaces the label selector the node subscribes with. A live
// stream resends the node at once (a request carrying the node and no
// subscription change), which the control plane takes as a selector change;
// a later stream starts with it. The map is copied.
func (c *Client) SetSelector(sel map[string]string) {
	c.setNode(func() bool {
		if maps.Equal(c.selector, sel) {
			return false
		}
		c.selector = maps.Clone(sel)
		return true
	})
}

// SetLabels replaces the node's labels, as SetSelector does the selector.
func (c *Client) SetLabels(labels map[string]string) {
	c.setNode(func() bool {
		if maps.Equal(c.labels, labels) {
			return false
		}
		c.labels = maps.Clone(labels)
		return true
	})
}

// SetAddresses replaces the control-plane addresses (validated as
// Options.Addresses: at least one, none empty; the slice is copied). When
// the address of the live stream, or of the attempt in progress or of the
// backoff, is still in addrs, nothing is interrupted: the new list is used
// from the next reconnection on, starting after that address. Otherwise
// the stream (or attempt) is closed at once, or the backoff cut short, and
// the client connects to addrs[0] without waiting. On error nothing
// changes.
func (c *Client) SetAddresses(addrs []string) error {
	if len(addrs) == 0 {
		return errors.New("xds client: no control-plane address")
	}
	if slices.Contains(addrs, "") {
		return errors.New("xds client: empty control-plane address")
	}
	c.mu.Lock()
	c.addrs = slices.Clone(addrs)
	c.cursor = slices.Index(c.addrs, c.attempt)
	current := c.attempt
	dropped := current != "" && c.cursor < 0
	if dropped && c.cancelAttempt != nil {
		c.moved = true
		c.cancelAttempt()
	}
	c.mu.Unlock()
	if dropped {
		c.log.Info("xds control-plane address dropped from the configuration; reconnecting",
			"addr", current, "addresses", addrs)
		select {
		case c.addrsChanged <- struct{}{}:
		default:
		}
	}
	return nil
}

// Addresses returns the control-plane addresses in use; the slice is the
// caller's.
func (c *Client) Addresses() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.addrs)
}

// beginAttempt picks the next address and makes the attempt on it
// cancellable by SetAddresses.
func (c *Client) beginAttempt(ctx context.Context) (string, context.Context) {
	select { // a wake-up for an earlier backoff
	case <-c.addrsChanged:
	default:
	}
	actx, cancel := context.WithCancel(ctx)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cursor = (c.cursor + 1) % len(c.addrs)
	c.attempt = c.addrs[c.cursor]
	c.cancelAttempt, c.moved = cancel, false
	return c.attempt, actx
}

// endAttempt releases the attempt's context and reports whether
// SetAddresses ended it.
func (c *Client) endAttempt() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cancelAttempt()
	c.cancelAttempt = nil
	return c.moved
}

// setNode applies change under the lock and, when it changed something,
// tells the live stream.
func (c *Client) setNode(change func() bool) {
	c.mu.Lock()
	changed := change()
	c.mu.Unlock()
	if !changed {
		return
	}
	select {
	case c.nodeChanged <- struct{}{}:
	default:
	}
}

// node returns the node as currently configured.
func (c *Client) node() *core.Node {
	c.mu.Lock()
	defer c.mu.Unlock()
	return buildNode(c.opts.NodeID, c.labels, c.selector)
}

// Run keeps a stream open until ctx is done, then closes it, marks the
// client disconnected and returns nil.
// After a stream fails or ends it waits a jittered backoff and tries the
// next address; the backoff starts over after a stream that stayed up for
// Backoff.ResetAfter. A stream closed because SetAddresses dropped its
// address is followed by an attempt on the new list at once. Run may be
// called once; it owns every goroutine it starts and waits for them before
// returning.
func (c *Client) Run(ctx context.Context) error {
	if !c.started.CompareAndSwap(false, true) {
		return errors.New("xds client: Run called twice")
	}
	defer c.stopped()
	b := newJitterBackoff(c.opts.Backoff)
	for attempt := 0; ; attempt++ {
		addr, actx := c.beginAttempt(ctx)
		if attempt > 0 {
			c.recordAttempt()
		}
		up, err := c.runStream(actx, addr)
		moved := c.endAttempt()
		if ctx.Err() != nil {
			return nil
		}
		if moved {
			c.streamDown(addr, errAddressesChanged)
			continue
		}
		c.streamDown(addr, err)
		if up >= c.opts.Backoff.ResetAfter {
			b.Reset()
		}
		wait := b.NextBackOff()
		c.log.Warn("xds stream ended; reconnecting", "addr", addr, "up", up.String(), "err", err, "retry_in", wait.String())
		if !c.backoff(ctx, wait) {
			return nil
		}
	}
}

// backoff waits d, or less when SetAddresses dropped the address just
// tried; it reports false when ctx is done.
func (c *Client) backoff(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	case <-c.addrsChanged:
		return true
	}
}

// runStream connects to addr and runs one stream until it fails or ctx is
// done. It returns how long the stream was up and why it ended.
func (c *Client) runStream(ctx context.Context, addr string) (time.Duration, error) {
	conn, err := grpc.NewClient(addr, c.dialOptions()...)
	if err != nil {
		return 0, fmt.Errorf("dial %s: %w", addr, err)
	}
	defer conn.Close()
	s := &session{c: c, addr: addr, conn: conn}
	return s.run(ctx)
}

// dialOptions returns the gRPC options of a connection: credentials,
// keepalive, connect timeout and message size.
func (c *Client) dialOptions() []grpc.DialOption {
	creds := c.opts.Credentials
	if creds == nil {
		creds = insecure.NewCredentials()
	}
	return []grpc.DialOption{
		grpc.WithTransportCredentials(creds),
		grpc.WithKeepaliveParams(keepaliveParams(c.opts.Keepalive)),
		grpc.WithConnectParams(grpc.ConnectParams{
			Backoff:           grpcbackoff.DefaultConfig,
			MinConnectTimeout: c.opts.DialTimeout,
		}),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(c.opts.MaxMessageBytes)),
		grpc.WithUserAgent(userAgent),
	}
}

// keepaliveParams returns the client keepalive parameters of k. Pings are
// sent even without an active stream, which only happens briefly.
func keepaliveParams(k KeepaliveOptions) keepalive.ClientParameters {
	return keepalive.ClientParameters{Time: k.Time, Timeout: k.Timeout, PermitWithoutStream: true}
}
