package xdsclient

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
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
// Run drives it; Status, SetLabels and SetSelector are safe to call from
// any goroutine at any time. The zero value is not usable; use New.
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

	// nodeChanged has one slot: a pending value means the live stream must
	// resend the node. Never closed.
	nodeChanged chan struct{}
}

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
		opts:        opts,
		log:         opts.Logger,
		metrics:     m,
		labels:      opts.Labels,
		selector:    opts.Selector,
		nodeChanged: make(chan struct{}, 1),
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
// Backoff.ResetAfter. Run may be called once; it owns every goroutine it
// starts and waits for them before returning.
func (c *Client) Run(ctx context.Context) error {
	if !c.started.CompareAndSwap(false, true) {
		return errors.New("xds client: Run called twice")
	}
	defer c.stopped()
	b := newJitterBackoff(c.opts.Backoff)
	for attempt := 0; ; attempt++ {
		addr := c.opts.Addresses[attempt%len(c.opts.Addresses)]
		if attempt > 0 {
			c.recordAttempt()
		}
		up, err := c.runStream(ctx, addr)
		if ctx.Err() != nil {
			return nil
		}
		c.streamDown(addr, err)
		if up >= c.opts.Backoff.ResetAfter {
			b.Reset()
		}
		wait := b.NextBackOff()
		c.log.Warn("xds stream ended; reconnecting", "addr", addr, "up", up.String(), "err", err, "retry_in", wait.String())
		if !sleep(ctx, wait) {
			return nil
		}
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

// sleep waits d or until ctx is done; it reports whether d elapsed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
