package register_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sidecard/sidecard/registry"
	"github.com/sidecard/sidecard/sidecar/register"
)

// testEntry is an entry of cardJSON at url with a lease of ttl seconds.
func testEntry(t *testing.T, name, url string, ttl int64) *registry.Entry {
	t.Helper()
	e, err := registry.ParseEntry([]byte(cardJSON("Echo", url)), name)
	if err != nil {
		t.Fatal(err)
	}
	e.TTLSeconds = ttl
	return e
}

// deadAddr returns a loopback address nothing listens on.
func deadAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func newClient(t *testing.T, opts register.ClientOptions) *register.Client {
	t.Helper()
	c, err := register.NewClient(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// TestClientCalls drives each call against a control plane: what it sends
// and how each answer maps to the errors.
func TestClientCalls(t *testing.T) {
	cp := newFakeCP(t)
	reg := prometheus.NewRegistry()
	c := newClient(t, register.ClientOptions{Addresses: []string{cp.addr()}, Token: "tok-0123456789abcdef",
		NodeID: "host-a", Registerer: reg, Attempts: 1})
	ctx := context.Background()
	e := testEntry(t, "echo", "http://127.0.0.1:9/", 30)

	stored, err := c.Put(ctx, e, 0)
	if err != nil || !stored.Created || stored.Entry.Revision != 1 || stored.Entry.TTLSeconds != 30 ||
		!strings.Contains(string(stored.JSON), `"revision":1`) {
		t.Fatalf("Put = %+v, %v", stored, err)
	}
	h := cp.lastHeader()
	if h.Get("Authorization") != "Bearer tok-0123456789abcdef" || h.Get(register.NodeHeader) != "host-a" ||
		h.Get("Content-Type") != "application/json" {
		t.Errorf("headers sent: %v", h)
	}
	if stored, err = c.Put(ctx, e, 1); err != nil || stored.Created || stored.Entry.Revision != 2 {
		t.Fatalf("conditional Put = %+v, %v", stored, err)
	}
	if _, err := c.Put(ctx, e, 1); !errors.Is(err, register.ErrPrecondition) {
		t.Errorf("stale If-Match: %v, want ErrPrecondition", err)
	}
	got, err := c.Get(ctx, "echo")
	if err != nil || got.Revision != 2 || got.Card.Name != "Echo" || got.Source != registry.SourceAPI {
		t.Errorf("Get = %+v, %v", got, err)
	}
	if _, err := c.Get(ctx, "nobody"); !errors.Is(err, register.ErrNotFound) {
		t.Errorf("Get of a missing entry: %v, want ErrNotFound", err)
	}
	l, err := c.Heartbeat(ctx, "echo")
	if err != nil || l.Name != "echo" || l.TTLSeconds != 30 || l.ExpiresAt.IsZero() {
		t.Errorf("Heartbeat = %+v, %v", l, err)
	}
	if err := c.Delete(ctx, "echo"); err != nil {
		t.Errorf("Delete: %v", err)
	}
	if err := c.Delete(ctx, "echo"); !errors.Is(err, register.ErrNotFound) {
		t.Errorf("second Delete: %v, want ErrNotFound", err)
	}
	if _, err := c.Heartbeat(ctx, "echo"); !errors.Is(err, register.ErrNotFound) {
		t.Errorf("Heartbeat of a deleted entry: %v, want ErrNotFound", err)
	}
	var ae *register.APIError
	if _, err := c.Get(ctx, "echo"); !errors.As(err, &ae) || ae.Status != 404 || ae.Code != "not_found" {
		t.Errorf("APIError of a 404: %+v", ae)
	}
	for _, tt := range []struct {
		status int
		want   error
	}{{401, register.ErrRefused}, {403, register.ErrRefused}, {409, register.ErrConflict}, {400, register.ErrInvalid},
		{503, register.ErrUnavailable}} {
		cp.failWith.Store(int32(tt.status))
		if err := c.Delete(ctx, "echo"); !errors.Is(err, tt.want) {
			t.Errorf("answer %d: %v, want %v", tt.status, err, tt.want)
		}
	}
	cp.failWith.Store(0)
	if n := callsOf(t, reg, "put", "ok"); n != 2 {
		t.Errorf("put ok calls = %v, want 2", n)
	}
	if n := callsOf(t, reg, "delete", "unavailable"); n != 1 {
		t.Errorf("delete unavailable calls = %v, want 1", n)
	}
}

// callsOf returns the calls counter of op and result.
func callsOf(t *testing.T, reg *prometheus.Registry, op, result string) float64 {
	t.Helper()
	return metricValue(t, reg, "sidecard_register_controlplane_calls_total", map[string]string{"op": op, "result": result})
}

// TestClientRetries checks that a call that gets no answer (nothing
// listening, a 503, an attempt past its deadline) goes on to the next
// address with a doubling backoff, and remembers the address that answered.
func TestClientRetries(t *testing.T) {
	cp := newFakeCP(t)
	busy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	t.Cleanup(busy.Close)
	hang := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-hang }))
	t.Cleanup(func() { close(hang); slow.Close() })

	clk := newFakeClock()
	clk.instant = true
	c := newClient(t, register.ClientOptions{
		Addresses:      []string{deadAddr(t), busy.URL, strings.TrimPrefix(slow.URL, "http://"), "http://" + cp.addr()},
		AttemptTimeout: 200 * time.Millisecond, Backoff: 10 * time.Millisecond, Clock: clk,
	})
	e := testEntry(t, "echo", "http://127.0.0.1:9/", 30)
	if _, err := c.Put(context.Background(), e, 0); err != nil {
		t.Fatalf("Put across addresses: %v", err)
	}
	if want := []time.Duration{10 * time.Millisecond, 20 * time.Millisecond, 40 * time.Millisecond}; !equalDurations(clk.Waits(), want) {
		t.Errorf("backoff waits %v, want %v", clk.Waits(), want)
	}
	// The next call starts at the address that answered.
	if err := c.Delete(context.Background(), "echo"); err != nil || len(clk.Waits()) != 3 {
		t.Errorf("Delete: %v after %d waits; want no retry", err, len(clk.Waits()))
	}

	// Every address failing: ErrUnavailable naming the last failure.
	cp.failWith.Store(503)
	one := newClient(t, register.ClientOptions{Addresses: []string{cp.addr()}, Attempts: 2, Clock: clk})
	if err := one.Delete(context.Background(), "echo"); !errors.Is(err, register.ErrUnavailable) ||
		!strings.Contains(err.Error(), "503") {
		t.Errorf("Delete with every answer 503: %v", err)
	}
	// A cancelled context stops the retries.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := one.Delete(ctx, "echo"); !errors.Is(err, register.ErrUnavailable) {
		t.Errorf("Delete with a cancelled context: %v", err)
	}
}

func equalDurations(a, b []time.Duration) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
