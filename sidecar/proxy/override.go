package proxy

import (
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"sync/atomic"

	"github.com/sidecard/sidecard/registry"
)

// Bounds of an override's endpoints, those of registry entries.
const (
	maxOverrideEndpoints = 128
	maxOverrideWeight    = 1_000_000
)

// Overrides pin agents to local endpoints (sidecar.yaml "overrides:"):
// requests to /a2a/{name} for a pinned name go to the override's
// endpoints instead of those of the registry's entry. The card served at
// /a2a/{name}/.well-known/agent-card.json stays the registry's. A name
// need not be in the replica: a local agent can be pinned before it is
// registered (it then has no card to serve). This keeps the proxy closed:
// it forwards only to endpoints of registered entries or to endpoints the
// operator configured.
//
// An Overrides is immutable once built and safe for concurrent use; a nil
// *Overrides pins nothing. Build it with NewOverrides.
type Overrides struct {
	pins map[string]*pin
}

// pin is one overridden name.
type pin struct {
	eps []registry.Endpoint
	// bare is the entry routed by while the name is not in the replica.
	bare *registry.Entry
	// merged caches the registry entry with eps, for the last registry
	// entry seen, so that a request allocates nothing.
	merged atomic.Pointer[mergedEntry]
}

// mergedEntry is base with its endpoints replaced by a pin's.
type mergedEntry struct {
	base, entry *registry.Entry
}

// NewOverrides validates pins (name → endpoints) and builds the table.
// Names follow the registry's rules; each has 1 to 128 endpoints, absolute
// http(s) URLs without duplicates, of weight at most 1000000 (0 counts
// as 1). Each problem is one error naming its key ("weather: ...",
// "weather.endpoints[0].url: ..."), joined. The map and slices are copied.
// An empty map builds a table that pins nothing.
func NewOverrides(pins map[string][]registry.Endpoint) (*Overrides, error) {
	o := &Overrides{pins: make(map[string]*pin, len(pins))}
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(pins)) {
		eps := pins[name]
		if err := validatePin(name, eps); err != nil {
			errs = append(errs, err)
			continue
		}
		eps = slices.Clone(eps)
		o.pins[name] = &pin{eps: eps, bare: &registry.Entry{Name: name, Endpoints: eps}}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return o, nil
}

// validatePin checks the name and endpoints of one override. The error
// names the key: "name: problem" or "name.endpoints[i].url: problem".
func validatePin(name string, eps []registry.Endpoint) error {
	if err := registry.ValidateName(name); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if len(eps) == 0 || len(eps) > maxOverrideEndpoints {
		return fmt.Errorf("%s.endpoints: want 1 to %d, got %d", name, maxOverrideEndpoints, len(eps))
	}
	for i, ep := range eps {
		field := name + ".endpoints[" + strconv.Itoa(i) + "]"
		u, err := url.Parse(ep.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" || u.User != nil || u.Fragment != "" {
			return fmt.Errorf("%s.url: %q is not an absolute http(s) URL without user info or fragment", field, ep.URL)
		}
		if j := slices.IndexFunc(eps[:i], func(o registry.Endpoint) bool { return o.URL == ep.URL }); j >= 0 {
			return fmt.Errorf("%s.url: duplicate of endpoints[%d]", field, j)
		}
		if ep.Weight > maxOverrideWeight {
			return fmt.Errorf("%s.weight: must be at most %d, got %d", field, maxOverrideWeight, ep.Weight)
		}
	}
	return nil
}

// Len returns the number of pinned names.
func (o *Overrides) Len() int {
	if o == nil {
		return 0
	}
	return len(o.pins)
}

// has reports whether name is pinned.
func (o *Overrides) has(name string) bool {
	if o == nil {
		return false
	}
	_, ok := o.pins[name]
	return ok
}

// route returns the entry a request for name routes by: registered (the
// registry's entry, nil when the name is not in the replica) with the
// pinned endpoints, and true; or nil and false when name is not pinned.
// It allocates only when the registry's entry changed since the last call.
func (o *Overrides) route(name string, registered *registry.Entry) (*registry.Entry, bool) {
	if o == nil {
		return nil, false
	}
	p, ok := o.pins[name]
	if !ok {
		return nil, false
	}
	if registered == nil {
		return p.bare, true
	}
	if m := p.merged.Load(); m != nil && m.base == registered {
		return m.entry, true
	}
	e := *registered // shares labels and card, both read-only
	e.Endpoints = p.eps
	p.merged.Store(&mergedEntry{base: registered, entry: &e})
	return &e, true
}

// SetOverrides puts o in effect for the requests that start from then on
// (nil removes every override). Before it returns, the agents whose
// override was added, removed or changed are dropped with their pools and
// health state (requests in flight finish on the endpoint they have), so
// that the next request starts afresh on the new endpoints. Safe for
// concurrent use.
func (p *Proxy) SetOverrides(o *Overrides) {
	p.overrides.Store(o)
	p.agents.sync(p.routes)
}

// routes is what requests route by: the replica's index with the
// overrides over it. A value; it holds no lock.
type routes struct {
	ix *registry.Index
	ov *Overrides
}

// lookup returns the entry name routes by: the override's, else the
// registry's.
func (r routes) lookup(name string) (*registry.Entry, bool) {
	e, ok := r.ix.Get(name)
	if !ok {
		e = nil
	}
	if oe, pinned := r.ov.route(name, e); pinned {
		return oe, true
	}
	return e, ok
}

// has reports whether name can be routed.
func (r routes) has(name string) bool {
	if r.ov.has(name) {
		return true
	}
	_, ok := r.ix.Get(name)
	return ok
}
