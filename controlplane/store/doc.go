// Package store is the control plane's durable registry store: every entry,
// a global revision counter and a bounded change feed, kept in one bbolt file.
//
// Every write (Put, Delete, Apply) is one bbolt transaction, committed with
// fsync before the call returns, and every change it makes gets the next
// global revision. The revision counter and the feed survive restarts. The
// change feed (Changes, Revision, Changed) is what the control plane's
// revision log and xDS caches are fed from.
//
// The store knows nothing of HTTP, files or xDS. It checks ownership (which
// source wrote an entry, and which caller registered it: RegisteredBy, see
// Precondition) and revision preconditions inside the write transaction, so
// that no race between writers can bypass them, and it validates the
// entries it is given; it does not derive names or endpoints.
//
// An entry stored with ttl_seconds > 0 has a lease (Lease): it expires
// ttl_seconds after the write that set it, unless Renew (or a repeated,
// identical Put) moves it later. ExpireDue deletes the expired entries as
// normal changes; renewals are not changes (no revision, nothing in the
// feed, updated_at unchanged). Expiry is measured with Options.Now and is
// persisted, and every Open gives each lease a grace period of one TTL from
// the time of the Open, so that a restart never expires a lease by itself.
// Driving expiry over time is the caller's job (package lease).
//
// On disk, the file holds five buckets:
//
//	entries:  name -> entry JSON (the API form, with revision, updated_at, source and registered_by)
//	history:  big-endian revision -> change record (see codec.go)
//	meta:     "revision" -> latest revision, "compacted" -> newest compacted revision
//	leases:   name -> expiry (Unix ns) and ttl_seconds, 8 big-endian bytes each
//	expiries: expiry (Unix ns, 8 big-endian bytes) + name -> empty, the leases in expiry order
package store
