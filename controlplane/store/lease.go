package store

import (
	"bytes"
	"context"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/sidecard/sidecard/registry"
)

// expireBatch bounds the deletions of one ExpireDue transaction, so that a
// mass expiry does not hold the store's write lock for long.
const expireBatch = 512

// Lease is the lease of an entry stored with ttl_seconds > 0: the entry is
// deleted once Expiry has passed unless the lease is renewed first.
type Lease struct {
	// Expiry is when the lease expires, in UTC.
	Expiry time.Time
	// TTL is the entry's ttl_seconds: a write or a renewal sets Expiry to
	// its own time plus TTL.
	TTL time.Duration
}

// Renew moves the lease of the entry name to now plus its TTL and returns
// the new lease. It is a write: p is checked as by Put (ErrOwned,
// ErrForbidden, ErrPrecondition) and changes no registrant, an absent entry
// fails with ErrNotFound and an entry
// without ttl_seconds with ErrNoLease. A renewal changes no content: it
// makes no revision, no change in the feed and does not wake Changed, so a
// heartbeat costs the sidecars nothing; the entry's updated_at stays the
// time of its last content change. A nil error means the new expiry is on
// disk.
func (s *Bolt) Renew(ctx context.Context, name string, p Precondition) (Lease, error) {
	var l Lease
	_, _, err := s.update(ctx, opRenew, func(w *writer) error {
		existing, err := w.get(name)
		if err != nil {
			return err
		}
		if err := p.check(name, existing); err != nil {
			return err
		}
		switch {
		case existing == nil:
			return fmt.Errorf("entry %q: %w", name, ErrNotFound)
		case existing.TTLSeconds <= 0:
			return fmt.Errorf("entry %q has no ttl_seconds: %w", name, ErrNoLease)
		}
		l, err = w.setLease(name, existing.TTLSeconds)
		return err
	})
	if err != nil {
		return Lease{}, fmt.Errorf("renew %q: %w", name, err)
	}
	return l, nil
}

// ExpireDue deletes every entry whose lease expired at or before now and
// returns their names in expiry order. Each deletion is a normal change: it
// gets its own revision and appears in the feed. Deletions are committed in
// batches; on error, the names returned are those of the batches committed
// before it.
func (s *Bolt) ExpireDue(ctx context.Context, now time.Time) ([]string, error) {
	var expired []string
	for {
		var batch []string
		_, _, err := s.update(ctx, opExpire, func(w *writer) error {
			var err error
			batch, err = w.expireDue(now, expireBatch)
			return err
		})
		if err != nil {
			return expired, fmt.Errorf("expire leases due by %s: %w", now.Format(time.RFC3339Nano), err)
		}
		expired = append(expired, batch...)
		if len(batch) < expireBatch {
			return expired, nil
		}
	}
}

// NextExpiry returns the earliest expiry of any lease, and false when there
// is no lease (or the store is closed or cannot be read).
func (s *Bolt) NextExpiry() (time.Time, bool) {
	var (
		next time.Time
		ok   bool
	)
	err := s.view(func(tx *bolt.Tx) error {
		k, _ := tx.Bucket(bucketExpiry).Cursor().First()
		if k == nil {
			return nil
		}
		var err error
		next, _, err = decodeExpiryKey(k)
		ok = err == nil
		return err
	})
	return next, ok && err == nil
}

// Lease returns the lease of the entry name; ok is false when there is no
// such entry or it has no ttl_seconds.
func (s *Bolt) Lease(name string) (l Lease, ok bool, err error) {
	err = s.view(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketLeases).Get([]byte(name))
		if b == nil {
			return nil
		}
		l, err = decodeLease(b)
		ok = err == nil
		return err
	})
	if err != nil {
		return Lease{}, false, fmt.Errorf("lease %q: %w", name, err)
	}
	return l, ok, nil
}

// LeaseWritten returns a channel that receives a value after a Put or
// Apply has committed a lease, which may expire before every other one.
// The channel has one slot: signals coalesce, so it is meant for one
// consumer (the expirer), which calls NextExpiry after every receive. A
// renewal only moves a lease later and sends nothing. It is never closed.
func (s *Bolt) LeaseWritten() <-chan struct{} { return s.leaseWritten }

// LeaseCount returns the number of leases, that is of entries stored with
// ttl_seconds > 0.
func (s *Bolt) LeaseCount() int { return int(s.leases.Load()) }

// signalLease fills LeaseWritten's slot unless it is full.
func (s *Bolt) signalLease() {
	select {
	case s.leaseWritten <- struct{}{}:
	default:
	}
}

// lease returns the lease record of name; ok is false when there is none.
func (w *writer) lease(name string) (l Lease, ok bool, err error) {
	b := w.leases.Get([]byte(name))
	if b == nil {
		return Lease{}, false, nil
	}
	if l, err = decodeLease(b); err != nil {
		return Lease{}, false, fmt.Errorf("lease %q: %w", name, err)
	}
	return l, true, nil
}

// putLease makes the lease of the stored entry e follow its ttl_seconds:
// a new lease from the transaction's time for ttl_seconds > 0, none for 0.
func (w *writer) putLease(e *registry.Entry) error {
	if e.TTLSeconds <= 0 {
		return w.clearLease(e.Name)
	}
	if _, err := w.setLease(e.Name, e.TTLSeconds); err != nil {
		return err
	}
	w.leasePut = true
	return nil
}

// setLease gives name a lease expiring ttlSeconds after the transaction's
// time, replacing any it had.
func (w *writer) setLease(name string, ttlSeconds int64) (Lease, error) {
	l := Lease{Expiry: w.now.Add(time.Duration(ttlSeconds) * time.Second), TTL: time.Duration(ttlSeconds) * time.Second}
	return l, w.writeLease(name, l.Expiry, ttlSeconds)
}

// writeLease records name's lease expiring at expiry, replacing any it had.
func (w *writer) writeLease(name string, expiry time.Time, ttlSeconds int64) error {
	if err := w.clearLease(name); err != nil {
		return err
	}
	if err := w.leases.Put([]byte(name), encodeLease(expiry, ttlSeconds)); err != nil {
		return fmt.Errorf("put lease %q: %w", name, err)
	}
	if err := w.expiry.Put(expiryKey(expiry, name), []byte{}); err != nil {
		return fmt.Errorf("index lease %q: %w", name, err)
	}
	w.leaseWrites++
	w.leaseDelta++
	return nil
}

// clearLease removes name's lease, if it has one.
func (w *writer) clearLease(name string) error {
	l, ok, err := w.lease(name)
	if err != nil || !ok {
		return err
	}
	if err := w.expiry.Delete(expiryKey(l.Expiry, name)); err != nil {
		return fmt.Errorf("unindex lease %q: %w", name, err)
	}
	if err := w.leases.Delete([]byte(name)); err != nil {
		return fmt.Errorf("delete lease %q: %w", name, err)
	}
	w.leaseWrites++
	w.leaseDelta--
	return nil
}

// expireDue deletes the entries of at most limit leases expired at or before
// now and returns their names in expiry order. A lease whose entry is gone
// (which no write of this package leaves behind) is removed silently.
func (w *writer) expireDue(now time.Time, limit int) ([]string, error) {
	end := expiryKey(now, "")
	var due []string
	c := w.expiry.Cursor()
	// Collect first: bbolt cursors must not run across deletions.
	for k, _ := c.First(); k != nil && len(due) < limit; k, _ = c.Next() {
		if bytes.Compare(k[:min(len(k), 8)], end) > 0 {
			break
		}
		_, name, err := decodeExpiryKey(k)
		if err != nil {
			return nil, err
		}
		due = append(due, name)
	}
	expired := due[:0]
	for _, name := range due {
		if w.entries.Get([]byte(name)) == nil {
			if err := w.clearLease(name); err != nil {
				return nil, err
			}
			continue
		}
		if _, err := w.del(name); err != nil {
			return nil, err
		}
		expired = append(expired, name)
	}
	return expired, nil
}

// createLeases gives a lease to every entry with ttl_seconds > 0. Open runs
// it once, on a file written before leases were stored; graceLeases then
// sets their expiry.
func (w *writer) createLeases() error {
	type pending struct {
		name string
		ttl  int64
	}
	var todo []pending
	err := w.entries.ForEach(func(_, v []byte) error {
		e, err := decodeEntry(v)
		if err != nil {
			return err
		}
		if e.TTLSeconds > 0 {
			todo = append(todo, pending{e.Name, e.TTLSeconds})
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("create leases: %w", err)
	}
	for _, p := range todo {
		if _, err := w.setLease(p.name, p.ttl); err != nil {
			return err
		}
	}
	return nil
}

// graceLeases moves every lease expiring before now plus its TTL to now plus
// its TTL, and returns the number of leases. Open runs it once, so that a
// lease survives a control-plane restart: it cannot expire within one TTL
// of the store being opened, whatever the downtime was. A lease already
// beyond now plus its TTL (the clock went back) is left alone.
func (w *writer) graceLeases() (int, error) {
	type pending struct {
		name string
		ttl  int64
	}
	var (
		todo []pending
		n    int
	)
	err := w.leases.ForEach(func(k, v []byte) error {
		n++
		l, err := decodeLease(v)
		if err != nil {
			return fmt.Errorf("lease %q: %w", k, err)
		}
		if l.Expiry.Before(w.now.Add(l.TTL)) {
			todo = append(todo, pending{string(k), int64(l.TTL / time.Second)})
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("grace leases: %w", err)
	}
	for _, p := range todo {
		if _, err := w.setLease(p.name, p.ttl); err != nil {
			return 0, err
		}
	}
	return n, nil
}
