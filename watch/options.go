package watch

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Defaults of Options.
const (
	// DefaultDebounce is the default quiet period before a signal. The
	// whole edit-to-effect budget is 250 ms at the 99th percentile.
	DefaultDebounce = 50 * time.Millisecond
	// DefaultResync is the default interval of the periodic resync.
	DefaultResync = time.Minute
)

// maxDelayFactor bounds the wait of a signal: it is sent at the latest
// maxDelayFactor × Debounce after the first event it gathers, however long
// the events keep coming.
const maxDelayFactor = 4

// Options configure a Watcher. The zero value is valid: zero fields take
// the defaults of DefaultOptions.
type Options struct {
	// Debounce is the quiet period: a signal is sent once no event arrived
	// for Debounce, and at the latest 4 × Debounce after the first event it
	// gathers. 0 means DefaultDebounce; negative values are invalid.
	Debounce time.Duration
	// Resync is the interval of the periodic resync Event. 0 means
	// DefaultResync; a negative value turns the periodic resync off (the
	// first Event of Run and the Event after SetPaths are still resyncs).
	Resync time.Duration
	// Filter reports whether a file of a watched directory is of interest,
	// given its absolute path (for example: only *.yaml). It is not applied
	// to the watched paths themselves. It is called from Run's goroutine
	// only. nil accepts every file.
	Filter func(path string) bool
	// Logger receives watch failures and fsnotify errors; nil discards them.
	Logger *slog.Logger
	// Registerer receives the watcher's metrics; nil leaves them
	// unregistered.
	Registerer prometheus.Registerer
}

// DefaultOptions returns the options used for zero fields.
func DefaultOptions() Options {
	return Options{Debounce: DefaultDebounce, Resync: DefaultResync}
}

// Validate reports whether o is usable. It does no I/O and does not modify
// o.
func (o Options) Validate() error {
	if o.Debounce < 0 {
		return fmt.Errorf("watch options: negative debounce %v", o.Debounce)
	}
	return nil
}

// withDefaults returns a copy of o with zero fields set to their defaults.
func (o Options) withDefaults() Options {
	d := DefaultOptions()
	if o.Debounce == 0 {
		o.Debounce = d.Debounce
	}
	if o.Resync == 0 {
		o.Resync = d.Resync
	}
	if o.Filter == nil {
		o.Filter = func(string) bool { return true }
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}
