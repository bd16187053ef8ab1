package xds

import (
	"github.com/sidecard/sidecard/controlplane/store"
	"github.com/sidecard/sidecard/registry"
)

// Feed is the part of the store the cache follows; *store.Bolt implements it.
type Feed interface {
	// List returns every entry and the revision they are current at: the
	// changes after that revision are exactly those the list does not hold.
	List() ([]*registry.Entry, int64, error)
	// Changes returns up to limit changes committed after revision after, in
	// revision order, or an error wrapping store.ErrCompacted when they are no
	// longer kept.
	Changes(after int64, limit int) ([]store.Change, error)
	// Changed returns a channel closed at the next commit.
	Changed() <-chan struct{}
}
