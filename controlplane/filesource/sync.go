package filesource

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/sidecard/sidecard/registry"
)

// SyncResult is what a Sync did.
type SyncResult struct {
	// Files is the number of registry files found.
	Files int
	// Failed is the number of files (and unreadable directories) that failed
	// to load; their previous entries were kept. Status says why.
	Failed int
	// Entries is the number of entries in the files that loaded.
	Entries int
	// Written and Deleted count the entries written to and deleted from the
	// store; both are 0 when nothing changed.
	Written, Deleted int
	// Skipped lists the names in files left alone because another source
	// owns them.
	Skipped []string
	// Revision is the store revision after the sync.
	Revision int64
}

// LogValue makes a SyncResult log as a group of its counts.
func (r SyncResult) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Int("files", r.Files), slog.Int("failed", r.Failed), slog.Int("entries", r.Entries),
		slog.Int("written", r.Written), slog.Int("deleted", r.Deleted),
		slog.Any("skipped", r.Skipped), slog.Int64("revision", r.Revision),
	)
}

// Sync loads every registry file of every directory and makes the store's
// "file" entries match them, in one store batch:
//
//   - Every file is read and parsed before anything is written; a file whose
//     content has not changed since the last Sync is not parsed again.
//   - A file that fails (unreadable, malformed, an invalid entry, a name
//     twice in it, or a name already defined by an earlier file in path
//     order) loads nothing and keeps its previous entries; the other files
//     load. The failure is logged when it first appears and shown by Status.
//   - Entries owned by "file" that no file defines any more are deleted,
//     unless some file or directory failed: then nothing is deleted, since
//     the failing file's previous entries must stay (so the entries of a file
//     removed meanwhile stay until every file loads again).
//   - Names owned by another source are left alone and reported in their
//     file's status.
//   - When nothing changed, the store is not written.
//
// Syncs run one at a time; a Sync waiting for another returns ctx's error
// when ctx ends first. Sync returns an error only when the store could not
// be read or written; then nothing was written and Status is unchanged.
// File failures are not errors of Sync: see SyncResult.Failed and Status.
func (s *Source) Sync(ctx context.Context) (SyncResult, error) {
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		return SyncResult{}, ctx.Err()
	}
	defer func() { <-s.sem }()

	res, err := s.sync(ctx)
	s.metrics.observeSync(err == nil && res.Failed == 0)
	return res, err
}

// sync is Sync with the semaphore held.
func (s *Source) sync(ctx context.Context) (SyncResult, error) {
	loads, cache := loadAll(*s.dirs.Load(), s.cache)
	s.cache = cache
	markDuplicates(loads)

	stored, rev, err := s.w.List()
	if err != nil {
		return SyncResult{}, fmt.Errorf("file source: list the store: %w", err)
	}
	p := makePlan(loads, stored)
	res := p.result(loads, rev)
	if len(p.puts) > 0 || len(p.deletes) > 0 {
		ar, err := s.w.Apply(ctx, registry.SourceFile, p.puts, p.deletes)
		if err != nil {
			return SyncResult{}, fmt.Errorf("file source: write the store: %w", err)
		}
		p.addSkipped(ar.Skipped)
		res.Written, res.Deleted, res.Revision, res.Skipped = ar.Written, ar.Deleted, ar.Revision, p.skippedNames()
		s.log.Info("registry files applied", "written", ar.Written, "deleted", ar.Deleted, "revision", ar.Revision)
	}
	s.publish(loads, p.skipped)
	return res, nil
}

// markDuplicates fails, in path order, every file that defines a name an
// earlier file already defines.
func markDuplicates(loads []fileLoad) {
	owner := map[string]fileEntry{}
	ownerPath := map[string]string{}
	for i := range loads {
		l := &loads[i]
		if l.err != nil {
			continue
		}
		for _, fe := range l.entries {
			if first, dup := owner[fe.entry.Name]; dup {
				l.err = fmt.Errorf("%s:%d: entry[%d]: name %q already defined at %s:%d",
					l.path, fe.line, fe.index, fe.entry.Name, ownerPath[fe.entry.Name], first.line)
				break
			}
		}
		if l.err != nil {
			continue
		}
		for _, fe := range l.entries {
			owner[fe.entry.Name], ownerPath[fe.entry.Name] = fe, l.path
		}
	}
}
