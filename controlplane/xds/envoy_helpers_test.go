package xds

import (
	"maps"
	"slices"
	"testing"
	"time"

	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discovery "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"github.com/envoyproxy/go-control-plane/pkg/server/stream/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/sidecard/sidecard/registry"
)

// startEnvoyCache runs an EnvoyCache on feed until the test ends and waits
// for it to load.
func startEnvoyCache(t testing.TB, feed Feed, opts EnvoyCacheOptions) *EnvoyCache {
	t.Helper()
	c, err := NewEnvoyCache(feed, opts)
	if err != nil {
		t.Fatal(err)
	}
	startFollower(t, c)
	return c
}

// runEnvoyCache runs c until the test ends.
func runEnvoyCache(t testing.TB, c *EnvoyCache) { runFollower(t, c) }

// waitEnvoy waits until c has applied revision rev.
func waitEnvoy(t testing.TB, c *EnvoyCache, rev int64) {
	t.Helper()
	waitRevision(t, "envoy cache", c, rev)
}

// resources returns what the view of selector key holds of typeURL (for
// listeners, the named-subscription set), by name.
func (c *EnvoyCache) resources(key, typeURL string) map[string]types.Resource {
	c.mu.RLock()
	defer c.mu.RUnlock()
	v := c.views[key]
	if v == nil {
		return nil
	}
	return v.cache(typeURL, false).GetResources()
}

// legacyWildcard reports whether the Server lets typeURL use legacy wildcard.
func legacyWildcard(typeURL string) bool { return !slices.Contains(noLegacyWildcard, typeURL) }

// sotwWatcher drives state-of-the-world watches of one type on a cache as
// go-control-plane's sotw server does for one stream.
type sotwWatcher struct {
	t       testing.TB
	cache   cachev3.Cache
	typeURL string
	node    *core.Node
	names   []string
	sub     stream.Subscription
	ch      chan cachev3.Response
	version string
	cancel  func()
}

// newSotw returns a watcher of typeURL on c for node, subscribed to names
// (none: legacy wildcard for LDS and CDS).
func newSotw(t testing.TB, c *EnvoyCache, typeURL string, n *core.Node, names ...string) *sotwWatcher {
	return &sotwWatcher{t: t, cache: c.typeCaches()[typeURL], typeURL: typeURL, node: n, names: names,
		sub: stream.NewSotwSubscription(names, legacyWildcard(typeURL)), ch: make(chan cachev3.Response, 1)}
}

// watch opens the next watch (the request that ACKs the last response) and
// returns CreateWatch's error.
func (w *sotwWatcher) watch() error {
	if w.cancel != nil {
		w.cancel()
	}
	var err error
	w.cancel, err = w.cache.CreateWatch(&discovery.DiscoveryRequest{
		TypeUrl: w.typeURL, Node: w.node, ResourceNames: w.names, VersionInfo: w.version,
	}, w.sub, w.ch)
	return err
}

// mustWatch is watch failing the test on error.
func (w *sotwWatcher) mustWatch() {
	w.t.Helper()
	if err := w.watch(); err != nil {
		w.t.Fatalf("CreateWatch(%s): %v", w.typeURL, err)
	}
}

// close cancels the open watch.
func (w *sotwWatcher) close() {
	if w.cancel != nil {
		w.cancel()
		w.cancel = nil
	}
}

// take receives the next response, records it as sent and returns its
// resources by name.
func (w *sotwWatcher) take() map[string]proto.Message {
	w.t.Helper()
	return decodeAll(w.t, w.takeRaw().GetResources())
}

// takeRaw receives the next response, records it as sent and returns it
// marshalled, as the server sends it.
func (w *sotwWatcher) takeRaw() *discovery.DiscoveryResponse {
	w.t.Helper()
	select {
	case resp := <-w.ch:
		w.sub.SetReturnedResources(resp.GetReturnedResources())
		w.version = resp.GetResponseVersion()
		out, err := resp.GetDiscoveryResponse()
		if err != nil {
			w.t.Fatal(err)
		}
		return out
	case <-time.After(waitFor):
		w.t.Fatalf("no %s response", w.typeURL)
		return nil
	}
}

// pending reports whether a response waits in the channel.
func (w *sotwWatcher) pending() bool { return len(w.ch) > 0 }

// deltaWatcher drives delta watches of one type on a cache as
// go-control-plane's delta server does for one stream.
type deltaWatcher struct {
	t       testing.TB
	cache   cachev3.Cache
	typeURL string
	node    *core.Node
	sub     stream.Subscription
	ch      chan cachev3.DeltaResponse
	cancel  func()
	nonce   string // of the last response taken
}

// newDelta returns a watcher of typeURL on c for node, subscribed to names.
func newDelta(t testing.TB, c *EnvoyCache, typeURL string, n *core.Node, names ...string) *deltaWatcher {
	return &deltaWatcher{t: t, cache: c.typeCaches()[typeURL], typeURL: typeURL, node: n,
		sub: stream.NewDeltaSubscription(names, nil, nil, legacyWildcard(typeURL)), ch: make(chan cachev3.DeltaResponse, 1)}
}

// mustWatch opens the next watch.
func (w *deltaWatcher) mustWatch() {
	w.t.Helper()
	if w.cancel != nil {
		w.cancel()
	}
	var err error
	w.cancel, err = w.cache.CreateDeltaWatch(&discovery.DeltaDiscoveryRequest{
		TypeUrl: w.typeURL, Node: w.node, ResponseNonce: w.nonce,
	}, w.sub, w.ch)
	if err != nil {
		w.t.Fatalf("CreateDeltaWatch(%s): %v", w.typeURL, err)
	}
}

// take receives the next response, records it as sent and returns its
// resources by name and its removed names, sorted.
func (w *deltaWatcher) take() (map[string]proto.Message, []string) {
	w.t.Helper()
	select {
	case resp := <-w.ch:
		w.sub.SetReturnedResources(resp.GetReturnedResources())
		w.nonce = "ack" // the next request ACKs it
		out, err := resp.GetDeltaDiscoveryResponse()
		if err != nil {
			w.t.Fatal(err)
		}
		anys := make([]*anypb.Any, len(out.GetResources()))
		for i, r := range out.GetResources() {
			anys[i] = r.GetResource()
		}
		return decodeAll(w.t, anys), slices.Sorted(slices.Values(out.GetRemovedResources()))
	case <-time.After(waitFor):
		w.t.Fatalf("no %s delta response", w.typeURL)
		return nil, nil
	}
}

// decodeAll unpacks resources by name.
func decodeAll(t testing.TB, anys []*anypb.Any) map[string]proto.Message {
	t.Helper()
	out := make(map[string]proto.Message, len(anys))
	for _, a := range anys {
		m, err := a.UnmarshalNew()
		if err != nil {
			t.Fatal(err)
		}
		out[cachev3.GetResourceName(m)] = m
	}
	return out
}

// names returns the sorted keys of m.
func names[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

// agentAt returns an entry named name with one endpoint at addr.
func agentAt(name, addr string, labels ...string) *registry.Entry {
	e := entry(name, labels...)
	e.Endpoints = []registry.Endpoint{{URL: "http://" + addr, Weight: 1}}
	return e
}
