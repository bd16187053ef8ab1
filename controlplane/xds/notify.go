package xds

// notifyLocked answers every open watch whose client lacks something, after
// changes were applied (or to retry deferred responses). The caller holds
// c.mu. The cost is proportional to the open watches times the changes since
// their watermarks, with the work shared by settled wildcard streams of the
// same selector.
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
		if !done {
			continue
		}
		c.removeDelta(wt)
		// The server may apply this response after the stream's next
		// CreateDeltaWatch: remember it (see initDeltaWatch).
		c.inflight[wt.ch] = inflight{
			state: streamState{w: c.revision, wildcard: wt.cur.wildcard, sel: wt.cur.sel},
			reset: reset,
			at:    now,
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
