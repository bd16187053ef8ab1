package xds

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"

	registryv1 "github.com/sidecard/sidecard/registry/v1"
)

// RegistryCache is the xDS cache of the registry type (registryv1.TypeURL):
// a cachev3.Cache whose resources are the store's entries, as registryv1.Agent
// messages named after the entry, with the entry's store revision as their
// version. Run loads it from a Feed and keeps it current.
//
// Its methods are safe for concurrent use. Run must be called once; watches
// created before the first load are answered when it completes. The zero
// value is not usable: use NewRegistryCache.
type RegistryCache struct {
	feed    Feed
	opts    RegistryCacheOptions
	metrics *metrics
	running atomic.Bool
	ready   chan struct{} // closed once the first load is applied
	rev     atomic.Int64  // revision, readable without the mutex
	retry   chan struct{} // 1 slot: a response was deferred and must be retried
	now     func() time.Time
	// comparing, when set (by tests), is called by every comparison of a
	// first watch, outside the mutex, before it reads its snapshot.
	comparing func()
	// early answers the watches created before the first load (see
	// answerEarly); Run waits for it before returning.
	early sync.WaitGroup

	mu        sync.Mutex
	loaded    bool
	revision  int64
	resources resourceSet
	snap      *snapshot  // of resources at revision, until they change
	log       *changeLog // recent changes
	tombs     *changeLog // recent deletions, kept longer
	delta     map[*deltaWatch]struct{}
	sotw      map[*sotwWatch]struct{}
	// inflight is the last response sent by a notification on each delta
	// stream's channel, until that stream's next watch (see doc.go).
	inflight map[chan cachev3.DeltaResponse]inflight
}

var _ cachev3.Cache = (*RegistryCache)(nil)

// inflightTTL is how long the last response sent on a delta stream's channel
// is remembered. The server's next CreateDeltaWatch follows its cancel of the
// previous watch at once, on the same goroutine; only a stream that closed
// never comes back.
const inflightTTL = time.Minute

// inflight is a response a delta stream may not have applied yet: one that
// brought it to state, or one that reset it.
type inflight struct {
	state streamState
	reset bool
	at    time.Time
}

// NewRegistryCache returns a cache following feed. It holds nothing and is
// not Ready until Run has listed the feed.
func NewRegistryCache(feed Feed, opts RegistryCacheOptions) (*RegistryCache, error) {
	if feed == nil {
		return nil, errors.New("new registry cache: nil feed")
	}
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("new registry cache: %w", err)
	}
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, fmt.Errorf("new registry cache: %w", err)
	}
	opts = opts.withDefaults()
	return &RegistryCache{
		feed:      feed,
		opts:      opts,
		metrics:   m,
		ready:     make(chan struct{}),
		retry:     make(chan struct{}, 1),
		now:       time.Now,
		resources: newResourceSet(),
		log:       newChangeLog(opts.LogSize, 0),
		tombs:     newChangeLog(opts.TombstoneLimit, 0),
		delta:     make(map[*deltaWatch]struct{}),
		sotw:      make(map[*sotwWatch]struct{}),
		inflight:  make(map[chan cachev3.DeltaResponse]inflight),
	}, nil
}

// Revision returns the store revision the cache reflects; 0 before it is
// loaded.
func (c *RegistryCache) Revision() int64 { return c.rev.Load() }

// Ready reports whether Run has loaded the feed at least once.
func (c *RegistryCache) Ready() bool {
	select {
	case <-c.ready:
		return true
	default:
		return false
	}
}

// WaitReady blocks until the cache is Ready or ctx is done, in which case it
// returns an error wrapping ctx.Err().
func (c *RegistryCache) WaitReady(ctx context.Context) error {
	select {
	case <-c.ready:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("wait for the registry cache to load: %w", ctx.Err())
	}
}

// Fetch is the REST xDS entry point; the registry type is only served on
// streams, so it always fails.
func (c *RegistryCache) Fetch(context.Context, *cachev3.Request) (cachev3.Response, error) {
	return nil, fmt.Errorf("registry cache: fetch (REST xDS) is not served for %s", registryv1.TypeURL)
}

// checkType returns an error unless typeURL is the registry type.
func checkType(typeURL string) error {
	if typeURL != registryv1.TypeURL {
		return fmt.Errorf("registry cache: type %q is not served (only %s)", typeURL, registryv1.TypeURL)
	}
	return nil
}

// snapshotLocked returns a snapshot of the resources at the cache's
// revision, in O(1): the same one until they change. The caller holds c.mu.
func (c *RegistryCache) snapshotLocked() *snapshot {
	if c.snap == nil || c.snap.rev != c.revision {
		c.snap = &snapshot{rev: c.revision, set: c.resources.snapshot()}
	}
	return c.snap
}

// signalRetry asks Run to retry deferred responses. It never blocks.
func (c *RegistryCache) signalRetry() {
	select {
	case c.retry <- struct{}{}:
	default:
	}
}
