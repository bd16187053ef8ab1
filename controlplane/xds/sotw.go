package xds

import (
	discovery "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/anypb"

	registryv1 "github.com/sidecard/sidecard/registry/v1"
)

// sotwWatch is one state-of-the-world watch. Guarded by the cache's mutex.
type sotwWatch struct {
	req *cachev3.Request
	ch  chan cachev3.Response
	cur view
	// known are the returned resources of the subscription: what the last
	// response sent holds (see sotwResponse). Read only.
	known map[string]string
	// checked: w is set, and the client holds the current state of what it
	// sees as of revision w, or pending is set.
	checked bool
	w       int64
	pending bool // the client lacks something: respond

	open     bool
	deferred bool
}

// CreateWatch implements cachev3.ConfigWatcher for state-of-the-world
// streams. A response carries every resource the stream sees (wildcard: all
// entries its selector matches; otherwise the named ones it sees), with the
// cache's revision as version_info. It is sent at once on the first request
// of a stream, after a change of the names or the selector, or when a change
// the stream sees happened since its last response; otherwise the watch stays
// open until there is one. A NACKed response is not sent again.
func (c *RegistryCache) CreateWatch(req *cachev3.Request, sub cachev3.Subscription, ch chan cachev3.Response) (func(), error) {
	if err := checkType(req.GetTypeUrl()); err != nil {
		return nil, err
	}
	sel, err := nodeSelector(req.GetNode())
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	wt := &sotwWatch{req: req, ch: ch, known: sub.ReturnedResources(),
		cur: view{sel: sel, wildcard: sub.IsWildcard(), names: sub.SubscribedResources()}}

	c.mu.Lock()
	defer c.mu.Unlock()
	if c.loaded && c.serveSotw(wt, newMemo(c)) {
		return func() {}, nil
	}
	wt.open = true
	c.sotw[wt] = struct{}{}
	c.metrics.watches.Inc()
	return func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		if wt.open {
			wt.open = false
			delete(c.sotw, wt)
			c.metrics.watches.Dec()
		}
	}, nil
}

// serveSotw answers wt if its client lacks something, reporting whether wt
// is done.
func (c *RegistryCache) serveSotw(wt *sotwWatch, memo *memo) bool {
	if !wt.pending {
		wt.pending = c.sotwLacks(wt)
		wt.checked, wt.w = true, c.revision
	}
	if !wt.pending {
		return false
	}
	resp := c.sotwResponse(wt, memo)
	select {
	case wt.ch <- resp:
	default:
		c.deferResponse(&wt.deferred)
		return false
	}
	wt.deferred = false
	c.metrics.responses.WithLabelValues(modeSotw).Inc()
	c.metrics.resourcesSent.Add(float64(len(resp.DiscoveryResponse.GetResources())))
	return true
}

// sotwLacks reports whether the client of wt lacks something it sees: on the
// first check, from its known state; then from the changes since wt.w.
func (c *RegistryCache) sotwLacks(wt *sotwWatch) bool {
	if !wt.checked {
		if wt.cur.wildcard {
			return c.sotwWildcardLacks(wt)
		}
		return c.sotwNamesLack(wt)
	}
	return c.sotwChangedSince(wt, wt.w)
}

// sotwWildcardLacks checks a wildcard watch against the state its last
// response recorded.
func (c *RegistryCache) sotwWildcardLacks(wt *sotwWatch) bool {
	encoded, ok := wt.known[stateKey]
	if !ok {
		return true
	}
	s, err := parseStreamState(encoded, wt.cur.sel)
	if err != nil || !s.wildcard || s.sel.key != wt.cur.sel.key || s.w > c.revision {
		return true
	}
	return c.sotwChangedSince(wt, s.w)
}

// sotwNamesLack checks a watch of named resources against the versions its
// last response recorded ("" for a name it did not carry).
func (c *RegistryCache) sotwNamesLack(wt *sotwWatch) bool {
	if _, wasWildcard := wt.known[stateKey]; wasWildcard {
		return true
	}
	if len(wt.known) == 0 && wt.req.GetVersionInfo() == "" {
		return true // first request: always answered
	}
	for name := range wt.cur.names {
		if held, ok := wt.known[name]; !ok || held != c.visibleVersion(&wt.cur, name) {
			return true
		}
	}
	return false
}

// sotwChangedSince reports whether an entry the watch sees, or saw at
// revision w, changed after w.
func (c *RegistryCache) sotwChangedSince(wt *sotwWatch, w int64) bool {
	if !c.log.covers(w) {
		return true
	}
	changed := false
	c.log.since(w, func(rec *record) bool {
		if wt.cur.wildcard {
			changed = wt.cur.wants(rec.prev) || wt.cur.wants(c.resources.get(rec.name).matchOrNil())
		} else if wt.cur.named(rec.name) {
			changed = wt.known[rec.name] != c.visibleVersion(&wt.cur, rec.name)
		}
		return !changed
	})
	return changed
}

// visibleVersion returns the version of name as v sees it, "" when v does
// not see it.
func (c *RegistryCache) visibleVersion(v *view, name string) string {
	r := c.resources.get(name)
	if !v.wants(r.matchOrNil()) {
		return ""
	}
	return r.version()
}

// sotwResponse builds the full-state response for wt. Its returned
// resources record what it holds: for wildcard, the stream state; otherwise
// the version of each subscribed name ("" when absent or not visible).
func (c *RegistryCache) sotwResponse(wt *sotwWatch, memo *memo) *cachev3.PassthroughResponse {
	var resources []*anypb.Any
	var returned map[string]string
	if wt.cur.wildcard {
		resources = memo.fullState(wt.cur.sel)
		state := streamState{w: c.revision, wildcard: true, sel: wt.cur.sel}
		returned = map[string]string{stateKey: state.encode()}
	} else {
		returned = make(map[string]string, len(wt.cur.names))
		for name := range wt.cur.names {
			v := c.visibleVersion(&wt.cur, name)
			returned[name] = v
			if v != "" {
				resources = append(resources, c.resources.get(name).wire.GetResource())
			}
		}
	}
	return &cachev3.PassthroughResponse{
		Request: wt.req,
		DiscoveryResponse: &discovery.DiscoveryResponse{
			VersionInfo: memo.version,
			Resources:   resources,
			TypeUrl:     registryv1.TypeURL,
		},
		ReturnedResources: returned,
	}
}
