package xds

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sidecard/sidecard/controlplane/envoy"
)

// DefaultMaxSelectors is the default of EnvoyCacheOptions.MaxSelectors.
const DefaultMaxSelectors = 16

// EnvoyCacheOptions configures an EnvoyCache. The zero value is valid: zero
// fields take the defaults of DefaultEnvoyCacheOptions.
type EnvoyCacheOptions struct {
	// Logger receives translation errors and resync warnings; nil discards
	// them.
	Logger *slog.Logger
	// Registerer receives the cache's metrics; nil leaves them unregistered.
	Registerer prometheus.Registerer
	// Translation shapes the generated resources; the zero value means
	// envoy.DefaultOptions().
	Translation envoy.Options
	// MaxSelectors bounds the distinct label selectors (node.metadata.selector)
	// served at once, each with its own copy of the caches; the view of every
	// agent (no selector) is not counted. 0 means DefaultMaxSelectors.
	MaxSelectors int
	// BatchLimit is the most changes read from the feed and applied at once.
	// 0 means DefaultBatchLimit.
	BatchLimit int
}

// DefaultEnvoyCacheOptions returns the options used for zero fields.
func DefaultEnvoyCacheOptions() EnvoyCacheOptions {
	return EnvoyCacheOptions{
		Translation:  envoy.DefaultOptions(),
		MaxSelectors: DefaultMaxSelectors,
		BatchLimit:   DefaultBatchLimit,
	}
}

// Validate reports whether o is usable, its zero fields counting as their
// defaults. It does not modify o.
func (o EnvoyCacheOptions) Validate() error {
	if o.MaxSelectors < 0 || o.BatchLimit < 0 {
		return errors.New("envoy cache options: max selectors and batch limit must not be negative")
	}
	if err := o.withDefaults().Translation.Validate(); err != nil {
		return fmt.Errorf("envoy cache options: %w", err)
	}
	return nil
}

// withDefaults returns a copy of o with zero fields set to their defaults.
func (o EnvoyCacheOptions) withDefaults() EnvoyCacheOptions {
	d := DefaultEnvoyCacheOptions()
	if o.Translation == (envoy.Options{}) {
		o.Translation = d.Translation
	}
	o.MaxSelectors = orDefault(o.MaxSelectors, d.MaxSelectors)
	o.BatchLimit = orDefault(o.BatchLimit, d.BatchLimit)
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}
