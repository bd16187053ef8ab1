package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/sidecard/sidecard/registry"
)

// errUnchanged aborts a write transaction that has nothing to write, so that
// no empty commit (and no fsync) happens.
var errUnchanged = errors.New("nothing to write")

// writer is one write transaction: it hands out consecutive revisions, records
// every change in the history and compacts the history as it grows.
type writer struct {
	entries, history, meta, leases, expiry *bolt.Bucket

	now       time.Time
	limit     int64 // changes kept in history
	rev       int64 // latest revision, including this transaction's changes
	compacted int64
	changes   int   // changes made in this transaction
	delta     int64 // change in the number of entries

	leaseWrites int   // lease records written or removed (no revision of their own)
	leaseDelta  int64 // change in the number of leases
	leasePut    bool  // a put wrote a lease, which may expire before any other
}

// update runs fn in a write transaction. fn's changes are committed (with
// fsync) unless fn fails or makes none; then the transaction rolls back and
// update returns fn's error, or nil for no changes. A transaction that only
// wrote leases commits without a revision and without waking the readers of
// Changed. After a commit with changes, readers are woken; after a put that
// wrote a lease, LeaseWritten is signalled; the metrics are updated.
// committed reports whether it committed.
func (s *Bolt) update(ctx context.Context, op string, fn func(*writer) error) (rev int64, committed bool, err error) {
	if s.closed.Load() {
		return 0, false, ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return 0, false, err
	}
	start := time.Now()
	var w *writer
	err = s.db.Update(func(tx *bolt.Tx) error {
		var err error
		if w, err = s.newWriter(tx); err != nil {
			return err
		}
		if err := fn(w); err != nil {
			return err
		}
		if w.changes == 0 && w.leaseWrites == 0 {
			return errUnchanged
		}
		return w.finish()
	})
	s.metrics.duration.Observe(time.Since(start).Seconds())
	switch {
	case errors.Is(err, errUnchanged):
		return w.rev, false, nil
	case err != nil:
		return 0, false, closedErr(err)
	}
	s.leases.Add(w.leaseDelta)
	if w.changes > 0 {
		s.committed(w.rev, w.compacted, w.delta)
	}
	if w.leasePut {
		s.signalLease()
	}
	s.metrics.writes.WithLabelValues(op).Inc()
	return w.rev, true, nil
}

// newWriter starts a writer on tx, reading the counters from the meta bucket.
func (s *Bolt) newWriter(tx *bolt.Tx) (*writer, error) {
	w := &writer{
		entries: tx.Bucket(bucketEntries),
		history: tx.Bucket(bucketHistory),
		meta:    tx.Bucket(bucketMeta),
		leases:  tx.Bucket(bucketLeases),
		expiry:  tx.Bucket(bucketExpiry),
		now:     s.now(),
		limit:   int64(s.opts.History),
	}
	var err error
	if w.rev, err = decodeRev(w.meta.Get(metaRevision)); err != nil {
		return nil, err
	}
	if w.compacted, err = decodeRev(w.meta.Get(metaCompacted)); err != nil {
		return nil, err
	}
	return w, nil
}

// get returns the stored entry name, or nil when there is none.
func (w *writer) get(name string) (*registry.Entry, error) {
	b := w.entries.Get([]byte(name))
	if b == nil {
		return nil, nil
	}
	return decodeEntry(b)
}

// put stores e at the next revision, stamped with source, registeredBy and
// the transaction's time, and returns the stored copy. e itself is not
// modified. The entry's lease follows its ttl_seconds (see putLease).
// created tells put whether the name is new (for the entry count).
func (w *writer) put(e *registry.Entry, source, registeredBy string, created bool) (*registry.Entry, error) {
	stored := e.Clone()
	stored.Revision = w.rev + 1
	stored.UpdatedAt = w.now
	stored.Source = source
	stored.RegisteredBy = registeredBy
	b, err := encodeEntry(stored)
	if err != nil {
		return nil, err
	}
	if err := w.entries.Put([]byte(stored.Name), b); err != nil {
		return nil, fmt.Errorf("put entry %q: %w", stored.Name, err)
	}
	if err := w.record(encodeRecord(recordPut, stored.Name, b)); err != nil {
		return nil, err
	}
	if err := w.putLease(stored); err != nil {
		return nil, err
	}
	if created {
		w.delta++
	}
	return stored, nil
}

// del deletes the entry name, which must exist, at the next revision, and
// its lease.
func (w *writer) del(name string) (int64, error) {
	if err := w.entries.Delete([]byte(name)); err != nil {
		return 0, fmt.Errorf("delete entry %q: %w", name, err)
	}
	if err := w.record(encodeRecord(recordDelete, name, nil)); err != nil {
		return 0, err
	}
	if err := w.clearLease(name); err != nil {
		return 0, err
	}
	w.delta--
	return w.rev, nil
}

// record appends a history record at the next revision.
func (w *writer) record(rec []byte) error {
	w.rev++
	w.changes++
	if err := w.history.Put(revKey(w.rev), rec); err != nil {
		return fmt.Errorf("record revision %d: %w", w.rev, err)
	}
	return nil
}

// finish compacts the history down to the limit and saves the counters.
// Compaction removes exactly as many records as the transaction added once
// the history is full, so its cost follows the writes, never the history size.
func (w *writer) finish() error {
	if w.changes == 0 {
		return nil // leases only: no revision
	}
	if excess := w.rev - w.compacted - w.limit; excess > 0 {
		for rev := w.compacted + 1; rev <= w.compacted+excess; rev++ {
			if err := w.history.Delete(revKey(rev)); err != nil {
				return fmt.Errorf("compact revision %d: %w", rev, err)
			}
		}
		w.compacted += excess
		if err := w.meta.Put(metaCompacted, revKey(w.compacted)); err != nil {
			return fmt.Errorf("save compacted revision: %w", err)
		}
	}
	if err := w.meta.Put(metaRevision, revKey(w.rev)); err != nil {
		return fmt.Errorf("save revision: %w", err)
	}
	return nil
}
