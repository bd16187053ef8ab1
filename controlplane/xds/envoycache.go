package xds

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	listener "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"

	"github.com/sidecard/sidecard/controlplane/envoy"
)

// EnvoyCache serves the Envoy resource types (LDS, RDS, CDS, EDS) generated
// from the store's entries by package envoy, for Envoy and proxyless gRPC
// clients, delta and state-of-the-world. Run loads it from a Feed and keeps
// it current, translating only the entries that change. See the package
// comment (Envoy types) for what each client sees.
//
// Its methods are safe for concurrent use. Run must be called once; watches
// created before the first load are answered when it completes. The zero
// value is not usable: use NewEnvoyCache.
type EnvoyCache struct {
	feed    Feed
	opts    EnvoyCacheOptions
	metrics *envoyMetrics
	http    *listener.Listener // sidecard_http, the same in every view
	// prefix starts the sotw versions of every view: it differs between
	// processes, so a client reconnecting after a restart gets a response.
	prefix  string
	running atomic.Bool
	ready   chan struct{} // closed once the first load is applied
	rev     atomic.Int64
	// applied is closed, and replaced, each time a batch is applied.
	applied atomic.Pointer[chan struct{}]
	seq     atomic.Uint64 // watch counter, for the least recently used view

	mu sync.RWMutex
	// agents is every entry of the feed, by name; written by Run only.
	agents map[string]*envoyAgent
	// wire indexes the wire form of the translated agents' VirtualHosts.
	wire    *wireIndex
	leftOut int // agents whose translation failed
	// views are by selector key; the empty selector's is never evicted.
	views   map[string]*envoyView
	viewSeq uint64
	loaded  bool
	pending map[*pendingWatch]struct{} // watches created before the first load
}

// NewEnvoyCache returns a cache following feed. It serves nothing and is
// not Ready until Run has listed the feed.
func NewEnvoyCache(feed Feed, opts EnvoyCacheOptions) (*EnvoyCache, error) {
	if feed == nil {
		return nil, errors.New("new envoy cache: nil feed")
	}
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("new envoy cache: %w", err)
	}
	opts = opts.withDefaults()
	http, err := envoy.HTTPListener(opts.Translation)
	if err != nil {
		return nil, fmt.Errorf("new envoy cache: %w", err)
	}
	m, err := newEnvoyMetrics(opts.Registerer)
	if err != nil {
		return nil, fmt.Errorf("new envoy cache: %w", err)
	}
	c := &EnvoyCache{
		feed:    feed,
		opts:    opts,
		metrics: m,
		http:    http,
		prefix:  strconv.FormatInt(time.Now().UnixNano(), 36) + ".",
		ready:   make(chan struct{}),
		agents:  make(map[string]*envoyAgent),
		wire:    newWireIndex(),
		views:   make(map[string]*envoyView),
		pending: make(map[*pendingWatch]struct{}),
	}
	applied := make(chan struct{})
	c.applied.Store(&applied)
	if _, err := c.viewLocked(emptySelector); err != nil { // not shared yet: no lock needed
		return nil, fmt.Errorf("new envoy cache: %w", err)
	}
	return c, nil
}

// Revision returns the store revision the cache reflects; 0 before it is
// loaded.
func (c *EnvoyCache) Revision() int64 { return c.rev.Load() }

// Ready reports whether Run has loaded the feed at least once.
func (c *EnvoyCache) Ready() bool {
	select {
	case <-c.ready:
		return true
	default:
		return false
	}
}

// WaitFor blocks until the cache reflects store revision rev (every watch
// answered as of rev) or ctx is done, in which case it returns an error
// wrapping ctx.Err().
func (c *EnvoyCache) WaitFor(ctx context.Context, rev int64) error {
	for {
		applied := *c.applied.Load()
		if c.Revision() >= rev {
			return nil
		}
		select {
		case <-applied:
		case <-ctx.Done():
			return fmt.Errorf("wait for the envoy xds cache to reach revision %d: %w", rev, ctx.Err())
		}
	}
}

// WaitReady blocks until the cache is Ready or ctx is done, in which case it
// returns an error wrapping ctx.Err().
func (c *EnvoyCache) WaitReady(ctx context.Context) error {
	select {
	case <-c.ready:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("wait for the envoy xds cache to load: %w", ctx.Err())
	}
}

// viewLocked returns the view of sel, creating it from the current agents
// when there is none. With MaxSelectors views of non-empty selectors, it
// first drops the least recently used idle one; it fails when none is
// idle. The caller holds c.mu for writing.
func (c *EnvoyCache) viewLocked(sel selector) (*envoyView, error) {
	if v := c.views[sel.key]; v != nil {
		return v, nil
	}
	if sel.key != emptySelector.key && len(c.views)-1 >= c.opts.MaxSelectors {
		victim := c.idleViewLocked()
		if victim == nil {
			return nil, fmt.Errorf("selector %s: %d other selectors are in use (envoy max_selectors)",
				sel.key, c.opts.MaxSelectors)
		}
		delete(c.views, victim.sel.key)
		c.metrics.evictions.Inc()
	}
	var members []*envoyAgent
	for _, a := range c.agents {
		if a.in(sel) {
			members = append(members, a)
		}
	}
	slices.SortFunc(members, func(a, b *envoyAgent) int { return cmp.Compare(a.match.Name, b.match.Name) })
	c.viewSeq++
	v, err := newEnvoyView(sel, c.prefix+strconv.FormatUint(c.viewSeq, 10)+"-", c.http, members, c.wire)
	if err != nil {
		return nil, err
	}
	c.views[sel.key] = v
	c.metrics.views.Set(float64(len(c.views)))
	return v, nil
}

// idleViewLocked returns the least recently used idle view of a non-empty
// selector, or nil. The caller holds c.mu.
func (c *EnvoyCache) idleViewLocked() *envoyView {
	var victim *envoyView
	for key, v := range c.views {
		if key == emptySelector.key || !v.idle() {
			continue
		}
		if victim == nil || v.lastUsed.Load() < victim.lastUsed.Load() {
			victim = v
		}
	}
	return victim
}
