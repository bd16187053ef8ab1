package view

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"

	"github.com/sidecard/sidecard/controlplane/store"
	"github.com/sidecard/sidecard/registry"
)

// Feed is the part of the store a View follows; *store.Bolt implements it.
type Feed interface {
	// List returns every entry and the revision they are current at.
	List() ([]*registry.Entry, int64, error)
	// Changes returns up to limit changes committed after revision after, in
	// revision order, or an error wrapping store.ErrCompacted when the changes
	// right after after are no longer kept.
	Changes(after int64, limit int) ([]store.Change, error)
	// Changed returns a channel closed at the next commit.
	Changed() <-chan struct{}
}

// View is an immutable registry.Index of the store's entries, kept current by
// Run. Its methods are safe for concurrent use; Run must be called once.
// The zero value is not usable: use New.
type View struct {
	feed    Feed
	opts    Options
	metrics *metrics
	running atomic.Bool
	state   atomic.Pointer[state]
}

// state is one published snapshot of the view. It is never mutated after it
// is published, except that replaced is closed when a newer state replaces it.
type state struct {
	index    *registry.Index
	revision int64
	loaded   bool
	replaced chan struct{}
}

// New returns a View following feed. It is empty and not Loaded until Run
// has listed the store.
func New(feed Feed, opts Options) (*View, error) {
	if feed == nil {
		return nil, errors.New("new view: nil feed")
	}
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("new view: %w", err)
	}
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, fmt.Errorf("new view: %w", err)
	}
	v := &View{feed: feed, opts: opts.withDefaults(), metrics: m}
	v.state.Store(&state{index: registry.NewIndex(), replaced: make(chan struct{})})
	return v, nil
}

// Index returns the current index. It is immutable and may be kept.
func (v *View) Index() *registry.Index { return v.state.Load().index }

// Revision returns the store revision the current index reflects; 0 before
// the view is loaded.
func (v *View) Revision() int64 { return v.state.Load().revision }

// Snapshot returns the current index and the revision it reflects, taken
// together.
func (v *View) Snapshot() (*registry.Index, int64) {
	s := v.state.Load()
	return s.index, s.revision
}

// Loaded reports whether the view has loaded the store at least once.
func (v *View) Loaded() bool { return v.state.Load().loaded }

// WaitFor blocks until the view is loaded and has reached revision rev, or
// until ctx is done, in which case it returns an error wrapping ctx.Err().
func (v *View) WaitFor(ctx context.Context, rev int64) error {
	for {
		s := v.state.Load()
		if s.loaded && s.revision >= rev {
			return nil
		}
		select {
		case <-s.replaced:
		case <-ctx.Done():
			return fmt.Errorf("wait for view revision %d (at %d, loaded %v): %w",
				rev, s.revision, s.loaded, ctx.Err())
		}
	}
}

// Run lists the store, then applies its changes as they are committed until
// ctx is cancelled. When the feed has compacted changes the view has not yet
// applied, Run lists the store again and rebuilds the index. Run returns nil
// once ctx is cancelled, or the feed's error otherwise.
func (v *View) Run(ctx context.Context) error {
	if !v.running.CompareAndSwap(false, true) {
		return errors.New("view: Run called twice")
	}
	reason := loadInitial
	for {
		if ctx.Err() != nil {
			return nil
		}
		if err := v.load(reason); err != nil {
			return err
		}
		err := v.follow(ctx)
		if !errors.Is(err, store.ErrCompacted) {
			return err
		}
		v.opts.Logger.Warn("registry view fell behind the store's change history; reloading",
			slog.Int64("revision", v.Revision()), slog.Any("error", err))
		reason = loadCompacted
	}
}

// load lists the store and publishes a fresh index built from it.
func (v *View) load(reason string) error {
	entries, rev, err := v.feed.List()
	if err != nil {
		return fmt.Errorf("view: list store: %w", err)
	}
	v.metrics.loads.WithLabelValues(reason).Inc()
	v.publish(registry.NewIndex(entries...), rev)
	return nil
}

// follow applies the feed's changes until ctx is cancelled (returning nil) or
// the feed fails.
func (v *View) follow(ctx context.Context) error {
	for {
		changed := v.feed.Changed()
		rev := v.Revision()
		changes, err := v.feed.Changes(rev, v.opts.BatchSize)
		if err != nil {
			return fmt.Errorf("view: changes after revision %d: %w", rev, err)
		}
		if len(changes) > 0 {
			v.apply(changes)
		}
		if len(changes) >= v.opts.BatchSize && ctx.Err() == nil {
			continue // more may be waiting
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return nil
		}
	}
}

// apply publishes the current index with changes applied. Changes at or
// below the current revision are skipped; when a name changes more than once
// in the batch, its last change wins.
func (v *View) apply(changes []store.Change) {
	cur := v.state.Load()
	rev := cur.revision
	latest := make(map[string]*registry.Entry, len(changes))
	order := make([]string, 0, len(changes))
	for _, c := range changes {
		if c.Revision <= rev {
			continue
		}
		rev = c.Revision
		if _, seen := latest[c.Name]; !seen {
			order = append(order, c.Name)
		}
		latest[c.Name] = c.Entry
	}
	if rev == cur.revision {
		return
	}
	var upserts []*registry.Entry
	var deletes []string
	for _, name := range order {
		if e := latest[name]; e != nil {
			upserts = append(upserts, e)
		} else {
			deletes = append(deletes, name)
		}
	}
	v.metrics.changes.Add(float64(len(upserts) + len(deletes)))
	v.publish(cur.index.With(upserts, deletes), rev)
}

// publish swaps in a new state and wakes the waiters of the old one. Only
// Run's goroutine calls it.
func (v *View) publish(index *registry.Index, rev int64) {
	// Metrics first: a waiter woken by the swap may read them at once.
	v.metrics.revision.Set(float64(rev))
	v.metrics.entries.Set(float64(index.Len()))
	next := &state{index: index, revision: rev, loaded: true, replaced: make(chan struct{})}
	old := v.state.Swap(next)
	close(old.replaced)
}
