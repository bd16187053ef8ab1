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
// source wrote an entry) and revision preconditions, and it validates the
// entries it is given; it does not derive names or endpoints.
//
// On disk, the file holds three buckets:
//
//	entries: name -> entry JSON (the API form, with revision, updated_at and source)
//	history: big-endian revision -> change record (see codec.go)
//	meta:    "revision" -> latest revision, "compacted" -> newest compacted revision
package store
