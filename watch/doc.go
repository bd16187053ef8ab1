// Package watch turns file-system activity under a set of paths into one
// debounced "something changed" signal: a Watcher follows directories and
// single files with fsnotify and sends an Event naming the paths that may
// have changed.
//
// It handles what editors, shells and Kubernetes do to files: writes in
// place, write-temp-then-rename over, mv and cp into a directory, deletes,
// a watched directory removed and created again or renamed over, and the
// ConfigMap volume update (files are symbolic links name -> ..data/name,
// and ..data is replaced by renaming a new ..data_tmp link over it; an
// event on ..data or ..data_tmp reports every file of the directory).
//
// How it watches, after Prometheus' discovery/file:
//
//   - directories, never files: a single file is watched through its parent
//     directory, so that renaming a new version over it is seen;
//   - the parent of every watched path too, so that a watched directory
//     that is removed, created or replaced is watched again at once; when
//     the parent is missing as well, the periodic resync polls for it;
//   - a burst of events is gathered into one pending Event (the union of
//     its paths), sent after a quiet period, level-triggered: events that
//     arrive while the consumer is busy join the pending Event and never
//     block the reading of fsnotify events;
//   - a periodic resync (and a resync when the kernel's event queue
//     overflowed) re-adds lost watches and tells the consumer to re-read
//     everything: a safety net for whatever fsnotify missed.
//
// The package knows nothing of file formats or of what the files hold. An
// Event means "may have changed": the same content written again, a touch,
// or a resync all produce Events, so the consumer compares content (a hash)
// and treats an unchanged file as a no-op.
//
// Watching is not recursive: entries directly in a watched directory are
// reported, whatever their type; changes inside its subdirectories are
// not. Changes to the target of a symbolic link that lives outside the
// watched directories are not seen until the next resync (Kubernetes'
// ..data links are handled, see above).
package watch
