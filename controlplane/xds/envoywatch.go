package xds

import (
	"context"
	"fmt"
	"log/slog"

	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
)

// envoyTypes are the type URLs an EnvoyCache serves.
var envoyTypes = []string{resourcev3.ListenerType, resourcev3.RouteType, resourcev3.ClusterType, resourcev3.EndpointType}

// typeCaches returns a cachev3.Cache per type URL served, for a MuxCache.
func (c *EnvoyCache) typeCaches() map[string]cachev3.Cache {
	out := make(map[string]cachev3.Cache, len(envoyTypes))
	for _, t := range envoyTypes {
		out[t] = envoyTypeCache{c: c, typeURL: t}
	}
	return out
}

// startFunc creates a watch in one LinearCache.
type startFunc func(*cachev3.LinearCache) (cancel func(), err error)

// pendingWatch is a watch created before the first load. Guarded by the
// EnvoyCache's mutex.
type pendingWatch struct {
	view     *envoyView
	typeURL  string
	wildcard bool
	start    startFunc
	started  bool
	cancel   func() // of the started watch; may be nil
}

// startIn starts a watch in the LinearCache of v for typeURL and counts it
// open in v until it is cancelled.
func startIn(v *envoyView, typeURL string, wildcard bool, start startFunc) (func(), error) {
	lc := v.cache(typeURL, wildcard)
	if lc == nil {
		return nil, fmt.Errorf("envoy cache: type %q is not served", typeURL)
	}
	cancel, err := start(lc)
	if err != nil {
		return nil, err
	}
	return v.track(cancel), nil
}

// watch creates a watch of typeURL with start in the view of node's
// selector, creating the view if needed, or defers it until the first load.
func (c *EnvoyCache) watch(node *core.Node, typeURL string, wildcard bool, start startFunc) (func(), error) {
	sel, err := nodeSelector(node)
	if err != nil {
		c.metrics.refused.WithLabelValues(refusedSelector).Inc()
		return nil, fmt.Errorf("envoy cache: %w", err)
	}
	c.mu.RLock()
	if v := c.views[sel.key]; v != nil && c.loaded {
		defer c.mu.RUnlock() // until the watch is counted: no eviction meanwhile
		v.lastUsed.Store(c.seq.Add(1))
		return startIn(v, typeURL, wildcard, start)
	}
	c.mu.RUnlock()

	c.mu.Lock()
	defer c.mu.Unlock()
	v, err := c.viewLocked(sel)
	if err != nil {
		c.metrics.refused.WithLabelValues(refusedTooMany).Inc()
		return nil, fmt.Errorf("envoy cache: %w", err)
	}
	v.lastUsed.Store(c.seq.Add(1))
	if c.loaded {
		return startIn(v, typeURL, wildcard, start)
	}
	p := &pendingWatch{view: v, typeURL: typeURL, wildcard: wildcard, start: start}
	c.pending[p] = struct{}{}
	return v.track(func() { c.cancelPending(p) }), nil
}

// cancelPending cancels a watch created before the first load, started or
// not.
func (c *EnvoyCache) cancelPending(p *pendingWatch) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !p.started {
		delete(c.pending, p)
		return
	}
	if p.cancel != nil {
		p.cancel()
	}
}

// startPendingLocked starts the watches created before the first load. The
// caller holds c.mu for writing.
func (c *EnvoyCache) startPendingLocked() {
	for p := range c.pending {
		cancel, err := p.start(p.view.cache(p.typeURL, p.wildcard))
		if err != nil {
			c.opts.Logger.Error("envoy xds cache: a watch created before the first load could not start",
				slog.String("type", p.typeURL), slog.String("selector", p.view.sel.key), slog.Any("error", err))
		}
		p.started, p.cancel = true, cancel
	}
	clear(c.pending)
}

// envoyTypeCache is the cachev3.Cache of one Envoy type URL: it hands each
// watch to the LinearCache of that type in the view of the watch's node.
type envoyTypeCache struct {
	c       *EnvoyCache
	typeURL string
}

var _ cachev3.Cache = envoyTypeCache{}

// CreateWatch opens a state-of-the-world watch.
func (t envoyTypeCache) CreateWatch(req *cachev3.Request, sub cachev3.Subscription, ch chan cachev3.Response) (func(), error) {
	return t.c.watch(req.GetNode(), t.typeURL, sub.IsWildcard(), func(lc *cachev3.LinearCache) (func(), error) {
		return lc.CreateWatch(req, sub, ch)
	})
}

// CreateDeltaWatch opens a delta watch.
func (t envoyTypeCache) CreateDeltaWatch(req *cachev3.DeltaRequest, sub cachev3.Subscription,
	ch chan cachev3.DeltaResponse) (func(), error) {
	return t.c.watch(req.GetNode(), t.typeURL, sub.IsWildcard(), func(lc *cachev3.LinearCache) (func(), error) {
		return lc.CreateDeltaWatch(req, sub, ch)
	})
}

// Fetch is the REST xDS entry point, which is not served.
func (t envoyTypeCache) Fetch(context.Context, *cachev3.Request) (cachev3.Response, error) {
	return nil, fmt.Errorf("envoy cache: fetch (REST xDS) is not served for %s", t.typeURL)
}
