package view

import (
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
)

// DefaultBatchSize is the number of changes a View reads from its feed per call
// when Options.BatchSize is 0.
const DefaultBatchSize = 1024

// Options configures a View. The zero value is valid.
type Options struct {
	// BatchSize is the most changes read from the feed and applied to the
	// index at once; 0 means DefaultBatchSize.
	BatchSize int
	// Registerer receives the view's metrics; nil leaves them unregistered.
	Registerer prometheus.Registerer
	// Logger receives resync warnings; nil discards them.
	Logger *slog.Logger
}

// DefaultOptions returns the options a View uses for zero fields.
func DefaultOptions() Options {
	return Options{BatchSize: DefaultBatchSize}
}

// Validate reports whether o is usable. It does not modify o.
func (o Options) Validate() error {
	if o.BatchSize < 0 {
		return fmt.Errorf("batch size %d is negative", o.BatchSize)
	}
	return nil
}

// withDefaults returns a copy of o with zero fields set to their defaults.
func (o Options) withDefaults() Options {
	d := DefaultOptions()
	if o.BatchSize == 0 {
		o.BatchSize = d.BatchSize
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}
