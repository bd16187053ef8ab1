package xdsclient

import (
	"bytes"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestKeepaliveDetectsSilentStream cuts the traffic of a live stream without
// closing its connection, as a dead host or a dropped route would: only
// keepalive can notice. It takes gRPC's minimum keepalive time (10 s).
func TestKeepaliveDetectsSilentStream(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for a keepalive timeout (about 11 s)")
	}
	t.Parallel()
	srv := startServer(t, newLinearCache(testAgent("alpha", 1)), listen(t))
	proxy := startProxy(t, srv.addr)
	logs := &syncBuffer{}
	cl := startClient(t, []string{proxy.addr()}, func(o *Options) {
		o.Keepalive = KeepaliveOptions{Time: 10 * time.Second, Timeout: time.Second}
		o.Logger = slog.New(slog.NewTextHandler(logs, nil))
	})
	waitFor(t, "the initial sync", syncWithin, func() bool { return cl.c.Status().ACKs == 1 })

	proxy.blackhole.Store(true)
	cut := time.Now()
	waitFor(t, "keepalive to close the silent stream", 20*time.Second, func() bool { return !cl.c.Status().Connected })
	if took := time.Since(cut); took > 15*time.Second {
		t.Errorf("a silent stream was noticed after %v, want about Time+Timeout (11 s)", took)
	}
	if !strings.Contains(logs.String(), "keepalive") {
		t.Errorf("the stream did not end with a keepalive failure; log:\n%s", logs.String())
	}

	proxy.blackhole.Store(false)
	waitFor(t, "the reconnection", syncWithin, func() bool {
		st := cl.c.Status()
		return st.Connected && st.Reconnects >= 1
	})
}

// blackholeProxy forwards TCP connections to a backend until blackhole is
// set; then it silently drops every byte both ways and closes new
// connections.
type blackholeProxy struct {
	lis       net.Listener
	backend   string
	blackhole atomic.Bool

	mu    sync.Mutex
	conns []net.Conn
	wg    sync.WaitGroup
}

// startProxy proxies to backend until the test ends.
func startProxy(t *testing.T, backend string) *blackholeProxy {
	t.Helper()
	p := &blackholeProxy{lis: listen(t), backend: backend}
	p.wg.Go(p.accept)
	t.Cleanup(func() {
		p.lis.Close()
		p.mu.Lock()
		for _, c := range p.conns {
			c.Close()
		}
		p.mu.Unlock()
		p.wg.Wait()
	})
	return p
}

func (p *blackholeProxy) addr() string { return p.lis.Addr().String() }

// accept serves connections until the listener is closed.
func (p *blackholeProxy) accept() {
	for {
		c, err := p.lis.Accept()
		if err != nil {
			return
		}
		if p.blackhole.Load() {
			c.Close()
			continue
		}
		b, err := net.Dial("tcp", p.backend)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, b)
		p.mu.Unlock()
		p.wg.Go(func() { p.pipe(b, c) })
		p.wg.Go(func() { p.pipe(c, b) })
	}
}

// pipe copies src to dst, dropping bytes while blackhole is set, until
// either side fails; then it closes both.
func (p *blackholeProxy) pipe(dst, src net.Conn) {
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && !p.blackhole.Load() {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
