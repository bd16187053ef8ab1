package compat

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/sidecard/sidecard/cache"
	"github.com/sidecard/sidecard/internal/a2aregistry"
	"github.com/sidecard/sidecard/registry"
	"github.com/sidecard/sidecard/sidecar/register"
)

// DefaultVisibleWait bounds how long a write waits for the replica to show
// it before answering.
const DefaultVisibleWait = 2 * time.Second

// registerAttempts bounds the read-merge-write retries of a registration
// racing other writes of the same entry.
const registerAttempts = 3

// Source is the replica a ReplicaRegistry reads; *cache.Replica implements
// it.
type Source interface {
	// Load returns the current snapshot; never nil.
	Load() *cache.Snapshot
	// Subscribe returns a channel that receives a value after snapshots
	// are published, and a func that stops the deliveries.
	Subscribe() (<-chan struct{}, func())
}

var _ Source = (*cache.Replica)(nil)

// Writer is the control plane's write API a ReplicaRegistry forwards
// writes to; *register.Client implements it. Its errors match the
// register package's (register.ErrNotFound, ...).
type Writer interface {
	Get(ctx context.Context, name string) (*registry.Entry, error)
	Put(ctx context.Context, e *registry.Entry, ifMatch int64) (*register.Stored, error)
	Delete(ctx context.Context, name string) error
}

var _ Writer = (*register.Client)(nil)

// ReplicaRegistry is the sidecar's a2aregistry.Registry: reads come from
// the replica (so they see what this sidecar replicates: its selector's
// entries, as fresh as its stream); writes go to the control plane, merged
// with the entry there as the control plane's compat API merges them, and
// wait (at most the visible wait) for the replica to show them, so that a
// client reading its own write through this sidecar finds it. Safe for
// concurrent use.
type ReplicaRegistry struct {
	src         Source
	w           Writer
	visibleWait time.Duration
}

var _ a2aregistry.Registry = (*ReplicaRegistry)(nil)

// NewReplicaRegistry returns a ReplicaRegistry reading src and writing
// through w; visibleWait 0 means DefaultVisibleWait.
func NewReplicaRegistry(src Source, w Writer, visibleWait time.Duration) (*ReplicaRegistry, error) {
	if src == nil || w == nil {
		return nil, errors.New("new sidecar compat registry: source and writer are required")
	}
	if visibleWait < 0 {
		return nil, fmt.Errorf("new sidecar compat registry: visible wait %v is negative", visibleWait)
	}
	if visibleWait == 0 {
		visibleWait = DefaultVisibleWait
	}
	return &ReplicaRegistry{src: src, w: w, visibleWait: visibleWait}, nil
}

// Get returns the entry named name from the replica.
func (r *ReplicaRegistry) Get(_ context.Context, name string) (*registry.Entry, error) {
	e, ok := r.src.Load().Index().Get(name)
	if !ok {
		return nil, fmt.Errorf("get %q: %w", name, a2aregistry.ErrNotFound)
	}
	return e, nil
}

// List returns the first limit entries of the replica in name order.
func (r *ReplicaRegistry) List(_ context.Context, limit int) ([]*registry.Entry, error) {
	return a2aregistry.ListIndex(r.src.Load().Index(), limit), nil
}

// Search returns the first limit entries of the replica matching query and
// any of skills, in name order.
func (r *ReplicaRegistry) Search(_ context.Context, query string, skills []string, limit int) ([]*registry.Entry, error) {
	return a2aregistry.SearchIndex(r.src.Load().Index(), query, skills, limit)
}

// Count returns the number of entries of the replica.
func (r *ReplicaRegistry) Count(context.Context) (int, error) { return r.src.Load().Len(), nil }

// Register stores e at the control plane as source "api", merged with the
// entry already there (a2aregistry.MergeRegistration); an entry of another
// source is a conflict. A concurrent write of the same entry is retried.
func (r *ReplicaRegistry) Register(ctx context.Context, e *registry.Entry) (*registry.Entry, error) {
	for range registerAttempts {
		next, ifMatch := e, int64(0)
		existing, err := r.w.Get(ctx, e.Name)
		switch {
		case errors.Is(err, register.ErrNotFound):
		case err != nil:
			return nil, forwardError("register", e.Name, err)
		case existing.Source != registry.SourceAPI:
			return nil, fmt.Errorf("register %q: %w: source %q", e.Name, a2aregistry.ErrConflict, existing.Source)
		default:
			next, ifMatch = a2aregistry.MergeRegistration(e, existing), existing.Revision
		}
		stored, err := r.w.Put(ctx, next, ifMatch)
		if errors.Is(err, register.ErrPrecondition) {
			continue // changed since we read it: read and merge again
		}
		if err != nil {
			return nil, forwardError("register", e.Name, err)
		}
		rev := stored.Entry.Revision
		r.await(ctx, func(s *cache.Snapshot) bool {
			got, ok := s.Index().Get(e.Name)
			return ok && got.Revision >= rev
		})
		return stored.Entry, nil
	}
	return nil, fmt.Errorf("register %q: the entry kept changing: %w", e.Name, a2aregistry.ErrUnavailable)
}

// Delete deletes the entry named name at the control plane, as source
// "api".
func (r *ReplicaRegistry) Delete(ctx context.Context, name string) error {
	if err := r.w.Delete(ctx, name); err != nil {
		return forwardError("unregister", name, err)
	}
	r.await(ctx, func(s *cache.Snapshot) bool {
		_, ok := s.Index().Get(name)
		return !ok
	})
	return nil
}

// await waits until cond holds for the replica's snapshot, at most the
// visible wait (an entry this sidecar does not replicate never shows), and
// reports whether it does.
func (r *ReplicaRegistry) await(ctx context.Context, cond func(*cache.Snapshot) bool) bool {
	if cond(r.src.Load()) {
		return true
	}
	ch, stop := r.src.Subscribe()
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, r.visibleWait)
	defer cancel()
	for {
		if cond(r.src.Load()) {
			return true
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return false
		}
	}
}

// forwardError maps an error of the control plane's API to the Registry's.
func forwardError(op, name string, err error) error {
	var ae *register.APIError
	switch {
	case errors.Is(err, register.ErrNotFound):
		return fmt.Errorf("%s %q: %w: %w", op, name, a2aregistry.ErrNotFound, err)
	case errors.Is(err, register.ErrConflict):
		return fmt.Errorf("%s %q: %w: %w", op, name, a2aregistry.ErrConflict, err)
	case errors.Is(err, register.ErrUnavailable):
		return fmt.Errorf("%s %q: %w: %w", op, name, a2aregistry.ErrUnavailable, err)
	case errors.As(err, &ae) && ae.Status == http.StatusForbidden:
		// Registered by another node (or the sidecar's token lacks the
		// write scope, which the control plane's message says).
		return fmt.Errorf("%s %q: %w: %w", op, name, a2aregistry.ErrForbidden, err)
	case errors.As(err, &ae) && ae.Status == http.StatusBadRequest:
		return &a2aregistry.Error{Kind: a2aregistry.KindInvalidCard, Message: ae.Message, Field: ae.Field, Err: err}
	}
	return fmt.Errorf("%s %q: %w", op, name, err) // internal: logged, never sent
}
