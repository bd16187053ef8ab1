package xds

import (
	"fmt"
	"log/slog"

	discovery "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	registryv1 "github.com/sidecard/sidecard/registry/v1"
)

// deltaWatch is one delta watch: what the stream asks for (cur) and what its
// client holds (base, or known versions on the first watch of a stream).
// Guarded by the cache's mutex; a comparison of a first watch reads cur and
// known outside it (see compareFirst).
type deltaWatch struct {
	req *cachev3.DeltaRequest
	ch  chan cachev3.DeltaResponse
	cur view

	// first: the stream has no state yet; known are the client's
	// initial_resource_versions. Its first response is computed outside the
	// mutex, on a snapshot: ready holds it while it waits to be handed
	// over, and comparing is open while answerEarly computes it.
	first     bool
	known     map[string]string
	ready     *readyResponse
	comparing chan struct{}
	// base is what the client holds, as the view old at revision base.w.
	base streamState
	old  view
	// subscribed are the names of this request's resource_names_subscribe,
	// marked those the server marked with an empty version: the client must
	// hear whether they exist. Nil once answered.
	subscribed, marked map[string]struct{}
	// sent is the state the response last handed over brings the client to.
	sent streamState

	open     bool // in the cache's set of open watches
	deferred bool // a response did not fit in ch
}

// CreateDeltaWatch implements cachev3.ConfigWatcher. It answers at once when
// the client lacks something (always on the first watch of a stream, once
// the cache is loaded); otherwise the watch stays open until a change the
// stream sees. It fails with InvalidArgument for a malformed
// node.metadata.selector and Unavailable for a stream the cache cannot bring
// up to date (it must reconnect).
//
// The first watch of a stream compares every resource its view sees with
// the client's initial_resource_versions outside the cache's mutex, on a
// snapshot of the resources: it brings the client to the snapshot's
// revision, and its next watch picks up the changes after it from the
// change log like any other.
func (c *RegistryCache) CreateDeltaWatch(req *cachev3.DeltaRequest, sub cachev3.Subscription,
	ch chan cachev3.DeltaResponse) (func(), error) {
	if err := checkType(req.GetTypeUrl()); err != nil {
		return nil, err
	}
	if _, ok := req.GetInitialResourceVersions()[stateKey]; ok {
		return nil, status.Errorf(codes.InvalidArgument, "initial_resource_versions: %q is not a resource name", stateKey)
	}
	sel, err := nodeSelector(req.GetNode())
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	wt := &deltaWatch{req: req, ch: ch,
		cur: view{sel: sel, wildcard: sub.IsWildcard(), names: sub.SubscribedResources()}}
	cancel := func() { c.cancelDelta(wt) }

	c.mu.Lock()
	if err := c.initDeltaWatch(wt, sub.ReturnedResources()); err != nil {
		c.mu.Unlock()
		return nil, c.resetError(err)
	}
	switch {
	case !c.loaded: // answered once loaded (see answerEarly)
	case wt.first:
		snap := c.snapshotLocked()
		c.mu.Unlock()
		wt.ready = c.compareFirst(wt, snap)
		if c.sendReady(wt) {
			return func() {}, nil
		}
		c.mu.Lock()
		c.deferResponse(&wt.deferred)
	default:
		done, err := c.serveDelta(wt, newMemo(c))
		if err != nil {
			c.mu.Unlock()
			return nil, c.resetError(err)
		}
		if done {
			c.mu.Unlock()
			return func() {}, nil
		}
	}
	c.parkDelta(wt)
	c.mu.Unlock()
	return cancel, nil
}

// cancelDelta removes wt from the open watches and, if answerEarly is
// reading its subscription, waits until it stops: the server changes the
// subscription once the watch is cancelled.
func (c *RegistryCache) cancelDelta(wt *deltaWatch) {
	c.mu.Lock()
	c.removeDelta(wt)
	comparing := wt.comparing
	c.mu.Unlock()
	if comparing != nil {
		<-comparing
	}
}

// initDeltaWatch sets what the client of wt holds from the returned
// resources of its subscription, or from the response last sent on its
// channel by a notification when the server has not applied it yet.
func (c *RegistryCache) initDeltaWatch(wt *deltaWatch, returned map[string]string) error {
	encoded, ours := returned[stateKey]
	var base streamState
	if ours {
		var err error
		if base, err = parseStreamState(encoded, wt.cur.sel); err != nil {
			return err
		}
	}
	hasState := ours
	if fl, ok := c.inflight[wt.ch]; ok {
		delete(c.inflight, wt.ch)
		if !ours || fl.state.w > base.w {
			if fl.reset {
				return errStreamReset
			}
			base, hasState = fl.state, true
		}
	}
	if !hasState {
		wt.first, wt.known = true, returned
		return nil
	}
	wt.base = base
	wt.subscribed = nameSet(wt.req.GetResourceNamesSubscribe())
	wt.old = view{sel: base.sel, wildcard: base.wildcard, names: wt.cur.names,
		plus: wt.subscribed, minus: nameSet(wt.req.GetResourceNamesUnsubscribe())}
	if ours { // otherwise returned holds the client's initial versions, not marks
		for name, v := range returned {
			if v == "" && name != stateKey {
				if wt.marked == nil {
					wt.marked = make(map[string]struct{})
				}
				wt.marked[name] = struct{}{}
			}
		}
	}
	return nil
}

// serveDelta answers wt if its client lacks something, reporting whether wt
// is done. When the client lacks nothing, wt is settled at the cache's
// revision and stays open. A first watch is answered with its ready
// response, once computed (see compareFirst).
func (c *RegistryCache) serveDelta(wt *deltaWatch, memo *memo) (bool, error) {
	if wt.first {
		if wt.ready == nil {
			return false, nil // being compared
		}
		if !c.sendReady(wt) {
			c.deferResponse(&wt.deferred)
			return false, nil
		}
		return true, nil
	}
	changes, err := c.deltaChanges(wt, memo)
	if err != nil {
		return false, err
	}
	if changes.empty() {
		wt.settle(c.revision)
		return false, nil
	}
	state := streamState{w: c.revision, wildcard: wt.cur.wildcard, sel: wt.cur.sel}
	resp := wt.response(changes, state, memo.version)
	select {
	case wt.ch <- resp:
	default:
		c.deferResponse(&wt.deferred)
		return false, nil
	}
	c.handedOver(wt, state, len(changes.resources))
	return true, nil
}

// handedOver records that a response bringing the client of wt to state,
// carrying n resources, is in wt's channel.
func (c *RegistryCache) handedOver(wt *deltaWatch, state streamState, n int) {
	wt.deferred = false
	wt.sent = state
	c.metrics.responses.WithLabelValues(modeDelta).Inc()
	c.metrics.resourcesSent.Add(float64(n))
}

// settle records that the client of wt holds everything its view sees at
// revision rev.
func (wt *deltaWatch) settle(rev int64) {
	wt.first, wt.known = false, nil
	wt.base = streamState{w: rev, wildcard: wt.cur.wildcard, sel: wt.cur.sel}
	wt.old = view{sel: wt.cur.sel, wildcard: wt.cur.wildcard, names: wt.cur.names}
	wt.subscribed, wt.marked = nil, nil
}

// response builds the response carrying changes to the client of wt, at
// revision state.w (version, in decimal); its returned resources hold the
// stream's new state.
func (wt *deltaWatch) response(changes deltaChanges, state streamState, version string) *cachev3.DeltaPassthroughResponse {
	return &cachev3.DeltaPassthroughResponse{
		DeltaRequest:   wt.req,
		NextVersionMap: map[string]string{stateKey: state.encode()},
		DeltaDiscoveryResponse: &discovery.DeltaDiscoveryResponse{
			TypeUrl:           registryv1.TypeURL,
			SystemVersionInfo: version,
			Resources:         changes.resources,
			RemovedResources:  changes.removed,
		},
	}
}

// sendReset answers wt with an empty response whose state makes the stream's
// next watch fail, so that the client reconnects. It reports whether wt is
// done.
func (c *RegistryCache) sendReset(wt *deltaWatch, cause error, memo *memo) bool {
	state := streamState{w: c.revision, wildcard: wt.cur.wildcard, sel: wt.cur.sel}
	resp := wt.response(deltaChanges{}, state, memo.version)
	resp.NextVersionMap[stateKey] = resetState
	select {
	case wt.ch <- resp:
	default:
		c.deferResponse(&wt.deferred)
		return false
	}
	wt.sent = state
	c.opts.Logger.Warn("registry xds stream reset", slog.String("node", wt.req.GetNode().GetId()),
		slog.Any("error", cause))
	c.metrics.streamResets.Inc()
	return true
}

// resetError counts a stream refused by CreateDeltaWatch and returns the
// status error that closes it.
func (c *RegistryCache) resetError(err error) error {
	c.metrics.streamResets.Inc()
	return status.Error(codes.Unavailable, fmt.Sprintf("registry cache: %v", err))
}

// parkDelta adds wt to the open watches.
func (c *RegistryCache) parkDelta(wt *deltaWatch) {
	wt.open = true
	c.delta[wt] = struct{}{}
	c.metrics.watches.Inc()
}

// removeDelta removes wt from the open watches, if it is there.
func (c *RegistryCache) removeDelta(wt *deltaWatch) {
	if !wt.open {
		return
	}
	wt.open = false
	delete(c.delta, wt)
	c.metrics.watches.Dec()
}

// deferResponse records that a response did not fit in its channel and asks
// Run to retry.
func (c *RegistryCache) deferResponse(deferred *bool) {
	*deferred = true
	c.metrics.deferred.Inc()
	c.signalRetry()
}
