package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// Bolt is the store on a bbolt file. It is safe for concurrent use; writes are
// serialised by bbolt, reads run concurrently with each other and with writes.
// Entries it returns are freshly decoded and owned by the caller, except the
// entries of Changes, which the caller must treat as shared and immutable.
// Create it with Open; the zero value is not usable.
type Bolt struct {
	db      *bolt.DB
	path    string
	opts    Options
	metrics *metrics
	closed  atomic.Bool

	rev       atomic.Int64 // latest committed revision
	entries   atomic.Int64 // number of entries
	compacted atomic.Int64 // newest revision removed from history
	leases    atomic.Int64 // number of leases

	leaseWritten chan struct{} // 1-slot: a put wrote a lease (see LeaseWritten)

	notifyMu     sync.Mutex
	changed      chan struct{} // closed at the next commit (or at Close)
	notifyClosed bool          // changed has been closed by Close
}

// Open opens the store in the bbolt file at path, creating the file and its
// parent directory when missing. When another process holds the file, Open
// waits up to opts.LockTimeout and then fails with ErrLocked. The revision
// counter and the change feed continue where the last process left them.
//
// Every Open gives each lease a grace period: a lease expiring before now
// plus its TTL is moved to now plus its TTL (see graceLeases), so that no
// entry expires merely because the control plane was down.
func Open(path string, opts Options) (*Bolt, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts = opts.withDefaults()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("open store %q: %w", path, err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout: opts.LockTimeout,
		// As etcd does: the freelist is rebuilt on open rather than written on
		// every commit. Durability is unchanged: commits still fsync.
		NoFreelistSync: true,
		FreelistType:   bolt.FreelistMapType,
	})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("open store %q (waited %s): %w", path, opts.LockTimeout, ErrLocked)
	}
	if err != nil {
		return nil, fmt.Errorf("open store %q: %w", path, err)
	}
	s := &Bolt{db: db, path: path, opts: opts, changed: make(chan struct{}), leaseWritten: make(chan struct{}, 1)}
	if err := s.init(); err != nil {
		return nil, errors.Join(err, db.Close())
	}
	if s.metrics, err = newMetrics(opts.Registerer, s); err != nil {
		return nil, errors.Join(fmt.Errorf("open store %q: %w", path, err), db.Close())
	}
	return s, nil
}

// init creates the buckets when missing, gives the leases their grace
// period and loads the counters, in one transaction.
func (s *Bolt) init() error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		noLeases := tx.Bucket(bucketLeases) == nil
		for _, name := range [][]byte{bucketEntries, bucketHistory, bucketMeta, bucketLeases, bucketExpiry} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		w, err := s.newWriter(tx)
		if err != nil {
			return err
		}
		if noLeases {
			if err := w.createLeases(); err != nil {
				return err
			}
		}
		leases, err := w.graceLeases()
		if err != nil {
			return err
		}
		s.leases.Store(int64(leases))
		meta := tx.Bucket(bucketMeta)
		rev, err := decodeRev(meta.Get(metaRevision))
		if err != nil {
			return err
		}
		compacted, err := decodeRev(meta.Get(metaCompacted))
		if err != nil {
			return err
		}
		s.rev.Store(rev)
		s.compacted.Store(compacted)
		s.entries.Store(int64(tx.Bucket(bucketEntries).Stats().KeyN))
		return nil
	})
	if err != nil {
		return fmt.Errorf("open store %q: %w", s.path, err)
	}
	return nil
}

// Revision returns the latest committed revision (0 for an empty store). It
// is updated before the writer's call returns and before Changed fires.
func (s *Bolt) Revision() int64 { return s.rev.Load() }

// Changed returns a channel that is closed at the first commit after the
// call, and at Close. It is a broadcast: every caller gets the same channel.
// A reader calls Changed before reading (Revision or Changes), then waits on
// the channel, and calls Changed again after every wake-up; that way no
// commit is missed. A wake-up may find nothing new.
func (s *Bolt) Changed() <-chan struct{} {
	s.notifyMu.Lock()
	defer s.notifyMu.Unlock()
	return s.changed
}

// committed publishes a commit at rev: it advances Revision and the compacted
// revision (never backwards: concurrent writers finish in any order), counts
// the entries and wakes the readers.
func (s *Bolt) committed(rev, compacted, entriesDelta int64) {
	s.entries.Add(entriesDelta)
	s.notifyMu.Lock()
	defer s.notifyMu.Unlock()
	if rev > s.rev.Load() {
		s.rev.Store(rev)
	}
	if compacted > s.compacted.Load() {
		s.compacted.Store(compacted)
	}
	if s.notifyClosed {
		return
	}
	close(s.changed)
	s.changed = make(chan struct{})
}

// Close closes the store after the transactions in flight have finished, and
// wakes every reader waiting on Changed. It returns ErrClosed when the store
// was already closed. Every other method returns ErrClosed after Close.
func (s *Bolt) Close() error {
	if !s.closed.CompareAndSwap(false, true) {
		return ErrClosed
	}
	err := s.db.Close()
	s.metrics.unregister()
	s.notifyMu.Lock()
	s.notifyClosed = true
	close(s.changed)
	s.notifyMu.Unlock()
	if err != nil {
		return fmt.Errorf("close store %q: %w", s.path, err)
	}
	return nil
}

// view runs fn in a read transaction, mapping a closed database to ErrClosed.
func (s *Bolt) view(fn func(*bolt.Tx) error) error {
	if s.closed.Load() {
		return ErrClosed
	}
	return closedErr(s.db.View(fn))
}

// closedErr maps bbolt's "database not open" to ErrClosed.
func closedErr(err error) error {
	if errors.Is(err, berrors.ErrDatabaseNotOpen) {
		return ErrClosed
	}
	return err
}

// now returns the time entries are stamped with: UTC, to the microsecond.
func (s *Bolt) now() time.Time {
	return s.opts.Now().UTC().Truncate(time.Microsecond)
}
