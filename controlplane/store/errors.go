package store

import "errors"

// Errors returned by the store. They are returned wrapped; test with errors.Is.
var (
	// ErrNotFound: no entry has that name.
	ErrNotFound = errors.New("entry not found")
	// ErrOwned: the entry exists and was written by another source (HTTP 409).
	ErrOwned = errors.New("entry is owned by another source")
	// ErrForbidden: the entry was registered by another caller, and the
	// writer is restricted to its own entries (Precondition.OwnerOnly; HTTP 403).
	ErrForbidden = errors.New("entry was registered by another caller")
	// ErrPrecondition: the entry is not at the revision the writer expected (HTTP 412).
	ErrPrecondition = errors.New("revision precondition failed")
	// ErrNoLease: the entry exists but has no lease to renew (its
	// ttl_seconds is 0).
	ErrNoLease = errors.New("entry has no lease")
	// ErrCompacted: the change feed no longer holds the changes asked for; the
	// reader must resync with List and resume from the revision it returns.
	ErrCompacted = errors.New("changes compacted")
	// ErrClosed: the store has been closed.
	ErrClosed = errors.New("store closed")
	// ErrLocked: another process holds the store file open.
	ErrLocked = errors.New("store file is locked by another process")
)
