package a2aregistry

import (
	"context"
	"errors"

	"github.com/sidecard/sidecard/registry"
)

// Errors a Registry returns, wrapped; the compat API maps them to its error
// shapes. Any other error is an internal error, except a
// *registry.FieldError (an invalid entry) and context errors (unavailable).
var (
	// ErrNotFound: no entry has that name.
	ErrNotFound = errors.New("agent not found")
	// ErrConflict: the name belongs to an entry another source owns (a
	// registry file), which the compat API may not change.
	ErrConflict = errors.New("agent is owned by another source")
	// ErrForbidden: the entry was registered by another caller (another
	// token name), and the caller is not an admin.
	ErrForbidden = errors.New("agent was registered by another caller")
	// ErrUnavailable: the registry cannot answer now (not caught up with
	// the latest write, or shutting down); the caller may retry.
	ErrUnavailable = errors.New("registry unavailable")
)

// Reader answers the compat API's reads. Entries returned are shared and
// immutable; the slices belong to the caller.
type Reader interface {
	// Get returns the entry named name or an error wrapping ErrNotFound.
	Get(ctx context.Context, name string) (*registry.Entry, error)
	// List returns up to limit entries in name order, reflecting every write
	// that completed before the call.
	List(ctx context.Context, limit int) ([]*registry.Entry, error)
	// Search returns, in name order, up to limit entries whose text (names,
	// description, skills) contains query, ignoring case ("" matches every
	// entry), and, when skills is not empty, that have at least one of
	// skills (a skill id or name, ignoring case).
	Search(ctx context.Context, query string, skills []string, limit int) ([]*registry.Entry, error)
	// Count returns the number of entries.
	Count(ctx context.Context) (int, error)
}

// Writer makes the compat API's writes.
type Writer interface {
	// Register creates or replaces the entry e.Name with e's card (e is not
	// modified) and returns the stored entry. It fails with an error wrapping
	// ErrConflict when another source owns the name, ErrForbidden when
	// another caller registered it.
	Register(ctx context.Context, e *registry.Entry) (*registry.Entry, error)
	// Delete removes the entry named name; ErrNotFound when there is none,
	// ErrConflict when another source owns it, ErrForbidden when another
	// caller registered it.
	Delete(ctx context.Context, name string) error
}

// Registry is what the compat API serves: the control plane implements it
// over its store and view (StoreRegistry); a sidecar can implement it over
// its replica, forwarding writes.
type Registry interface {
	Reader
	Writer
}
