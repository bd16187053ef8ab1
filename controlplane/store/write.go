package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/sidecard/sidecard/registry"
)

// Precondition is what a writer expects of the entry it replaces, renews or
// deletes, and who the writer is. The zero value expects nothing and
// registers entries to nobody.
type Precondition struct {
	// MatchRevision, when > 0, requires the entry to exist at exactly this
	// revision; otherwise (a missing entry included) the write fails with
	// ErrPrecondition.
	MatchRevision int64
	// Source is the writer. When non-empty and the existing entry was written
	// by another source, the write fails with ErrOwned.
	Source string
	// Owner is the caller on whose behalf the write is made: the name of its
	// token. Put records it as the entry's RegisteredBy when it creates the
	// entry or the entry has none (an entry registered without a named
	// token, or while tokens were off, goes to the first named writer that
	// changes it); an entry's RegisteredBy never changes otherwise.
	Owner string
	// OwnerOnly restricts the write to entries Owner registered and entries
	// nobody registered (RegisteredBy ""): an entry registered by another
	// caller fails with ErrForbidden. Callers set it for every writer but an
	// admin; with authentication off there is no caller to restrict.
	OwnerOnly bool
}

// check returns the error the precondition gives for the existing entry
// (nil when there is none). The source is checked first, then the
// registrant, then the revision, so that a writer learns nothing of an
// entry it may not change.
func (p Precondition) check(name string, existing *registry.Entry) error {
	if p.Source != "" && existing != nil && existing.Source != p.Source {
		return fmt.Errorf("entry %q is owned by source %q: %w", name, existing.Source, ErrOwned)
	}
	if p.OwnerOnly && existing != nil && existing.RegisteredBy != "" && existing.RegisteredBy != p.Owner {
		return fmt.Errorf("entry %q was registered by %q: %w", name, existing.RegisteredBy, ErrForbidden)
	}
	if p.MatchRevision <= 0 {
		return nil
	}
	if existing == nil {
		return fmt.Errorf("entry %q does not exist, expected revision %d: %w", name, p.MatchRevision, ErrPrecondition)
	}
	if existing.Revision != p.MatchRevision {
		return fmt.Errorf("entry %q is at revision %d, expected %d: %w",
			name, existing.Revision, p.MatchRevision, ErrPrecondition)
	}
	return nil
}

// registeredBy returns who the entry a Put stores is registered by, given
// the entry it replaces (nil when none): its registrant, else p.Owner.
func (p Precondition) registeredBy(existing *registry.Entry) string {
	if existing != nil && existing.RegisteredBy != "" {
		return existing.RegisteredBy
	}
	return p.Owner
}

// Put stores a copy of e (which is not modified) at the next revision, stamped
// with the current time, a source (p.Source, else e.Source, else "api") and a
// registrant (see Precondition.Owner; e.RegisteredBy is ignored). It returns
// the stored entry, owned by the caller, and whether it was created. When the
// stored entry already has e's content, that source and that registrant,
// nothing is written and the stored entry is returned: repeating a Put makes
// no revision (it only renews the entry's lease, as Renew does). An entry
// with ttl_seconds > 0 gets a lease expiring ttl_seconds after the write
// (see Renew and ExpireDue); a Put with ttl_seconds 0 removes the lease.
// Preconditions are checked first (ErrOwned, ErrForbidden, ErrPrecondition);
// an invalid e fails with its validation error. A nil error means the entry
// is on disk (fsynced).
func (s *Bolt) Put(ctx context.Context, e *registry.Entry, p Precondition) (stored *registry.Entry, created bool, err error) {
	if err := validEntry(e); err != nil {
		return nil, false, fmt.Errorf("put: %w", err)
	}
	source := p.Source
	if source == "" {
		source = e.Source
	}
	if source == "" {
		source = registry.SourceAPI
	}
	_, _, err = s.update(ctx, opPut, func(w *writer) error {
		existing, err := w.get(e.Name)
		if err != nil {
			return err
		}
		if err := p.check(e.Name, existing); err != nil {
			return err
		}
		registeredBy := p.registeredBy(existing)
		if existing != nil && existing.Source == source && existing.RegisteredBy == registeredBy && existing.ContentEqual(e) {
			stored = existing
			if existing.TTLSeconds > 0 {
				_, err = w.setLease(existing.Name, existing.TTLSeconds)
			}
			return err
		}
		created = existing == nil
		stored, err = w.put(e, source, registeredBy, created)
		return err
	})
	if err != nil {
		return nil, false, fmt.Errorf("put %q: %w", e.Name, err)
	}
	return stored, created, nil
}

// Delete deletes the entry name, and its lease, at the next revision and
// returns that revision. It fails with ErrNotFound when there is no such entry (but with
// ErrPrecondition when p.MatchRevision > 0), ErrOwned, ErrForbidden or
// ErrPrecondition.
func (s *Bolt) Delete(ctx context.Context, name string, p Precondition) (rev int64, err error) {
	rev, _, err = s.update(ctx, opDelete, func(w *writer) error {
		existing, err := w.get(name)
		if err != nil {
			return err
		}
		if err := p.check(name, existing); err != nil {
			return err
		}
		if existing == nil {
			return fmt.Errorf("entry %q: %w", name, ErrNotFound)
		}
		_, err = w.del(name)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("delete %q: %w", name, err)
	}
	return rev, nil
}

// ApplyResult is what Apply did.
type ApplyResult struct {
	// Revision is the store revision after the batch: that of its last change,
	// or the current revision when it changed nothing.
	Revision int64
	// Written and Deleted count the entries written and deleted.
	Written int
	Deleted int
	// Skipped lists, in the order met, the names left alone because another
	// source owns them.
	Skipped []string
}

// Apply writes a batch for source in one transaction: the puts in order, then
// the deletes. Its entries are registered by nobody (RegisteredBy ""). Every change gets its own consecutive revision. A put whose
// content is already stored for source, and a delete of an absent name, are
// skipped silently; a put or delete of a name owned by another source is
// skipped and listed in Skipped. Apply validates every put first: one invalid
// entry fails the whole batch and nothing is written. The entries of puts are
// not modified.
func (s *Bolt) Apply(ctx context.Context, source string, puts []*registry.Entry, deletes []string) (ApplyResult, error) {
	if source == "" {
		return ApplyResult{}, errors.New("apply: source is required")
	}
	for _, e := range puts {
		if err := validEntry(e); err != nil {
			return ApplyResult{}, fmt.Errorf("apply: %w", err)
		}
	}
	var res ApplyResult
	rev, _, err := s.update(ctx, opApply, func(w *writer) error {
		res = ApplyResult{}
		return applyBatch(ctx, w, source, puts, deletes, &res)
	})
	if err != nil {
		return ApplyResult{}, fmt.Errorf("apply: %w", err)
	}
	res.Revision = rev
	return res, nil
}

// applyBatch makes Apply's changes in w and counts them in res.
func applyBatch(ctx context.Context, w *writer, source string, puts []*registry.Entry, deletes []string, res *ApplyResult) error {
	for _, e := range puts {
		if err := ctx.Err(); err != nil {
			return err
		}
		existing, err := w.get(e.Name)
		switch {
		case err != nil:
			return err
		case existing != nil && existing.Source != source:
			res.Skipped = append(res.Skipped, e.Name)
			continue
		case existing != nil && existing.ContentEqual(e):
			continue
		}
		if _, err := w.put(e, source, "", existing == nil); err != nil {
			return err
		}
		res.Written++
	}
	for _, name := range deletes {
		if err := ctx.Err(); err != nil {
			return err
		}
		existing, err := w.get(name)
		switch {
		case err != nil:
			return err
		case existing == nil:
			continue
		case existing.Source != source:
			res.Skipped = append(res.Skipped, name)
			continue
		}
		if _, err := w.del(name); err != nil {
			return err
		}
		res.Deleted++
	}
	return nil
}

// validEntry returns why e cannot be stored (wrapping a *registry.FieldError),
// or nil.
func validEntry(e *registry.Entry) error {
	if err := e.Validate(); err != nil {
		return fmt.Errorf("invalid entry: %w", err)
	}
	return nil
}
