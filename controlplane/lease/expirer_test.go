package lease

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sidecard/sidecard/controlplane/store"
)

func TestNew(t *testing.T) {
	s := newEnv(t).store
	reg := prometheus.NewRegistry()
	if _, err := New(s, Options{Registerer: reg}); err != nil {
		t.Fatalf("first New: %v", err)
	}
	tests := []struct {
		name string
		st   Store
		opts Options
	}{
		{name: "nil store", opts: Options{}},
		{name: "negative retry", st: s, opts: Options{RetryInterval: -time.Second}},
		{name: "metrics registered twice", st: s, opts: Options{Registerer: reg}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := New(tc.st, tc.opts); err == nil {
				t.Fatal("New succeeded, want an error")
			}
		})
	}
}

func TestRunTwice(t *testing.T) {
	e := newEnv(t)
	e.put(t, "weather", 10)
	x := e.start(t, e.store, Options{})
	waitsFor(t, e.clk, t0.Add(10*time.Second)) // the first Run is running
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := x.Run(ctx); err == nil {
		t.Fatal("second Run succeeded, want an error")
	}
}

func TestExpiry(t *testing.T) {
	e := newEnv(t)
	e.put(t, "weather", 10)
	e.put(t, "static", 0)
	e.start(t, e.store, Options{})
	if got := e.metric(t, "sidecard_lease_active"); got != 1 {
		t.Errorf("sidecard_lease_active = %v, want 1", got)
	}
	waitsFor(t, e.clk, t0.Add(10*time.Second))
	rev := e.store.Revision()

	e.clk.set(t0.Add(10 * time.Second))
	eventually(t, "the expiry to be counted", func() bool { return e.metric(t, "sidecard_lease_expired_total") == 1 })
	if e.has(t, "weather") || !e.has(t, "static") {
		t.Errorf("after expiry: weather stored %v, static stored %v; want false, true", e.has(t, "weather"), e.has(t, "static"))
	}
	changes, err := e.store.Changes(rev, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 1 || changes[0].Name != "weather" || changes[0].Entry != nil || changes[0].Revision != rev+1 {
		t.Errorf("feed after expiry = %+v, want the deletion of weather at %d", changes, rev+1)
	}
	if got := e.metric(t, "sidecard_lease_active"); got != 0 {
		t.Errorf("sidecard_lease_active = %v, want 0", got)
	}
	var logged bool
	for _, r := range e.logs.records(t) {
		logged = logged || (r["level"] == "INFO" && r["name"] == "weather" && strings.Contains(r["msg"].(string), "expired"))
	}
	if !logged {
		t.Errorf("no info line for the expiry of weather; logs: %v", e.logs.records(t))
	}
}

func TestWakesForShorterLease(t *testing.T) {
	e := newEnv(t)
	e.put(t, "long", 60)
	e.start(t, e.store, Options{})
	waitsFor(t, e.clk, t0.Add(60*time.Second))

	e.put(t, "short", 5)
	waitsFor(t, e.clk, t0.Add(5*time.Second))
	e.clk.set(t0.Add(5 * time.Second))
	eventually(t, "short to expire", func() bool { return !e.has(t, "short") })
	if !e.has(t, "long") {
		t.Error("long expired with short")
	}
	waitsFor(t, e.clk, t0.Add(60*time.Second))
}

func TestRenewalPostpones(t *testing.T) {
	e := newEnv(t)
	e.put(t, "weather", 10)
	e.start(t, e.store, Options{})
	waitsFor(t, e.clk, t0.Add(10*time.Second))

	e.clk.set(t0.Add(5 * time.Second))
	if _, err := e.store.Renew(t.Context(), "weather", store.Precondition{}); err != nil {
		t.Fatal(err)
	}
	e.clk.set(t0.Add(10 * time.Second)) // the old expiry: the Expirer wakes and finds nothing due
	waitsFor(t, e.clk, t0.Add(15*time.Second))
	if !e.has(t, "weather") || e.metric(t, "sidecard_lease_expired_total") != 0 {
		t.Fatal("weather expired at its old expiry despite the renewal")
	}
	e.clk.set(t0.Add(15 * time.Second))
	eventually(t, "weather to expire", func() bool { return !e.has(t, "weather") })
}

func TestExpiresOverdueAtStart(t *testing.T) {
	e := newEnv(t)
	e.put(t, "weather", 10)
	e.clk.set(t0.Add(time.Minute))
	e.start(t, e.store, Options{})
	eventually(t, "weather to expire", func() bool { return !e.has(t, "weather") })
}

// flakyStore fails the first fails calls of ExpireDue.
type flakyStore struct {
	*store.Bolt
	mu    sync.Mutex
	fails int
}

func (f *flakyStore) ExpireDue(ctx context.Context, now time.Time) ([]string, error) {
	f.mu.Lock()
	fail := f.fails > 0
	if fail {
		f.fails--
	}
	f.mu.Unlock()
	if fail {
		return nil, errors.New("disk full")
	}
	return f.Bolt.ExpireDue(ctx, now)
}

func TestRetriesAfterFailure(t *testing.T) {
	e := newEnv(t)
	e.put(t, "weather", 10)
	e.start(t, &flakyStore{Bolt: e.store, fails: 1}, Options{RetryInterval: 3 * time.Second})
	waitsFor(t, e.clk, t0.Add(10*time.Second))

	e.clk.set(t0.Add(10 * time.Second))
	waitsFor(t, e.clk, t0.Add(13*time.Second))
	if got := e.metric(t, "sidecard_lease_expire_failures_total"); got != 1 || !e.has(t, "weather") {
		t.Fatalf("after a failed expiry: failures %v, weather stored %v; want 1, true", got, e.has(t, "weather"))
	}
	var logged bool
	for _, r := range e.logs.records(t) {
		logged = logged || (r["level"] == "ERROR" && strings.Contains(r["error"].(string), "disk full"))
	}
	if !logged {
		t.Errorf("the failure was not logged; logs: %v", e.logs.records(t))
	}
	e.clk.set(t0.Add(13 * time.Second))
	eventually(t, "weather to expire on retry", func() bool { return !e.has(t, "weather") })
}
