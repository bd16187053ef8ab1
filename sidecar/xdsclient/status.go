package xdsclient

import "time"

// Status is a point-in-time view of a Client's stream, for /v1/status and
// `sidecard status`. It is a copy owned by the caller.
type Status struct {
	// Connected is true while a stream to a control plane is open.
	Connected bool
	// Address is the control plane of the live stream, or of the last
	// attempt ("" before the first).
	Address string
	// ConnectedSince is when the live stream opened; zero when not connected.
	ConnectedSince time.Time
	// DisconnectedAt is when the last stream ended or attempt failed; zero
	// before the first failure.
	DisconnectedAt time.Time
	// LastError says why the last stream ended or attempt failed.
	LastError string
	// LastNACK is the error sent with the last rejected response, and
	// LastNACKAt when.
	LastNACK   string
	LastNACKAt time.Time
	// ACKs and NACKs count the responses accepted and rejected since New.
	ACKs  uint64
	NACKs uint64
	// Reconnects counts stream attempts after a failed or ended stream.
	Reconnects uint64
}

// Status returns the client's current status.
func (c *Client) Status() Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.status
}

// DownSince reports whether the client has no live stream and since when:
// since New until the first stream opens, and since the last stream ended.
// It is lock-free and cheap enough to call on every lookup.
func (c *Client) DownSince() (time.Time, bool) {
	ns := c.downSince.Load()
	if ns == 0 {
		return time.Time{}, false
	}
	return time.Unix(0, ns), true
}

// streamUp records that a stream to addr opened.
func (c *Client) streamUp(addr string) {
	c.mu.Lock()
	c.status.Connected = true
	c.status.Address = addr
	c.status.ConnectedSince = c.opts.Now()
	c.mu.Unlock()
	c.downSince.Store(0)
	c.metrics.connected.Set(1)
}

// streamDown records that the stream or the attempt to addr ended with err.
func (c *Client) streamDown(addr string, err error) {
	c.mu.Lock()
	c.status.Connected = false
	c.status.Address = addr
	c.status.ConnectedSince = time.Time{}
	c.status.DisconnectedAt = c.opts.Now()
	c.status.LastError = err.Error()
	c.mu.Unlock()
	c.downSince.CompareAndSwap(0, c.status.DisconnectedAt.UnixNano())
	c.metrics.connected.Set(0)
}

// stopped records that Run returned: no stream is open any more.
func (c *Client) stopped() {
	c.mu.Lock()
	c.status.Connected = false
	c.status.ConnectedSince = time.Time{}
	c.mu.Unlock()
	c.downSince.CompareAndSwap(0, c.opts.Now().UnixNano())
	c.metrics.connected.Set(0)
}

// recordAttempt records that a new attempt follows a failure.
func (c *Client) recordAttempt() {
	c.mu.Lock()
	c.status.Reconnects++
	c.mu.Unlock()
	c.metrics.reconnects.Inc()
}

// recordACK records an accepted response.
func (c *Client) recordACK() {
	c.mu.Lock()
	c.status.ACKs++
	c.mu.Unlock()
}

// recordNACK records a rejected response and why.
func (c *Client) recordNACK(err error) {
	c.mu.Lock()
	c.status.NACKs++
	c.status.LastNACK = err.Error()
	c.status.LastNACKAt = c.opts.Now()
	c.mu.Unlock()
	c.metrics.nacks.Inc()
}
