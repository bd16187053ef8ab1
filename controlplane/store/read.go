package store

import (
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/sidecard/sidecard/registry"
)

// Get returns the entry name, owned by the caller, or ErrNotFound.
func (s *Bolt) Get(name string) (*registry.Entry, error) {
	var e *registry.Entry
	err := s.view(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketEntries).Get([]byte(name))
		if b == nil {
			return fmt.Errorf("entry %q: %w", name, ErrNotFound)
		}
		var err error
		e, err = decodeEntry(b)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("get %q: %w", name, err)
	}
	return e, nil
}

// List returns every entry in name order, owned by the caller, and the
// revision this snapshot reflects: the feed's changes after that revision
// are exactly those the snapshot does not contain.
func (s *Bolt) List() ([]*registry.Entry, int64, error) {
	var (
		out []*registry.Entry
		rev int64
	)
	err := s.view(func(tx *bolt.Tx) error {
		var err error
		if rev, err = decodeRev(tx.Bucket(bucketMeta).Get(metaRevision)); err != nil {
			return err
		}
		b := tx.Bucket(bucketEntries)
		out = make([]*registry.Entry, 0, b.Stats().KeyN)
		return b.ForEach(func(_, v []byte) error {
			e, err := decodeEntry(v)
			if err != nil {
				return err
			}
			out = append(out, e)
			return nil
		})
	})
	if err != nil {
		return nil, 0, fmt.Errorf("list: %w", err)
	}
	return out, rev, nil
}

// Changes returns the committed changes with a revision greater than after, in
// revision order, at most limit of them (limit <= 0: all). The slice is owned
// by the caller; its entries are shared and must not be mutated. It is empty
// when after is the latest revision (or beyond it). When changes after
// `after` have been compacted away it fails with ErrCompacted: the reader
// must resync with List and resume from the revision List returns.
func (s *Bolt) Changes(after int64, limit int) ([]Change, error) {
	after = max(after, 0)
	var out []Change
	err := s.view(func(tx *bolt.Tx) error {
		compacted, err := decodeRev(tx.Bucket(bucketMeta).Get(metaCompacted))
		if err != nil {
			return err
		}
		if after < compacted {
			return fmt.Errorf("after revision %d, feed starts after %d: %w", after, compacted, ErrCompacted)
		}
		out, err = readChanges(tx.Bucket(bucketHistory), after, limit)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("changes: %w", err)
	}
	return out, nil
}

// readChanges decodes the history records after `after`, at most limit > 0.
func readChanges(history *bolt.Bucket, after int64, limit int) ([]Change, error) {
	var out []Change
	c := history.Cursor()
	for k, v := c.Seek(revKey(after + 1)); k != nil; k, v = c.Next() {
		if limit > 0 && len(out) == limit {
			break
		}
		rev, err := decodeRev(k)
		if err != nil {
			return nil, err
		}
		ch, err := decodeRecord(rev, v)
		if err != nil {
			return nil, err
		}
		out = append(out, ch)
	}
	return out, nil
}
