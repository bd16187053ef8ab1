package lookup

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/valyala/fasthttp"

	"github.com/sidecard/sidecard/cache"
	"github.com/sidecard/sidecard/registry"
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
	// Overrides are the names pinned to local endpoints by the
	// configuration, by name; left out when there is none.
	Overrides []Override `json:"overrides,omitempty"`
	// Registrations are the agents registered through this sidecar (PUT
	// /v1/agents/{name} here), by name; empty when there is none.
	Registrations []Registration `json:"registrations"`
}

// Registration is an agent registered through this sidecar, which keeps
// its lease alive while its health check passes.
type Registration struct {
	Name string `json:"name"`
	// Healthy is false once failure_threshold checks in a row failed (the
	// agent is then deregistered until a check passes).
	Healthy bool `json:"healthy"`
	// LastCheck is when the agent was last checked; left out before the
	// first check.
	LastCheck time.Time `json:"last_check,omitzero"`
	// LastError is the last check's error, else the last control-plane
	// call's; "" when both succeeded.
	LastError string `json:"last_error"`
	// ExpiresAt is when the lease ends unless renewed; left out while the
	// agent is not registered.
	ExpiresAt time.Time `json:"expires_at,omitzero"`
}

// ConfigStatus is the "config" object of Status.
type ConfigStatus struct {
	// Path is the configuration file, watched for edits; left out when the
	// sidecar runs on flags alone.
	Path string `json:"path,omitempty"`
	// Generation counts successful configuration loads.
	Generation int64 `json:"generation"`
	// LoadedAt is when the configuration in effect was loaded.
	LoadedAt time.Time `json:"loaded_at,omitzero"`
	// LastError says why the last reload was refused; "" when it was not.
	LastError string `json:"last_error"`
	// RestartRequired lists the keys whose value in the file differs from
	// the running one and that only a restart puts in effect; left out
	// when there is none.
	RestartRequired []string `json:"restart_required,omitempty"`
}

// Override is a name whose proxied requests go to local endpoints instead
// of its registry entry's (GET /v1/agents/{name} still shows the entry).
type Override struct {
	Name      string              `json:"name"`
	Endpoints []registry.Endpoint `json:"endpoints"`
	// Registered says whether the name is in the replica.
	Registered bool `json:"registered"`
}

// Mount routes every request whose path starts with Prefix, or is one of
// Paths, to Handler, whatever its method. Mounts are how routes owned by
// other packages (the A2A proxy under "/a2a/", the A2A Registry compatible
// API) join the sidecar's server; the Handler's request metrics count them
// under the Route label.
type Mount struct {
	// Prefix starts and ends with "/" and does not overlap a built-in
	// route; "" when the mount has Paths only.
	Prefix string
	// Paths are exact paths also routed to Handler ("/agents" beside the
	// prefix "/agents/"): each starts with "/", does not end with "/", and
	// is neither a built-in path, under "/v1/agents/", nor another mount's.
	Paths []string
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
	// Mounts are extra routes: exact paths matched with the built-in
	// ones, prefixes after them.
	Mounts []Mount
	// EntryWrite serves the methods other than GET and HEAD on
	// /v1/agents/{name} (registration through the sidecar: PUT, DELETE),
	// counted under the "entry" route; nil answers them 405.
	EntryWrite fasthttp.RequestHandler
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
	paths := map[string]bool{}
	for _, r := range builtinRoutes {
		seen[r.label] = true
		if r.path != "" {
			paths[r.path] = true
		}
	}
	for i, m := range o.Mounts {
		if err := m.validate(seen, paths); err != nil {
			return fmt.Errorf("lookup options: Mounts[%d]: %w", i, err)
		}
		seen[m.Route] = true
	}
	return nil
}

// validate checks m against the built-in routes and the labels and exact
// paths in use, and adds its paths to paths.
func (m Mount) validate(labels, paths map[string]bool) error {
	for _, p := range m.Paths {
		switch {
		case len(p) < 2 || !strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/"):
			return fmt.Errorf("path %q must start with / and not end with /", p)
		case paths[p] || strings.HasPrefix(p, agentsPrefix):
			return fmt.Errorf("path %q is a built-in route or another mount's", p)
		}
		paths[p] = true
	}
	switch {
	case m.Prefix == "" && len(m.Paths) > 0:
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
