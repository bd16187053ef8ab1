package xds

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	listener "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	route "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/proto"

	"github.com/sidecard/sidecard/controlplane/envoy"
	"github.com/sidecard/sidecard/registry"
)

// envoyAgent is what the EnvoyCache holds of one entry. Immutable once
// published in EnvoyCache.agents.
type envoyAgent struct {
	// match holds the entry's name and labels only, for selectors.
	match    *registry.Entry
	revision int64
	// res are the agent's resources; nil when the entry could not be
	// translated (the agent is left out of every view).
	res *envoy.AgentResources
	// wire is the wire form of res.VirtualHost and its Routes; nil with res.
	wire *agentWire
}

// in reports whether a (nil for an absent entry) is served in the view of
// sel.
func (a *envoyAgent) in(sel selector) bool {
	return a != nil && a.res != nil && a.match.MatchesSelector(sel.labels)
}

// agentDiff says which of an agent's resources changed between two
// translations.
type agentDiff struct {
	cluster, endpoints, listener, vhost bool
}

// diffAgent compares the resources of next with those of prev (both
// translated) and makes next share prev's messages that are equal, so that
// unchanged resources keep their identity in every cache.
func diffAgent(prev, next *envoyAgent) agentDiff {
	if prev == nil || prev.res == nil || next == nil || next.res == nil {
		return agentDiff{cluster: true, endpoints: true, listener: true, vhost: true}
	}
	p, n := prev.res, next.res
	d := agentDiff{
		cluster:   !proto.Equal(p.Cluster, n.Cluster),
		endpoints: !proto.Equal(p.LoadAssignment, n.LoadAssignment),
		listener:  !proto.Equal(p.APIListener, n.APIListener),
		vhost:     !proto.Equal(p.VirtualHost, n.VirtualHost),
	}
	if !d.cluster {
		n.Cluster = p.Cluster
	}
	if !d.endpoints {
		n.LoadAssignment = p.LoadAssignment
	}
	if !d.listener {
		n.APIListener = p.APIListener
	}
	if !d.vhost {
		n.VirtualHost = p.VirtualHost
		next.wire = prev.wire
	}
	return d
}

// envoyView serves the Envoy resources of the agents a label selector
// matches, one go-control-plane LinearCache per resource set. Its fields
// other than open and lastUsed are guarded by the EnvoyCache's mutex (the
// LinearCaches lock themselves).
type envoyView struct {
	sel selector
	// clusters (CDS), endpoints (EDS) and routes (RDS: the one
	// RouteConfiguration sidecard) of the view's agents.
	clusters, endpoints, routes *cachev3.LinearCache
	// httpListeners holds sidecard_http only and serves wildcard LDS
	// subscriptions (Envoy); apiListeners holds sidecard_http and every
	// agent's ApiListener and serves the others (gRPC clients ask for
	// theirs by name).
	httpListeners, apiListeners *cachev3.LinearCache
	// vhosts are the VirtualHosts of the view's agents, sorted by name.
	vhosts []*route.VirtualHost
	// open counts the watches created in the view (or waiting for the
	// first load) and not cancelled yet. The servers cancel every watch,
	// answered or not, when they re-arm its type or end its stream, so a
	// view without open watches has no stream. (LinearCache's own count
	// cannot tell: it forgets a watch when it answers it, then again when
	// it is cancelled.)
	open atomic.Int64
	// lastUsed is the EnvoyCache's watch sequence at the view's last watch.
	lastUsed atomic.Uint64
}

// newEnvoyView returns the view of sel holding members (sorted by name, all
// in the view, their wire form in x). Versions of its sotw responses start
// with prefix.
func newEnvoyView(sel selector, prefix string, http *listener.Listener, members []*envoyAgent,
	x *wireIndex) (*envoyView, error) {
	n := len(members)
	clusters := make(map[string]types.Resource, n)
	endpoints := make(map[string]types.Resource, n)
	listeners := make(map[string]types.Resource, n+1)
	vhosts := make([]*route.VirtualHost, 0, n)
	for _, a := range members {
		c := envoy.ClusterName(a.match.Name)
		clusters[c] = a.res.Cluster
		endpoints[c] = a.res.LoadAssignment
		listeners[a.match.Name] = a.res.APIListener
		vhosts = append(vhosts, a.res.VirtualHost)
	}
	listeners[envoy.HTTPListenerName] = http
	rc, err := routeConfiguration(vhosts, x)
	if err != nil {
		return nil, fmt.Errorf("view of selector %s: %w", sel.key, err)
	}
	linear := func(typeURL string, initial map[string]types.Resource) *cachev3.LinearCache {
		return cachev3.NewLinearCache(typeURL, cachev3.WithVersionPrefix(prefix), cachev3.WithInitialResources(initial))
	}
	return &envoyView{
		sel:           sel,
		clusters:      linear(resourcev3.ClusterType, clusters),
		endpoints:     linear(resourcev3.EndpointType, endpoints),
		routes:        linear(resourcev3.RouteType, map[string]types.Resource{envoy.RouteConfigName: rc}),
		httpListeners: linear(resourcev3.ListenerType, map[string]types.Resource{envoy.HTTPListenerName: http}),
		apiListeners:  linear(resourcev3.ListenerType, listeners),
		vhosts:        vhosts,
	}, nil
}

// cache returns the LinearCache serving typeURL to a subscription, wildcard
// or not; nil for a type the view does not serve.
func (v *envoyView) cache(typeURL string, wildcard bool) *cachev3.LinearCache {
	switch typeURL {
	case resourcev3.ClusterType:
		return v.clusters
	case resourcev3.EndpointType:
		return v.endpoints
	case resourcev3.RouteType:
		return v.routes
	case resourcev3.ListenerType:
		if wildcard {
			return v.httpListeners
		}
		return v.apiListeners
	}
	return nil
}

// idle reports whether no watch is open or waiting on the view.
func (v *envoyView) idle() bool { return v.open.Load() == 0 }

// track counts a watch as open in v until the returned function, which
// calls cancel (unless nil), is first called.
func (v *envoyView) track(cancel func()) func() {
	v.open.Add(1)
	var once sync.Once
	return func() {
		once.Do(func() {
			v.open.Add(-1)
			if cancel != nil {
				cancel()
			}
		})
	}
}

// viewUpdate collects what a batch of changes does to one view.
type viewUpdate struct {
	// clusters, endpoints and listeners to set, by resource name.
	clusters, endpoints, listeners map[string]types.Resource
	// removed are the agents leaving the view: their cluster, load
	// assignment and listener are deleted.
	removed []string
	// members is set when the view's VirtualHosts changed: the route
	// configuration is reassembled.
	members bool
}

// setResource records a resource to set in one of u's maps, allocating it.
func setResource(m *map[string]types.Resource, name string, r types.Resource) {
	if *m == nil {
		*m = make(map[string]types.Resource)
	}
	(*m)[name] = r
}

// change records in u what the change of an agent from prev to next (nil
// when absent; d their diff) does to v, and updates v.vhosts.
func (v *envoyView) change(u *viewUpdate, prev, next *envoyAgent, d agentDiff) {
	wasIn, isIn := prev.in(v.sel), next.in(v.sel)
	switch {
	case wasIn && isIn:
		name, c := next.match.Name, envoy.ClusterName(next.match.Name)
		if d.cluster {
			setResource(&u.clusters, c, next.res.Cluster)
		}
		if d.endpoints {
			setResource(&u.endpoints, c, next.res.LoadAssignment)
		}
		if d.listener {
			setResource(&u.listeners, name, next.res.APIListener)
		}
		if d.vhost {
			i, _ := v.findVHost(name)
			v.vhosts[i] = next.res.VirtualHost
			u.members = true
		}
	case wasIn:
		u.removed = append(u.removed, prev.match.Name)
		if i, ok := v.findVHost(prev.match.Name); ok {
			v.vhosts = slices.Delete(v.vhosts, i, i+1)
		}
		u.members = true
	case isIn:
		name, c := next.match.Name, envoy.ClusterName(next.match.Name)
		setResource(&u.clusters, c, next.res.Cluster)
		setResource(&u.endpoints, c, next.res.LoadAssignment)
		setResource(&u.listeners, name, next.res.APIListener)
		i, _ := v.findVHost(name)
		v.vhosts = slices.Insert(v.vhosts, i, next.res.VirtualHost)
		u.members = true
	}
}

// findVHost returns the index of the VirtualHost of agent name in v.vhosts,
// or where it would be inserted, and whether it is there.
func (v *envoyView) findVHost(name string) (int, bool) {
	return slices.BinarySearchFunc(v.vhosts, name, func(vh *route.VirtualHost, n string) int {
		return strings.Compare(vh.GetName(), n)
	})
}

// publish hands u to v's caches, which answer their watches: additions and
// changes first, then the route configuration (encoded with x), then
// removals, so that a client never routes to a cluster it has not received
// yet nor keeps a route to a removed one. It returns the first error of a
// cache (an open watch could not be answered) after publishing everything
// else.
func (v *envoyView) publish(u *viewUpdate, x *wireIndex) error {
	var errs []error
	update := func(lc *cachev3.LinearCache, set map[string]types.Resource, del []string) {
		if len(set) == 0 && len(del) == 0 {
			return
		}
		if err := lc.UpdateResources(set, del); err != nil {
			errs = append(errs, err)
		}
	}
	update(v.clusters, u.clusters, nil)
	update(v.endpoints, u.endpoints, nil)
	update(v.apiListeners, u.listeners, nil)
	if u.members {
		rc, err := routeConfiguration(v.vhosts, x)
		if err != nil {
			errs = append(errs, err)
		} else {
			update(v.routes, map[string]types.Resource{envoy.RouteConfigName: rc}, nil)
		}
	}
	if len(u.removed) > 0 {
		clusters := make([]string, len(u.removed))
		for i, name := range u.removed {
			clusters[i] = envoy.ClusterName(name)
		}
		update(v.apiListeners, nil, u.removed)
		update(v.endpoints, nil, clusters)
		update(v.clusters, nil, clusters)
	}
	if len(errs) > 0 {
		return fmt.Errorf("publish to the view of selector %s: %w", v.sel.key, errs[0])
	}
	return nil
}

// routeConfiguration returns the shared RouteConfiguration of vhosts (sorted
// by name, from translated agents indexed in x), pre-encoded.
func routeConfiguration(vhosts []*route.VirtualHost, x *wireIndex) (*route.RouteConfiguration, error) {
	rc, err := envoy.RouteConfiguration(vhosts)
	if err != nil {
		return nil, err
	}
	return x.encode(rc)
}
