package xds

import "time"

// notifyLocked answers every open watch whose client lacks something, after
// changes were applied (or to retry deferred responses). The caller holds
// c.mu. The cost is proportional to the open watches times the changes since
// their watermarks, with the work shared by settled wildcard streams of the
// same selector; first watches are compared elsewhere, outside the mutex
// (first.go), and only handed over here when they were deferred.
func (c *RegistryCache) notifyLocked() {
	now := c.now()
	for ch, fl := range c.inflight {
		if now.Sub(fl.at) > inflightTTL {
			delete(c.inflight, ch)
		}
	}
	memo := newMemo(c)
	for wt := range c.delta {
		done, err := c.serveDelta(wt, memo)
		reset := err != nil
		if reset {
			done = c.sendReset(wt, err, memo)
		}
		if done {
			c.answeredLocked(wt, reset, now)
		}
	}
	for wt := range c.sotw {
		if c.serveSotw(wt, memo) {
			wt.open = false
			delete(c.sotw, wt)
			c.metrics.watches.Dec()
		}
	}
}

// answeredLocked removes wt, whose response (a reset one if reset) was just
// handed over outside CreateDeltaWatch, from the open watches. The server
// may apply that response after the stream's next CreateDeltaWatch: it is
// remembered (see initDeltaWatch). The caller holds c.mu.
func (c *RegistryCache) answeredLocked(wt *deltaWatch, reset bool, now time.Time) {
	c.removeDelta(wt)
	c.inflight[wt.ch] = inflight{state: wt.sent, reset: reset, at: now}
}
