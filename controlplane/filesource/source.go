package filesource

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sidecard/sidecard/controlplane/store"
	"github.com/sidecard/sidecard/registry"
)

// Writer is the part of the store the file source writes through.
// *store.Bolt implements it.
type Writer interface {
	// Apply writes puts and deletes for source in one transaction, skipping
	// content-equal puts and names owned by another source (listed in
	// Skipped).
	Apply(ctx context.Context, source string, puts []*registry.Entry, deletes []string) (store.ApplyResult, error)
	// List returns every stored entry and the store revision they reflect.
	List() ([]*registry.Entry, int64, error)
}

var _ Writer = (*store.Bolt)(nil)

// Options are the optional dependencies of a Source.
type Options struct {
	// Logger receives file errors and summaries of writes; nil discards them.
	Logger *slog.Logger
	// Registerer receives the source's metrics; nil leaves them unregistered.
	Registerer prometheus.Registerer
	// Now is the clock of FileStatus.LoadedAt; nil means time.Now.
	Now func() time.Time
}

// FileStatus is the state of one registry file (or of a registry directory
// that could not be read), as GET /v1/sources shows it.
type FileStatus struct {
	// Path is the file's path: the registry directory joined with its name.
	Path string `json:"path"`
	// Entries is len(Names).
	Entries int `json:"entries"`
	// Names are the names of the entries served from the file: those of its
	// last successful load (kept while the file fails), without the names
	// owned by another source.
	Names []string `json:"names"`
	// Error is why the file did not load, or which of its names another
	// source owns; empty when the file loaded completely.
	Error string `json:"error,omitempty"`
	// LoadedAt is when the content whose entries are served was loaded
	// (kept while the file fails); zero when the file never loaded.
	LoadedAt time.Time `json:"loaded_at,omitzero"`
}

// Source loads registry directories into a store. It is safe for
// concurrent use; Syncs run one at a time. Build it with New.
type Source struct {
	w       Writer
	log     *slog.Logger
	now     func() time.Time
	metrics *metrics

	dirs   atomic.Pointer[[]string]     // set by New and SetDirs
	status atomic.Pointer[[]FileStatus] // published by Sync, sorted by path

	sem chan struct{} // 1-slot: held by the running Sync
	// Owned by the running Sync:
	cache map[string]fileLoad  // the last parse of each file, by path
	prev  map[string]fileState // the published state of each file, by path
}

// fileState is what a Sync remembers of a file for the next one.
type fileState struct {
	status FileStatus
	sum    [32]byte // of the content loaded at status.LoadedAt
}

// New returns a Source that loads dirs into w. It does not load anything:
// call Sync. dirs may be empty; no dir may be "".
func New(dirs []string, w Writer, opts Options) (*Source, error) {
	if w == nil {
		return nil, errors.New("file source: a Writer is required")
	}
	if slices.Contains(dirs, "") {
		return nil, errors.New("file source: empty registry directory path")
	}
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, err
	}
	s := &Source{
		w:       w,
		log:     opts.Logger,
		now:     opts.Now,
		metrics: m,
		sem:     make(chan struct{}, 1),
		cache:   map[string]fileLoad{},
		prev:    map[string]fileState{},
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.SetDirs(dirs)
	s.status.Store(&[]FileStatus{})
	return s, nil
}

// SetDirs replaces the registry directories from the next Sync on (a config
// reload calls it, then Sync). Empty paths and repeated paths are dropped.
// dirs is copied.
func (s *Source) SetDirs(dirs []string) {
	clean := make([]string, 0, len(dirs))
	for _, d := range dirs {
		if d != "" && !slices.Contains(clean, d) {
			clean = append(clean, d)
		}
	}
	s.dirs.Store(&clean)
}

// Status returns the state of every registry file and of every registry
// directory that could not be read, at the last Sync, sorted by path.
// The result is the caller's.
func (s *Source) Status() []FileStatus {
	pub := *s.status.Load()
	out := make([]FileStatus, len(pub))
	for i, st := range pub {
		st.Names = append([]string{}, st.Names...)
		out[i] = st
	}
	return out
}
