package api

import (
	"context"

	"github.com/sidecard/sidecard/controlplane/store"
	"github.com/sidecard/sidecard/registry"
)

// Writer writes entries; *store.Bolt implements it. Errors wrap the store's
// sentinels (store.ErrNotFound, store.ErrOwned, store.ErrForbidden,
// store.ErrPrecondition) or a *registry.FieldError for an invalid entry.
// The store enforces the precondition, registrant included, in the write
// itself, so that no concurrent write can slip between check and change.
type Writer interface {
	// Put stores e unless p fails, returning the stored entry and whether it
	// was created.
	Put(ctx context.Context, e *registry.Entry, p store.Precondition) (stored *registry.Entry, created bool, err error)
	// Delete removes the entry named name unless p fails.
	Delete(ctx context.Context, name string, p store.Precondition) (rev int64, err error)
}

// Reader reads single entries and the store's revision; *store.Bolt
// implements it.
type Reader interface {
	// Get returns the entry named name or an error wrapping store.ErrNotFound.
	Get(name string) (*registry.Entry, error)
	// Revision returns the revision of the last commit.
	Revision() int64
}

// Store is the registry store the API writes to and reads single entries from.
type Store interface {
	Writer
	Reader
}

// Leases renews entry leases for POST /v1/agents/{name}/heartbeat;
// *store.Bolt implements it.
type Leases interface {
	// Renew moves the lease of the entry named name to now plus its TTL
	// unless p fails, and returns the new lease. Errors wrap
	// store.ErrNotFound, store.ErrNoLease, store.ErrOwned,
	// store.ErrForbidden or store.ErrPrecondition.
	Renew(ctx context.Context, name string, p store.Precondition) (store.Lease, error)
}

// View answers searches; *view.View implements it.
type View interface {
	// Index returns the current immutable index.
	Index() *registry.Index
	// WaitFor blocks until the view reflects revision rev or ctx is done.
	WaitFor(ctx context.Context, rev int64) error
}

// Sources reports the status of the registry's sources for GET /v1/sources.
type Sources interface {
	// SourceStatus returns a JSON-encodable value (typically a slice of
	// per-file statuses) the API serves as {"sources": value}.
	SourceStatus() any
}

// SourcesFunc adapts a function to Sources, e.g.
// SourcesFunc(func() any { return fileSource.Status() }).
type SourcesFunc func() any

// SourceStatus returns f().
func (f SourcesFunc) SourceStatus() any { return f() }

// Nodes reports the sidecars connected to the xDS server for GET
// /v1/sidecars; *xds.Server's Nodes, adapted with NodesFunc, implements it.
type Nodes interface {
	// Nodes returns a JSON-encodable value (typically a slice of per-node
	// statuses) the API serves as {"sidecars": value}.
	Nodes() any
}

// NodesFunc adapts a function to Nodes, e.g.
// NodesFunc(func() any { return xdsServer.Nodes() }).
type NodesFunc func() any

// Nodes returns f().
func (f NodesFunc) Nodes() any { return f() }
