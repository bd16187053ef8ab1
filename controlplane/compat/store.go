package compat

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/sidecard/sidecard/controlplane/store"
	"github.com/sidecard/sidecard/registry"
)

// DefaultViewWait bounds how long a listing or search of a StoreRegistry
// waits for the view to reach the store's revision.
const DefaultViewWait = 2 * time.Second

// registerAttempts bounds the read-merge-write retries of a registration
// racing other writes of the same entry.
const registerAttempts = 3

// Store is the part of the control plane's store a StoreRegistry uses;
// *store.Bolt implements it.
type Store interface {
	Put(ctx context.Context, e *registry.Entry, p store.Precondition) (stored *registry.Entry, created bool, err error)
	Delete(ctx context.Context, name string, p store.Precondition) (rev int64, err error)
	Get(name string) (*registry.Entry, error)
	Revision() int64
}

// View is the index a StoreRegistry searches; *view.View implements it.
type View interface {
	Index() *registry.Index
	WaitFor(ctx context.Context, rev int64) error
}

// StoreRegistry is the control plane's Registry: writes go to the store as
// source "api" (a name a registry file owns is an ErrConflict); reads go to
// the view once it has caught up with the store's revision at the time of
// the call, so that a read sees every write completed before it. Safe for
// concurrent use.
type StoreRegistry struct {
	store    Store
	view     View
	viewWait time.Duration
}

var _ Registry = (*StoreRegistry)(nil)

// NewStoreRegistry returns a StoreRegistry over s and v.
func NewStoreRegistry(s Store, v View) (*StoreRegistry, error) {
	if s == nil || v == nil {
		return nil, errors.New("new compat store registry: store and view are required")
	}
	return &StoreRegistry{store: s, view: v, viewWait: DefaultViewWait}, nil
}

// Register stores e. An existing entry (of source "api") keeps what a card
// cannot say: its labels other than LabelNormalised, its ttl_seconds, and
// its endpoints unless they were the defaults of its old card (then they
// follow the new card). A concurrent write of the same entry is retried.
func (s *StoreRegistry) Register(ctx context.Context, e *registry.Entry) (*registry.Entry, error) {
	for range registerAttempts {
		p := store.Precondition{Source: registry.SourceAPI}
		next := e
		existing, err := s.store.Get(e.Name)
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return nil, fmt.Errorf("register %q: %w", e.Name, err)
		case existing.Source != registry.SourceAPI:
			return nil, fmt.Errorf("register %q: %w: source %q", e.Name, ErrConflict, existing.Source)
		default:
			next, p.MatchRevision = keepMetadata(e, existing), existing.Revision
		}
		stored, _, err := s.store.Put(ctx, next, p)
		if errors.Is(err, store.ErrPrecondition) {
			continue // changed since we read it: read and merge again
		}
		if err != nil {
			return nil, fmt.Errorf("register %q: %w", e.Name, storeError(err))
		}
		return stored, nil
	}
	return nil, fmt.Errorf("register %q: the entry kept changing: %w", e.Name, ErrUnavailable)
}

// keepMetadata returns a copy of e with what existing has and a card cannot
// say, as Register documents.
func keepMetadata(e, existing *registry.Entry) *registry.Entry {
	out := e.Clone()
	labels := maps.Clone(existing.Labels)
	delete(labels, LabelNormalised)
	maps.Copy(labels, e.Labels)
	if len(labels) == 0 {
		labels = nil
	}
	out.Labels = labels
	out.TTLSeconds = existing.TTLSeconds
	if !slices.Equal(existing.Endpoints, existing.Card.DefaultEndpoints()) {
		out.Endpoints = slices.Clone(existing.Endpoints)
	}
	return out
}

// Get returns the entry named name from the view, once it reflects every
// write committed before the call.
func (s *StoreRegistry) Get(ctx context.Context, name string) (*registry.Entry, error) {
	ix, err := s.index(ctx)
	if err != nil {
		return nil, err
	}
	e, ok := ix.Get(name)
	if !ok {
		return nil, fmt.Errorf("get %q: %w", name, ErrNotFound)
	}
	return e, nil
}

// Delete deletes the entry named name, as source "api".
func (s *StoreRegistry) Delete(ctx context.Context, name string) error {
	if _, err := s.store.Delete(ctx, name, store.Precondition{Source: registry.SourceAPI}); err != nil {
		return fmt.Errorf("unregister %q: %w", name, storeError(err))
	}
	return nil
}

// List returns the first limit entries of the view in name order.
func (s *StoreRegistry) List(ctx context.Context, limit int) ([]*registry.Entry, error) {
	ix, err := s.index(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*registry.Entry, 0, min(limit, ix.Len()))
	ix.Range(func(e *registry.Entry) bool {
		out = append(out, e)
		return len(out) < limit
	})
	return out, nil
}

// Search returns the first limit entries of the view matching query and
// any of skills, in name order.
func (s *StoreRegistry) Search(ctx context.Context, query string, skills []string, limit int) ([]*registry.Entry, error) {
	ix, err := s.index(ctx)
	if err != nil {
		return nil, err
	}
	if len(skills) == 0 {
		return searchAll(ix, registry.Query{Text: query}, limit)
	}
	// Skills OR together: the union of the first limit entries of each skill
	// holds the first limit entries of the union.
	byName := make(map[string]*registry.Entry)
	for _, skill := range skills {
		found, err := searchAll(ix, registry.Query{Text: query, Skills: []string{skill}}, limit)
		if err != nil {
			return nil, err
		}
		for _, e := range found {
			byName[e.Name] = e
		}
	}
	names := slices.Sorted(maps.Keys(byName))
	out := make([]*registry.Entry, 0, min(limit, len(names)))
	for _, name := range names[:min(limit, len(names))] {
		out = append(out, byName[name])
	}
	return out, nil
}

// searchAll pages through ix until it has limit matches of q or no more.
func searchAll(ix *registry.Index, q registry.Query, limit int) ([]*registry.Entry, error) {
	var out []*registry.Entry
	for len(out) < limit {
		q.Limit = min(limit-len(out), registry.MaxLimit)
		page, err := ix.Search(q)
		if err != nil {
			return nil, err
		}
		out = append(out, page.Entries...)
		if page.NextCursor == "" {
			break
		}
		q.Cursor = page.NextCursor
	}
	return out, nil
}

// Count returns the number of entries of the view.
func (s *StoreRegistry) Count(context.Context) (int, error) {
	return s.view.Index().Len(), nil
}

// index returns the view's index once it reflects every write committed
// before the call; ErrUnavailable when it does not catch up in time.
func (s *StoreRegistry) index(ctx context.Context) (*registry.Index, error) {
	rev := s.store.Revision()
	ctx, cancel := context.WithTimeout(ctx, s.viewWait)
	defer cancel()
	if err := s.view.WaitFor(ctx, rev); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return s.view.Index(), nil
}

// storeError maps the store's errors to the Registry's.
func storeError(err error) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	case errors.Is(err, store.ErrOwned):
		return fmt.Errorf("%w: %w", ErrConflict, err)
	case errors.Is(err, store.ErrClosed):
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return err
}
