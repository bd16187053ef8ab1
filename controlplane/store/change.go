package store

import "github.com/sidecard/sidecard/registry"

// Change is one committed change of the store, as the change feed reports it.
type Change struct {
	// Revision is the store revision the change was committed at.
	Revision int64
	// Name is the entry's name.
	Name string
	// Entry is the entry as stored at Revision, or nil when the entry was deleted.
	// It is shared and must not be mutated.
	Entry *registry.Entry
}
