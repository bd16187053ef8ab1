// Package cache is the sidecar's local registry cache: the replica of the
// control plane's registry that every lookup reads, and its persistence to
// disk so that a restarted sidecar is ready before any control plane answers.
//
// A Replica publishes immutable Snapshots behind an atomic pointer: readers
// call Load and never lock; the single writer (the xDS client) builds the
// next snapshot from the current one at a cost proportional to the change
// and swaps it in. A Persister follows the replica and writes the latest
// snapshot to a file, debounced, with write-temp, fsync, rename, fsync-dir.
// LoadFile reads such a file back.
//
// The package does not speak xDS, does not validate entries (its callers
// hand it validated entries) and does not render responses; a rendered
// response layer keyed on (name, entry revision) sits on top of Snapshot.
package cache
