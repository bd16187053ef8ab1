package store

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Defaults of Options.
const (
	DefaultHistory     = 100000
	DefaultLockTimeout = time.Second
)

// Options configure a store. The zero value is valid: zero fields take their
// defaults.
type Options struct {
	// History is how many changes the change feed keeps; older ones are
	// compacted away. 0 means DefaultHistory.
	History int
	// Now is the clock that stamps UpdatedAt and sets lease expiries. nil
	// means time.Now.
	Now func() time.Time
	// Registerer receives the store's metrics; nil means they are not exported.
	Registerer prometheus.Registerer
	// LockTimeout is how long Open waits for the file lock held by another
	// process before it fails with ErrLocked. 0 means DefaultLockTimeout.
	LockTimeout time.Duration
}

// DefaultOptions returns Options with every default filled in.
func DefaultOptions() Options {
	return Options{History: DefaultHistory, Now: time.Now, LockTimeout: DefaultLockTimeout}
}

// Validate reports whether o is usable. It does no I/O and does not modify o.
func (o Options) Validate() error {
	if o.History < 0 {
		return errors.New("store options: history must not be negative")
	}
	if o.LockTimeout < 0 {
		return errors.New("store options: lock timeout must not be negative")
	}
	return nil
}

// withDefaults returns a copy of o with its zero fields set to the defaults.
func (o Options) withDefaults() Options {
	d := DefaultOptions()
	if o.History == 0 {
		o.History = d.History
	}
	if o.Now == nil {
		o.Now = d.Now
	}
	if o.LockTimeout == 0 {
		o.LockTimeout = d.LockTimeout
	}
	return o
}
