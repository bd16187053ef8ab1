package xds

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Defaults of RegistryCacheOptions.
const (
	DefaultBatchLimit     = 1024
	DefaultLogSize        = 16384
	DefaultTombstoneLimit = 65536
	DefaultRetryInterval  = 50 * time.Millisecond
)

// RegistryCacheOptions configures a RegistryCache. The zero value is valid:
// zero fields take the defaults of DefaultRegistryCacheOptions.
type RegistryCacheOptions struct {
	// Logger receives resync warnings and stream resets; nil discards them.
	Logger *slog.Logger
	// Registerer receives the cache's metrics; nil leaves them unregistered.
	Registerer prometheus.Registerer
	// BatchLimit is the most changes read from the feed and applied at once
	// (one response per stream per batch). 0 means DefaultBatchLimit.
	BatchLimit int
	// LogSize is the number of recent changes kept to bring a stream's
	// watermark up to date without comparing every resource. It must be at
	// least BatchLimit. 0 means DefaultLogSize.
	LogSize int
	// TombstoneLimit is the number of recent deletions kept for streams whose
	// watermark is older than the change log; a stream older than those is
	// reset (it reconnects with initial_resource_versions). It must be at least
	// BatchLimit. 0 means DefaultTombstoneLimit.
	TombstoneLimit int
	// RetryInterval is how long Run waits before retrying a response that did
	// not fit in a stream's channel. 0 means DefaultRetryInterval.
	RetryInterval time.Duration
}

// DefaultRegistryCacheOptions returns the options used for zero fields.
func DefaultRegistryCacheOptions() RegistryCacheOptions {
	return RegistryCacheOptions{
		BatchLimit:     DefaultBatchLimit,
		LogSize:        DefaultLogSize,
		TombstoneLimit: DefaultTombstoneLimit,
		RetryInterval:  DefaultRetryInterval,
	}
}

// Validate reports whether o is usable, its zero fields counting as their
// defaults. It does not modify o.
func (o RegistryCacheOptions) Validate() error {
	if o.BatchLimit < 0 || o.LogSize < 0 || o.TombstoneLimit < 0 || o.RetryInterval < 0 {
		return errors.New("registry cache options: sizes and intervals must not be negative")
	}
	d := o.withDefaults()
	if d.LogSize < d.BatchLimit {
		return fmt.Errorf("registry cache options: log size %d is smaller than the batch limit %d", d.LogSize, d.BatchLimit)
	}
	if d.TombstoneLimit < d.BatchLimit {
		return fmt.Errorf("registry cache options: tombstone limit %d is smaller than the batch limit %d",
			d.TombstoneLimit, d.BatchLimit)
	}
	return nil
}

// withDefaults returns a copy of o with zero fields set to their defaults.
func (o RegistryCacheOptions) withDefaults() RegistryCacheOptions {
	d := DefaultRegistryCacheOptions()
	if o.BatchLimit == 0 {
		o.BatchLimit = d.BatchLimit
	}
	if o.LogSize == 0 {
		o.LogSize = d.LogSize
	}
	if o.TombstoneLimit == 0 {
		o.TombstoneLimit = d.TombstoneLimit
	}
	if o.RetryInterval == 0 {
		o.RetryInterval = d.RetryInterval
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}
