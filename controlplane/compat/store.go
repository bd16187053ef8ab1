package compat

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sidecard/sidecard/controlplane/auth"
	"github.com/sidecard/sidecard/controlplane/store"
	"github.com/sidecard/sidecard/internal/a2aregistry"
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
// source "api" (a name a registry file owns is an a2aregistry.ErrConflict); reads go to
// the view once it has caught up with the store's revision at the time of
// the call, so that a read sees every write completed before it. Safe for
// concurrent use.
type StoreRegistry struct {
	store    Store
	view     View
	viewWait time.Duration
}

var _ a2aregistry.Registry = (*StoreRegistry)(nil)

// NewStoreRegistry returns a StoreRegistry over s and v.
func NewStoreRegistry(s Store, v View) (*StoreRegistry, error) {
	if s == nil || v == nil {
		return nil, errors.New("new compat store registry: store and view are required")
	}
	return &StoreRegistry{store: s, view: v, viewWait: DefaultViewWait}, nil
}

// Register stores e, merged with an existing entry (of source "api") as
// a2aregistry.MergeRegistration says, registered by the caller in ctx (see
// callerPrecondition). A concurrent write of the same entry is retried.
func (s *StoreRegistry) Register(ctx context.Context, e *registry.Entry) (*registry.Entry, error) {
	for range registerAttempts {
		p := callerPrecondition(ctx)
		next := e
		existing, err := s.store.Get(e.Name)
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return nil, fmt.Errorf("register %q: %w", e.Name, err)
		case existing.Source != registry.SourceAPI:
			return nil, fmt.Errorf("register %q: %w: source %q", e.Name, a2aregistry.ErrConflict, existing.Source)
		default:
			next, p.MatchRevision = a2aregistry.MergeRegistration(e, existing), existing.Revision
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
	return nil, fmt.Errorf("register %q: the entry kept changing: %w", e.Name, a2aregistry.ErrUnavailable)
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
		return nil, fmt.Errorf("get %q: %w", name, a2aregistry.ErrNotFound)
	}
	return e, nil
}

// Delete deletes the entry named name, as source "api", for the caller in
// ctx (see callerPrecondition).
func (s *StoreRegistry) Delete(ctx context.Context, name string) error {
	if _, err := s.store.Delete(ctx, name, callerPrecondition(ctx)); err != nil {
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
	return a2aregistry.ListIndex(ix, limit), nil
}

// Search returns the first limit entries of the view matching query and
// any of skills, in name order.
func (s *StoreRegistry) Search(ctx context.Context, query string, skills []string, limit int) ([]*registry.Entry, error) {
	ix, err := s.index(ctx)
	if err != nil {
		return nil, err
	}
	return a2aregistry.SearchIndex(ix, query, skills, limit)
}

// Count returns the number of entries of the view.
func (s *StoreRegistry) Count(context.Context) (int, error) {
	return s.view.Index().Len(), nil
}

// index returns the view's index once it reflects every write committed
// before the call; a2aregistry.ErrUnavailable when it does not catch up in time.
func (s *StoreRegistry) index(ctx context.Context) (*registry.Index, error) {
	rev := s.store.Revision()
	ctx, cancel := context.WithTimeout(ctx, s.viewWait)
	defer cancel()
	if err := s.view.WaitFor(ctx, rev); err != nil {
		return nil, fmt.Errorf("%w: %w", a2aregistry.ErrUnavailable, err)
	}
	return s.view.Index(), nil
}

// callerPrecondition returns the store precondition of a write by the
// caller in ctx (auth.FromContext, put there by the Handler): source
// "api", registered to the caller's token name, and restricted to the
// caller's entries unless it is an admin. A context without a caller
// restricts the write to entries nobody registered.
func callerPrecondition(ctx context.Context) store.Precondition {
	id, _ := auth.FromContext(ctx)
	return store.Precondition{Source: registry.SourceAPI, Owner: id.Name, OwnerOnly: !id.Scopes.Has(auth.Admin)}
}

// storeError maps the store's errors to the Registry's.
func storeError(err error) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("%w: %w", a2aregistry.ErrNotFound, err)
	case errors.Is(err, store.ErrOwned):
		return fmt.Errorf("%w: %w", a2aregistry.ErrConflict, err)
	case errors.Is(err, store.ErrForbidden):
		return fmt.Errorf("%w: %w", a2aregistry.ErrForbidden, err)
	case errors.Is(err, store.ErrClosed):
		return fmt.Errorf("%w: %w", a2aregistry.ErrUnavailable, err)
	}
	return err
}
