package watch

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Names in a Kubernetes ConfigMap (or Secret) volume: the files are links
// name -> ..data/name; ..data links to a timestamped directory and is
// replaced by renaming a new ..data_tmp link over it. Other names starting
// with ".." are the timestamped directories.
const (
	configMapData    = "..data"
	configMapDataTmp = "..data_tmp"
	configMapPrefix  = ".."
)

// loop is the state of one Run; it is owned by Run's goroutine.
type loop struct {
	opts    Options
	metrics *metrics
	fw      *fsnotify.Watcher
	errs    <-chan error // fw.Errors; nil once closed

	roots    map[string]bool // watched path -> is a directory (watched as one)
	list     []string        // the keys of roots, sorted
	p        pending
	deferred []error // fsnotify errors received during an fsop
}

// run is the body of Run: paths returns the current watched paths,
// reconfigure says they changed.
func (l *loop) run(ctx context.Context, out chan<- Event, paths func() []string, reconfigure <-chan struct{}) error {
	l.reload(paths(), time.Now())
	var resync <-chan time.Time
	if l.opts.Resync > 0 {
		t := time.NewTicker(l.opts.Resync)
		defer t.Stop()
		resync = t.C
	}
	wake := time.NewTimer(time.Hour)
	defer wake.Stop()
	for {
		l.handleDeferred()
		var send chan<- Event
		var ev Event
		var wakeC <-chan time.Time
		if at, ok := l.p.due(l.opts.Debounce); ok {
			if d := time.Until(at); d > 0 {
				wake.Reset(d)
				wakeC = wake.C
			} else {
				send, ev = out, l.p.event()
			}
		}
		adds := l.p.adds
		select {
		case <-ctx.Done():
			return nil
		case send <- ev:
			l.p.reset()
			l.metrics.signal(ev)
			l.opts.Logger.Debug("watch signal", slog.Int("paths", len(ev.Paths)), slog.Bool("resync", ev.Resync))
		case fe, ok := <-l.fw.Events:
			if !ok {
				return errors.New("watch: fsnotify closed its event channel")
			}
			l.handle(fe, time.Now())
		case err, ok := <-l.errs:
			if !ok {
				l.errs = nil
				continue
			}
			l.fsError(err, time.Now())
		case <-resync:
			l.resync(time.Now())
		case <-reconfigure:
			l.reload(paths(), time.Now())
		case <-wakeC:
		}
		if send != nil && l.p.adds != adds {
			l.metrics.merged.Inc()
		}
	}
}

// reload replaces the watched paths, reconciles the watches and asks for a
// resync.
func (l *loop) reload(paths []string, now time.Time) {
	clear(l.roots)
	for _, p := range paths {
		l.roots[p] = false
	}
	l.list = paths
	l.resync(now)
}

// resync reconciles the watches and, when something is watched, queues a
// Resync Event.
func (l *loop) resync(now time.Time) {
	l.reconcile()
	if len(l.list) > 0 {
		l.p.addResync(l.list, now)
	}
}

// reconcile makes the watch list match the roots: the parent of every root
// and every root that is a directory. Adding an existing watch is cheap and
// repairs one whose directory was replaced.
func (l *loop) reconcile() {
	want := map[string]bool{}
	for _, r := range l.list {
		if parent := filepath.Dir(r); parent != r {
			want[parent] = true
		}
		fi, err := os.Stat(r)
		l.roots[r] = err == nil && fi.IsDir()
		if l.roots[r] {
			want[r] = true
		}
	}
	var watched []string
	l.fsop(func() error { watched = l.fw.WatchList(); return nil })
	for _, d := range watched {
		if !want[d] {
			err := l.fsop(func() error { return l.fw.Remove(d) })
			if err != nil && !errors.Is(err, fsnotify.ErrNonExistentWatch) {
				l.opts.Logger.Debug("unwatch directory", slog.String("path", d), slog.Any("error", err))
			}
		}
	}
	for _, d := range slices.Sorted(maps.Keys(want)) {
		l.watch(d)
	}
}

// watch adds a watch on directory d. A missing d is not an error: it is
// watched when it appears.
func (l *loop) watch(d string) {
	err := l.fsop(func() error { return l.fw.Add(d) })
	switch {
	case err == nil:
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ENOTDIR):
		l.opts.Logger.Debug("directory to watch is missing", slog.String("path", d))
	default:
		l.metrics.errors.Inc()
		l.opts.Logger.Warn("cannot watch directory; changes are seen at the next resync",
			slog.String("path", d), slog.Any("error", err))
	}
}

// fsop runs op, an operation on fw, while receiving fw's errors: the
// inotify backend of fsnotify may send an error while holding the lock that
// Add, Remove and WatchList take, so calling them without receiving errors
// can deadlock. Errors received meanwhile are handled by the loop later.
func (l *loop) fsop(op func() error) error {
	done := make(chan error, 1)
	go func() { done <- op() }()
	for {
		select {
		case err := <-done:
			return err
		case err, ok := <-l.errs:
			if !ok {
				l.errs = nil
				continue
			}
			l.deferred = append(l.deferred, err)
		}
	}
}

// handleDeferred handles the errors received during fsops.
func (l *loop) handleDeferred() {
	for len(l.deferred) > 0 {
		err := l.deferred[0]
		l.deferred = l.deferred[1:]
		l.fsError(err, time.Now()) // may run fsops that defer more
	}
}

// fsError handles an error of fsnotify: lost events ask for a resync.
func (l *loop) fsError(err error, now time.Time) {
	l.metrics.errors.Inc()
	if errors.Is(err, fsnotify.ErrEventOverflow) {
		l.opts.Logger.Warn("file system events were lost; resyncing", slog.Any("error", err))
		l.resync(now)
		return
	}
	l.opts.Logger.Warn("file system watch error", slog.Any("error", err))
}

// handle gathers what fe says may have changed into the pending Event.
func (l *loop) handle(fe fsnotify.Event, now time.Time) {
	l.metrics.events.Inc()
	if fe.Op == fsnotify.Chmod {
		return // attributes alone change no content (Linux also sends one before a delete)
	}
	name := filepath.Clean(fe.Name)
	if _, ok := l.roots[name]; ok {
		l.rootChanged(name, fe.Op, now)
	}
	dir, base := filepath.Dir(name), filepath.Base(name)
	switch {
	case base == configMapData || base == configMapDataTmp:
		l.dataSwapped(dir, now)
	case strings.HasPrefix(base, configMapPrefix):
		// a timestamped ConfigMap directory: the ..data swap reports its files
	case l.roots[dir] && l.opts.Filter(name):
		l.p.add(name, now)
	}
}

// rootChanged handles an event on the watched path r itself (seen from
// its parent, or from its own watch).
func (l *loop) rootChanged(r string, op fsnotify.Op, now time.Time) {
	wasDir := l.roots[r]
	if !op.Has(fsnotify.Create | fsnotify.Remove | fsnotify.Rename) {
		// A write: to a file, its content changed; to a directory (kqueue,
		// Windows), its entries did, and they have events of their own.
		if !wasDir {
			l.p.add(r, now)
		}
		return
	}
	// r was created, removed or replaced: watch what is there now.
	l.p.add(r, now)
	fi, err := os.Stat(r)
	isDir := err == nil && fi.IsDir()
	l.roots[r] = isDir
	if isDir {
		l.watch(r) // before listing, so that no entry created meanwhile is missed
		l.addEntries(r, now)
	}
	// A removed or replaced directory's watch is dropped by fsnotify itself.
}

// dataSwapped handles a ConfigMap ..data swap in dir: every file of dir
// may have changed.
func (l *loop) dataSwapped(dir string, now time.Time) {
	for _, r := range l.list {
		switch {
		case r == dir && l.roots[r]:
			l.p.add(r, now)
			l.addEntries(r, now)
		case filepath.Dir(r) == dir && !l.roots[r]:
			l.p.add(r, now)
		}
	}
}

// addEntries adds the entries of directory dir that Filter accepts.
func (l *loop) addEntries(dir string, now time.Time) {
	des, err := os.ReadDir(dir)
	if err != nil {
		// dir itself is pending: the consumer finds out when it reads it
		l.opts.Logger.Debug("list watched directory", slog.String("path", dir), slog.Any("error", err))
	}
	for _, de := range des {
		if strings.HasPrefix(de.Name(), configMapPrefix) {
			continue
		}
		if p := filepath.Join(dir, de.Name()); l.opts.Filter(p) {
			l.p.add(p, now)
		}
	}
}
