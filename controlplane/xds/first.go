package xds

import (
	"context"
	"runtime"
	"strconv"

	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
)

// readyResponse is the first response of a delta stream, computed outside
// the cache's mutex, and the state it brings the client to.
type readyResponse struct {
	resp  *cachev3.DeltaPassthroughResponse
	state streamState
}

// compareFirst computes the first response of wt without the mutex: what its
// client, holding the known versions, lacks for its view in snap. The
// response brings the client to snap.rev; the stream's next watch gets what
// changed since from the change log. It reads only snap and wt's view and
// known versions, which nothing changes meanwhile.
func (c *RegistryCache) compareFirst(wt *deltaWatch, snap *snapshot) *readyResponse {
	if c.comparing != nil {
		c.comparing()
	}
	c.metrics.fullComparisons.WithLabelValues(fullFirstWatch).Inc()
	changes := compareKnown(snap.set, &wt.cur, wt.known)
	state := streamState{w: snap.rev, wildcard: wt.cur.wildcard, sel: wt.cur.sel}
	return &readyResponse{resp: wt.response(changes, state, strconv.FormatInt(snap.rev, 10)), state: state}
}

// sendReady hands the ready response of the first watch wt over, reporting
// whether it fit in the channel. The caller holds c.mu, or is the only one to
// know wt.
func (c *RegistryCache) sendReady(wt *deltaWatch) bool {
	select {
	case wt.ch <- wt.ready.resp:
	default:
		return false
	}
	c.handedOver(wt, wt.ready.state, len(wt.ready.resp.DeltaDiscoveryResponse.GetResources()))
	wt.ready = nil
	return true
}

// answerEarly answers the first watches created before the first load, which
// CreateDeltaWatch could not: on up to GOMAXPROCS goroutines, which Run waits
// for before it returns, each compared outside the mutex on a snapshot taken
// when its turn comes, while Run goes on following the feed. A watch
// cancelled before its turn is skipped. They stop taking watches once ctx is
// done.
func (c *RegistryCache) answerEarly(ctx context.Context, watches []*deltaWatch) {
	n := min(len(watches), runtime.GOMAXPROCS(0))
	for i := range n {
		c.early.Go(func() {
			for j := i; j < len(watches) && ctx.Err() == nil; j += n {
				c.answerEarlyOne(watches[j])
			}
		})
	}
}

// answerEarlyOne answers the parked first watch wt unless it was cancelled.
// While it compares, wt.comparing is open: the server changes the stream's
// subscription (which the comparison reads) only once cancelDelta returned.
func (c *RegistryCache) answerEarlyOne(wt *deltaWatch) {
	c.mu.Lock()
	if !wt.open {
		c.mu.Unlock()
		return
	}
	snap := c.snapshotLocked()
	wt.comparing = make(chan struct{})
	c.mu.Unlock()

	ready := c.compareFirst(wt, snap)

	c.mu.Lock()
	defer c.mu.Unlock()
	close(wt.comparing)
	wt.comparing = nil
	if !wt.open {
		return
	}
	wt.ready = ready
	if !c.sendReady(wt) {
		c.deferResponse(&wt.deferred)
		return
	}
	c.answeredLocked(wt, false, c.now())
}

// earlyWatchesLocked returns the open first watches that wait for a
// comparison: those created before the first load. The caller holds c.mu.
func (c *RegistryCache) earlyWatchesLocked() []*deltaWatch {
	var out []*deltaWatch
	for wt := range c.delta {
		if wt.first && wt.ready == nil && wt.comparing == nil {
			out = append(out, wt)
		}
	}
	return out
}
