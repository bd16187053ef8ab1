package xds

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"time"

	"github.com/sidecard/sidecard/controlplane/store"
	"github.com/sidecard/sidecard/registry"
)

// Run lists the feed, then applies its changes as they are committed until
// ctx is done, answering the open watches after each batch (a burst of
// commits is read as one batch, up to BatchLimit changes). When the feed has
// compacted changes the cache has not applied, Run lists it again and applies
// the difference as one batch. Run returns nil once ctx is done, or the
// feed's error otherwise; it must be called once.
func (c *RegistryCache) Run(ctx context.Context) error {
	if !c.running.CompareAndSwap(false, true) {
		return errors.New("registry cache: Run called twice")
	}
	defer c.early.Wait()
	if err := c.load(ctx); err != nil {
		return err
	}
	retry := time.NewTimer(time.Hour)
	retry.Stop()
	defer retry.Stop()
	for {
		err := c.follow(ctx, retry)
		if !errors.Is(err, store.ErrCompacted) {
			return err
		}
		c.opts.Logger.Warn("registry xds cache fell behind the store's change history; reloading",
			slog.Int64("revision", c.Revision()), slog.Any("error", err))
		if err := c.resync(); err != nil {
			return err
		}
	}
}

// load lists the feed into the empty cache and answers the watches created
// before (the first watches of streams on goroutines of their own, until ctx
// is done; see answerEarly).
func (c *RegistryCache) load(ctx context.Context) error {
	entries, rev, err := c.feed.List()
	if err != nil {
		return fmt.Errorf("registry cache: list: %w", err)
	}
	resources := newResourceSet()
	for _, r := range c.build(entries, rev) {
		resources.set(r)
	}
	c.mu.Lock()
	c.resources = resources
	c.snap = nil
	c.log.reset(rev)
	c.tombs.reset(rev)
	c.loaded = true
	c.setRevisionLocked(rev)
	close(c.ready) // before any response: a stream that has one sees the cache Ready
	early := c.earlyWatchesLocked()
	c.notifyLocked()
	c.mu.Unlock()
	c.answerEarly(ctx, early)
	return nil
}

// follow applies the feed's changes until ctx is done (returning nil) or the
// feed fails. It retries deferred responses after RetryInterval.
func (c *RegistryCache) follow(ctx context.Context, retry *time.Timer) error {
	for {
		changed := c.feed.Changed()
		after := c.Revision()
		start := time.Now()
		changes, err := c.feed.Changes(after, c.opts.BatchLimit)
		if err != nil {
			return fmt.Errorf("registry cache: changes after revision %d: %w", after, err)
		}
		if len(changes) > 0 {
			c.apply(changes, start)
		}
		if len(changes) >= c.opts.BatchLimit && ctx.Err() == nil {
			continue // more may be waiting
		}
		select {
		case <-changed:
		case <-c.retry:
			retry.Reset(c.opts.RetryInterval)
		case <-retry.C:
			c.mu.Lock()
			c.notifyLocked()
			c.mu.Unlock()
		case <-ctx.Done():
			return nil
		}
	}
}

// apply applies a batch of changes (building their resources outside the
// lock) and answers the open watches.
func (c *RegistryCache) apply(changes []store.Change, start time.Time) {
	built := make([]*resource, len(changes))
	for i, ch := range changes {
		if ch.Entry != nil {
			built[i] = c.buildOne(ch.Entry, ch.Revision)
		}
	}
	c.mu.Lock()
	rev := c.revision
	for i, ch := range changes {
		if ch.Revision <= rev {
			continue
		}
		rev = ch.Revision
		c.applyLocked(ch.Name, built[i], ch.Revision)
	}
	if rev != c.revision {
		c.setRevisionLocked(rev)
		c.notifyLocked()
	}
	c.mu.Unlock()
	c.metrics.updateDuration.Observe(time.Since(start).Seconds())
}

// applyLocked sets (r != nil) or deletes name at revision rev and logs the
// change. The caller holds c.mu.
func (c *RegistryCache) applyLocked(name string, r *resource, rev int64) {
	prev := c.resources.get(name)
	if r == nil && prev == nil {
		return
	}
	rec := record{revision: rev, name: name, prev: prev.matchOrNil()}
	if r == nil {
		c.resources.delete(name)
		c.tombs.add(rec)
	} else {
		c.resources.set(r)
	}
	c.snap = nil
	c.log.add(rec)
}

// resync lists the feed again and applies the difference with the cache as
// one batch: changed and new entries at their revision, deletions at the
// list's revision.
func (c *RegistryCache) resync() error {
	entries, rev, err := c.feed.List()
	if err != nil {
		return fmt.Errorf("registry cache: list: %w", err)
	}
	start := time.Now()
	listed := c.build(entries, rev)
	c.mu.Lock()
	type change struct {
		name string
		r    *resource
		rev  int64
	}
	var diff []change
	for name, r := range listed {
		if cur := c.resources.get(name); cur == nil || cur.revision != r.revision {
			diff = append(diff, change{name, r, r.revision})
		}
	}
	for cur := range c.resources.all() {
		if listed[cur.name()] == nil {
			diff = append(diff, change{cur.name(), nil, rev})
		}
	}
	sort.Slice(diff, func(i, j int) bool { return diff[i].rev < diff[j].rev })
	for _, d := range diff {
		c.applyLocked(d.name, d.r, d.rev)
	}
	c.setRevisionLocked(max(rev, c.revision))
	c.metrics.resyncs.Inc() // before any response: a stream that has one sees it counted
	c.notifyLocked()
	c.mu.Unlock()
	c.metrics.updateDuration.Observe(time.Since(start).Seconds())
	return nil
}

// build returns the resources of entries listed at revision rev.
func (c *RegistryCache) build(entries []*registry.Entry, rev int64) map[string]*resource {
	out := make(map[string]*resource, len(entries))
	for _, e := range entries {
		if r := c.buildOne(e, rev); r != nil {
			out[e.Name] = r
		}
	}
	return out
}

// buildOne returns the resource of e, or nil (logged) when e cannot be
// marshalled: streams then see it as absent.
func (c *RegistryCache) buildOne(e *registry.Entry, rev int64) *resource {
	r, err := newResource(e, rev)
	if err != nil {
		c.opts.Logger.Error("registry xds cache: entry left out", slog.String("name", e.Name), slog.Any("error", err))
		return nil
	}
	return r
}

// setRevisionLocked records the cache's revision. The caller holds c.mu.
func (c *RegistryCache) setRevisionLocked(rev int64) {
	c.revision = rev
	c.rev.Store(rev)
	c.metrics.revision.Set(float64(rev))
}
