package lookup

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/valyala/fasthttp"

	"github.com/sidecard/sidecard/cache"
)

// DefaultCacheMaxCostBytes bounds the rendered-response cache when
// Options.CacheMaxCostBytes is 0 (BRIEF §5 sidecar.yaml cache.max_cost_bytes).
const DefaultCacheMaxCostBytes = 64 << 20

// Source gives the current replica snapshot. *cache.Replica implements it.
type Source interface {
	// Load returns the current snapshot; never nil.
	Load() *cache.Snapshot
}

var _ Source = (*cache.Replica)(nil)

// StatusSource answers GET /v1/status. Implementations must be safe for
// concurrent use and cheap (it is called once per status request).
type StatusSource interface {
	// Status returns the sidecar's current status; the caller owns it.
	Status() Status
}

// Status is the body of GET /v1/status (BRIEF §5). Zero times are left out.
type Status struct {
	NodeID string `json:"node_id"`
	// Connected is true while a stream to a control plane is open.
	Connected bool `json:"connected"`
	// ControlPlane is the address of the live stream or of the last attempt.
	ControlPlane string `json:"controlplane"`
	// Revision is the highest entry revision of the replica.
	Revision int64 `json:"revision"`
	// Agents is the number of entries in the replica.
	Agents int `json:"agents"`
	// LastUpdate is when the replica last changed.
	LastUpdate time.Time `json:"last_update,omitzero"`
	// StaleSeconds is how long the sidecar has had no live stream, 0 while
	// connected.
	StaleSeconds int64 `json:"stale_seconds"`
	// Config describes the sidecar's configuration file.
	Config ConfigStatus `json:"config"`
}

// ConfigStatus is the "config" object of Status.
type ConfigStatus struct {
	// Generation counts successful configuration loads.
	Generation int64 `json:"generation"`
	// LoadedAt is when the configuration in effect was loaded.
	LoadedAt time.Time `json:"loaded_at,omitzero"`
	// LastError says why the last reload was refused; "" when it was not.
	LastError string `json:"last_error"`
}

// Mount routes every request whose path starts with Prefix to Handler,
// whatever its method. Mounts are how routes owned by other packages (the
// A2A proxy under "/a2a/") join the sidecar's server; the Handler's request
// metrics count them under the Route label.
type Mount struct {
	// Prefix starts and ends with "/" and does not overlap a built-in route.
	Prefix string
	// Route is the value of the "route" metric label; distinct from the
	// built-in ones and from other mounts.
	Route string
	// Handler serves the request; it follows fasthttp's rules (no use of
	// the ctx after it returns).
	Handler fasthttp.RequestHandler
}

// Options configure a Handler. Required fields: Source, Status and Ready.
type Options struct {
	// Source is the replica every lookup reads.
	Source Source
	// Status answers GET /v1/status.
	Status StatusSource
	// Ready reports whether a replica has been loaded (from a control plane
	// or from disk); GET /readyz is 200 once it returns true, 503 before.
	Ready func() bool
	// Stale reports whether the sidecar has no live stream to a control
	// plane and for how many seconds; while stale is true every lookup
	// response carries X-Sidecard-Stale-Seconds. It is called once per
	// lookup, so it must be cheap and safe for concurrent use. nil means
	// never stale.
	Stale func() (stale bool, seconds int64)
	// Gatherer serves GET /metrics; nil answers 404.
	Gatherer prometheus.Gatherer
	// Registerer receives the handler's metrics; nil registers none.
	Registerer prometheus.Registerer
	// CacheMaxCostBytes bounds the rendered-response cache, in bytes;
	// 0 means DefaultCacheMaxCostBytes.
	CacheMaxCostBytes int64
	// Mounts are extra prefix routes, matched after the built-in ones.
	Mounts []Mount
}

// Validate reports the first problem with o. It does not modify o.
func (o Options) Validate() error {
	switch {
	case o.Source == nil:
		return errors.New("lookup options: Source is required")
	case o.Status == nil:
		return errors.New("lookup options: Status is required")
	case o.Ready == nil:
		return errors.New("lookup options: Ready is required")
	case o.CacheMaxCostBytes < 0:
		return fmt.Errorf("lookup options: CacheMaxCostBytes must not be negative, got %d", o.CacheMaxCostBytes)
	}
	seen := map[string]bool{}
	for _, r := range builtinRoutes {
		seen[r.label] = true
	}
	for i, m := range o.Mounts {
		if err := m.validate(seen); err != nil {
			return fmt.Errorf("lookup options: Mounts[%d]: %w", i, err)
		}
		seen[m.Route] = true
	}
	return nil
}

// validate checks m against the built-in routes and the labels in use.
func (m Mount) validate(labels map[string]bool) error {
	switch {
	case len(m.Prefix) < 2 || !strings.HasPrefix(m.Prefix, "/") || !strings.HasSuffix(m.Prefix, "/"):
		return fmt.Errorf("prefix %q must start and end with / and name something", m.Prefix)
	case overlapsBuiltin(m.Prefix):
		return fmt.Errorf("prefix %q overlaps a built-in route", m.Prefix)
	case m.Route == "":
		return errors.New("route label is required")
	case labels[m.Route]:
		return fmt.Errorf("route label %q is already in use", m.Route)
	case m.Handler == nil:
		return errors.New("handler is required")
	}
	return nil
}

// cacheMaxCost returns the effective cache bound.
func (o Options) cacheMaxCost() int64 {
	if o.CacheMaxCostBytes == 0 {
		return DefaultCacheMaxCostBytes
	}
	return o.CacheMaxCostBytes
}
