package xdsclient

import (
	"slices"
	"testing"
	"time"
)

// slowBackoff makes a reconnection that waited for the backoff take a
// minute at most, so that a prompt one shows it did not wait.
var slowBackoff = BackoffOptions{Initial: time.Minute, Max: time.Minute, ResetAfter: time.Minute}

// moveWithin bounds a reconnection that must not wait for the backoff.
const moveWithin = 5 * time.Second

// SetAddresses keeps a live stream whose address stays configured, and
// moves at once, without a backoff, when its address is dropped.
func TestSetAddressesMovesTheStream(t *testing.T) {
	t.Parallel()
	lc := newLinearCache(testAgent("alpha", 1))
	srvA, srvB := startServer(t, lc, listen(t)), startServer(t, lc, listen(t))
	cl := startClient(t, []string{srvA.addr}, func(o *Options) { o.Backoff = slowBackoff })
	waitFor(t, "the sync with A", syncWithin, func() bool { return cl.c.Status().ACKs == 1 })

	if err := cl.c.SetAddresses([]string{srvB.addr, srvA.addr}); err != nil {
		t.Fatal(err)
	}
	cl.c.mu.Lock()
	moved := cl.c.moved
	cl.c.mu.Unlock()
	if st := cl.c.Status(); moved || !st.Connected || st.Address != srvA.addr {
		t.Fatalf("A still configured: moved=%v, status %+v; want the stream to A kept", moved, st)
	}
	if got := cl.c.Addresses(); !slices.Equal(got, []string{srvB.addr, srvA.addr}) {
		t.Errorf("Addresses() = %v", got)
	}

	if err := cl.c.SetAddresses([]string{srvB.addr}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the stream to move to B", moveWithin, func() bool {
		st := cl.c.Status()
		return st.Connected && st.Address == srvB.addr
	})
	if st := cl.c.Status(); st.Reconnects != 1 || st.LastError != errAddressesChanged.Error() {
		t.Errorf("status after the move: %+v, want 1 reconnect and the reason", st)
	}
	if n := len(srvB.rec.requests()); n == 0 {
		t.Error("B saw no request")
	}
}

// An address dropped while the client waits out its backoff cuts the wait
// short.
func TestSetAddressesDuringBackoff(t *testing.T) {
	t.Parallel()
	dead := listen(t)
	deadAddr := dead.Addr().String()
	dead.Close()
	srv := startServer(t, newLinearCache(testAgent("alpha", 1)), listen(t))
	cl := startClient(t, []string{deadAddr}, func(o *Options) { o.Backoff = slowBackoff })
	waitFor(t, "the failed attempt", syncWithin, func() bool { return cl.c.Status().LastError != "" })

	if err := cl.c.SetAddresses([]string{srv.addr}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the connection to the new address", moveWithin, func() bool {
		st := cl.c.Status()
		return st.Connected && st.Address == srv.addr && st.ACKs == 1
	})
}

func TestSetAddressesRefusesBadLists(t *testing.T) {
	t.Parallel()
	cl := startClient(t, []string{"127.0.0.1:1"}, func(o *Options) { o.Backoff = slowBackoff })
	for _, bad := range [][]string{nil, {}, {"127.0.0.1:2", ""}} {
		if err := cl.c.SetAddresses(bad); err == nil {
			t.Errorf("SetAddresses(%q) = nil, want an error", bad)
		}
	}
	if got := cl.c.Addresses(); !slices.Equal(got, []string{"127.0.0.1:1"}) {
		t.Errorf("Addresses() after refused changes = %v", got)
	}
}
