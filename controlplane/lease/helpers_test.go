package lease

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sidecard/sidecard/controlplane/store"
	"github.com/sidecard/sidecard/registry"
)

var _ Store = (*store.Bolt)(nil)

// fakeClock is a Clock that moves only when told to. It remembers the
// deadline of the latest After, which is what a running Expirer waits for.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []waiter
	last    time.Time // deadline of the latest After
}

type waiter struct {
	at time.Time
	ch chan time.Time
}

var t0 = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

func newFakeClock() *fakeClock { return &fakeClock{now: t0} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	c.last = c.now.Add(d)
	if d <= 0 {
		ch <- c.now
		return ch
	}
	c.waiters = append(c.waiters, waiter{at: c.last, ch: ch})
	return ch
}

// set moves the clock to now, firing the waiters due by then.
func (c *fakeClock) set(now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = now
	pending := c.waiters[:0]
	for _, w := range c.waiters {
		if w.at.After(now) {
			pending = append(pending, w)
			continue
		}
		w.ch <- now
	}
	c.waiters = pending
}

// waiting returns the deadline of the latest After.
func (c *fakeClock) waiting() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last
}

// eventually polls cond until it holds, failing the test after a deadline.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// waitsFor waits until the Expirer's latest timer is due at 'at'.
func waitsFor(t *testing.T, clk *fakeClock, at time.Time) {
	t.Helper()
	eventually(t, fmt.Sprintf("a timer due at %v (latest: %v)", at, clk.waiting()),
		func() bool { return clk.waiting().Equal(at) })
}

// syncBuffer is a bytes.Buffer safe for a logger and a test to share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// records returns the logged JSON records.
func (b *syncBuffer) records(t *testing.T) []map[string]any {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	dec := json.NewDecoder(bytes.NewReader(b.buf.Bytes()))
	for dec.More() {
		var r map[string]any
		if err := dec.Decode(&r); err != nil {
			t.Fatalf("decode log: %v", err)
		}
		out = append(out, r)
	}
	return out
}

// env is a store on the fake clock and an Expirer of it.
type env struct {
	clk   *fakeClock
	store *store.Bolt
	reg   *prometheus.Registry
	logs  *syncBuffer
}

func newEnv(t *testing.T) *env {
	t.Helper()
	clk := newFakeClock()
	s, err := store.Open(filepath.Join(t.TempDir(), "registry.db"), store.Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return &env{clk: clk, store: s, reg: prometheus.NewPedanticRegistry(), logs: &syncBuffer{}}
}

// start builds an Expirer of st with opts (metrics and logs going to the
// env) and runs it until the test ends, checking that Run returns nil.
func (e *env) start(t *testing.T, st Store, opts Options) *Expirer {
	t.Helper()
	opts.Clock, opts.Registerer = e.clk, e.reg
	opts.Logger = slog.New(slog.NewJSONHandler(e.logs, nil))
	x, err := New(st, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- x.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("Run did not return after cancel")
		}
	})
	return x
}

// put stores an entry called name with ttl_seconds ttl.
func (e *env) put(t *testing.T, name string, ttl int64) *registry.Entry {
	t.Helper()
	card := fmt.Sprintf(`{"protocolVersion":"0.3.0","name":%q,"description":"d","url":"http://10.0.0.7:9001",`+
		`"version":"1.0.0","capabilities":{},"defaultInputModes":["text/plain"],"defaultOutputModes":["text/plain"],`+
		`"skills":[{"id":"s","name":"S","description":"d","tags":["t"]}]}`, name)
	en, err := registry.ParseEntry(fmt.Appendf(nil, `{"name":%q,"ttl_seconds":%d,"card":%s}`, name, ttl, card), "")
	if err != nil {
		t.Fatal(err)
	}
	stored, _, err := e.store.Put(t.Context(), en, store.Precondition{})
	if err != nil {
		t.Fatal(err)
	}
	return stored
}

// has reports whether the store holds name.
func (e *env) has(t *testing.T, name string) bool {
	t.Helper()
	_, err := e.store.Get(name)
	return err == nil
}

// metric returns the value of a counter or gauge of the env's registry.
func (e *env) metric(t *testing.T, name string) float64 {
	t.Helper()
	families, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		m := f.GetMetric()[0]
		if m.GetCounter() != nil {
			return m.GetCounter().GetValue()
		}
		return m.GetGauge().GetValue()
	}
	t.Fatalf("metric %s not registered", name)
	return 0
}
