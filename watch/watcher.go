package watch

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/fsnotify/fsnotify"
)

// Event tells the consumer what may have changed since the previous Event.
type Event struct {
	// Paths are the paths that may have changed: absolute, cleaned, sorted
	// and without duplicates. They are files of watched directories that
	// Filter accepts, watched single files, and a watched directory itself
	// when it was created, removed or replaced or its ConfigMap data was
	// swapped (its current files are then listed too). In a Resync Event
	// they include every watched path. The slice belongs to the receiver.
	Paths []string
	// Resync asks the consumer to re-read everything it reads from the
	// watched paths. It is set on the first Event of Run (sent once the
	// watches are in place, so that nothing changed between the consumer's
	// first read and the start of watching is missed), on the Event after
	// SetPaths, on the periodic resync and after fsnotify lost events.
	Resync bool
}

// Watcher watches a set of paths and signals their changes to the channel
// given to Run. Build it with New; the zero value is not usable. Run and
// SetPaths are safe to call concurrently with each other; Run must not be
// called concurrently with itself.
type Watcher struct {
	opts    Options // with defaults
	metrics *metrics

	mu    sync.Mutex
	paths []string // guarded by mu; absolute, cleaned, sorted, unique

	reconfigure chan struct{} // 1-slot: SetPaths tells Run to reload paths
	running     atomic.Bool
}

// New returns a Watcher of paths. Each path is a directory, whose entries
// are reported (those Filter accepts), or a single file, reported alone
// and watched through its parent directory so that a rename over it is
// seen. A path is watched as a directory while it is one: a missing path
// is watched as soon as it appears (immediately when its parent exists,
// at the next resync otherwise). New does not touch the file system;
// watching starts with Run.
func New(paths []string, opts Options) (*Watcher, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	clean, err := resolve(paths)
	if err != nil {
		return nil, err
	}
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, err
	}
	return &Watcher{
		opts:        opts.withDefaults(),
		metrics:     m,
		paths:       clean,
		reconfigure: make(chan struct{}, 1),
	}, nil
}

// SetPaths replaces the watched paths (see New). A running Run adds and
// removes its watches and sends a Resync Event once they are in place;
// otherwise the next Run watches paths. On error nothing changes.
func (w *Watcher) SetPaths(paths []string) error {
	clean, err := resolve(paths)
	if err != nil {
		return err
	}
	w.mu.Lock()
	w.paths = clean
	w.mu.Unlock()
	select {
	case w.reconfigure <- struct{}{}:
	default: // a reload is already pending; it reads the latest paths
	}
	return nil
}

// Paths returns the watched paths: absolute, cleaned, sorted. The slice
// belongs to the caller.
func (w *Watcher) Paths() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.paths)
}

// Run watches the paths and sends Events on out until ctx is done, then
// returns nil; it returns an error when fsnotify cannot start or fails for
// good. Run never closes out: the caller owns it, and may close it after
// Run returned. Every send selects on ctx.Done(). While the consumer is
// busy, changes gather into one pending Event. Every goroutine Run starts
// has ended when it returns. Run may be called again after it returned,
// never concurrently.
func (w *Watcher) Run(ctx context.Context, out chan<- Event) error {
	if out == nil {
		return errors.New("watch: Run with a nil channel")
	}
	if !w.running.CompareAndSwap(false, true) {
		return errors.New("watch: Run called while running")
	}
	defer w.running.Store(false)
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("watch: start fsnotify: %w", err)
	}
	defer fw.Close() // waits for fsnotify's reader goroutine
	l := &loop{
		opts:    w.opts,
		metrics: w.metrics,
		fw:      fw,
		errs:    fw.Errors,
		roots:   map[string]bool{},
	}
	return l.run(ctx, out, w.Paths, w.reconfigure)
}

// resolve returns paths made absolute and cleaned, sorted, without
// duplicates.
func resolve(paths []string) ([]string, error) {
	out := make([]string, 0, len(paths))
	for _, p := range paths {
		if p == "" {
			return nil, errors.New("watch: empty path")
		}
		abs, err := filepath.Abs(p)
		if err != nil {
			return nil, fmt.Errorf("watch: path %q: %w", p, err)
		}
		out = append(out, abs)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}
