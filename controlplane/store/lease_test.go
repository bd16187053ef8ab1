package store

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	bolt "go.etcd.io/bbolt"

	"github.com/sidecard/sidecard/registry"
)

// manualClock is a fake clock that moves only when told to.
type manualClock struct {
	mu  sync.Mutex
	now time.Time
}

func newManualClock() *manualClock {
	return &manualClock{now: time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)}
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *manualClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// withTTL returns e with ttl_seconds set.
func withTTL(e *registry.Entry, ttl int64) *registry.Entry {
	e.TTLSeconds = ttl
	return e
}

// sec is n seconds.
func sec(n int) time.Duration { return time.Duration(n) * time.Second }

// checkLease checks that name's lease expires at want (the zero time: no lease).
func checkLease(t *testing.T, s *Bolt, name string, want time.Time) {
	t.Helper()
	l, ok, err := s.Lease(name)
	switch {
	case err != nil:
		t.Fatalf("Lease(%q): %v", name, err)
	case want.IsZero() && ok:
		t.Errorf("Lease(%q) = %v, want none", name, l.Expiry)
	case !want.IsZero() && (!ok || !l.Expiry.Equal(want)):
		t.Errorf("Lease(%q) = %v (ok %v), want %v", name, l.Expiry, ok, want)
	}
}

// mustExpire runs ExpireDue(now) and checks the names it expired.
func mustExpire(t *testing.T, s *Bolt, now time.Time, want ...string) {
	t.Helper()
	got, err := s.ExpireDue(t.Context(), now)
	if err != nil {
		t.Fatalf("ExpireDue(%v): %v", now, err)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("ExpireDue(%v) = %v, want %v", now, got, want)
	}
}

// checkDeletions checks that the feed after rev holds exactly the deletions
// of names, in order, at consecutive revisions.
func checkDeletions(t *testing.T, s *Bolt, rev int64, names ...string) {
	t.Helper()
	changes, err := s.Changes(rev, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != len(names) {
		t.Fatalf("feed after %d has %d changes, want the %d deletions %v", rev, len(changes), len(names), names)
	}
	for i, c := range changes {
		if c.Revision != rev+int64(i)+1 || c.Name != names[i] || c.Entry != nil {
			t.Errorf("change %d = {rev %d, %q, entry %v}, want the deletion of %q at %d",
				i, c.Revision, c.Name, c.Entry != nil, names[i], rev+int64(i)+1)
		}
	}
}

// drain empties the LeaseWritten slot and reports whether it was full.
func drain(s *Bolt) bool {
	select {
	case <-s.LeaseWritten():
		return true
	default:
		return false
	}
}

func TestLeaseExpiry(t *testing.T) {
	clk := newManualClock()
	t0 := clk.Now()
	s := open(t, Options{Now: clk.Now})
	mustPut(t, s, withTTL(entry(t, "weather"), 30), Precondition{})
	mustPut(t, s, entry(t, "static"), Precondition{})

	checkLease(t, s, "weather", t0.Add(sec(30)))
	checkLease(t, s, "static", time.Time{})
	if next, ok := s.NextExpiry(); !ok || !next.Equal(t0.Add(sec(30))) {
		t.Errorf("NextExpiry = %v, %v; want %v", next, ok, t0.Add(sec(30)))
	}
	if n := s.LeaseCount(); n != 1 {
		t.Errorf("LeaseCount = %d, want 1", n)
	}

	rev := s.Revision()
	mustExpire(t, s, t0.Add(sec(30)-time.Nanosecond))
	mustExpire(t, s, t0.Add(sec(30)), "weather")
	checkDeletions(t, s, rev, "weather")
	if _, err := s.Get("weather"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get(weather) after expiry: %v, want ErrNotFound", err)
	}
	if _, err := s.Get("static"); err != nil {
		t.Errorf("Get(static): %v", err)
	}
	checkLease(t, s, "weather", time.Time{})
	if next, ok := s.NextExpiry(); ok {
		t.Errorf("NextExpiry = %v with no lease left", next)
	}
	if n := s.LeaseCount(); n != 0 {
		t.Errorf("LeaseCount = %d, want 0", n)
	}
}

func TestRenew(t *testing.T) {
	clk := newManualClock()
	t0 := clk.Now()
	s := open(t, Options{Now: clk.Now})
	stored := mustPut(t, s, withTTL(entry(t, "weather"), 30), Precondition{})
	drain(s)
	clk.advance(sec(20))
	changed := s.Changed()

	l, err := s.Renew(t.Context(), "weather", Precondition{Source: registry.SourceAPI, MatchRevision: stored.Revision})
	if err != nil {
		t.Fatalf("Renew: %v", err)
	}
	if want := (Lease{Expiry: t0.Add(sec(50)), TTL: sec(30)}); !l.Expiry.Equal(want.Expiry) || l.TTL != want.TTL {
		t.Errorf("Renew = %+v, want %+v", l, want)
	}
	checkLease(t, s, "weather", t0.Add(sec(50)))
	if rev := s.Revision(); rev != stored.Revision {
		t.Errorf("revision after Renew = %d, want %d (no new revision)", rev, stored.Revision)
	}
	if closed(changed) {
		t.Error("Renew woke the readers of Changed")
	}
	if drain(s) {
		t.Error("Renew signalled LeaseWritten")
	}
	checkDeletions(t, s, stored.Revision)
	got, err := s.Get("weather")
	if err != nil {
		t.Fatal(err)
	}
	if !got.UpdatedAt.Equal(stored.UpdatedAt) || got.Revision != stored.Revision {
		t.Errorf("entry after Renew: updated_at %v revision %d, want %v and %d",
			got.UpdatedAt, got.Revision, stored.UpdatedAt, stored.Revision)
	}

	mustExpire(t, s, t0.Add(sec(30)))
	mustExpire(t, s, t0.Add(sec(50)), "weather")
	checkDeletions(t, s, stored.Revision, "weather")
}

func TestRenewErrors(t *testing.T) {
	tests := []struct {
		name    string
		renew   string
		p       Precondition
		wantErr error
	}{
		{name: "absent", renew: "nobody", wantErr: ErrNotFound},
		{name: "no ttl", renew: "static", wantErr: ErrNoLease},
		{name: "owned by another source", renew: "from-file", p: Precondition{Source: registry.SourceAPI}, wantErr: ErrOwned},
		{name: "stale revision", renew: "weather", p: Precondition{MatchRevision: 7}, wantErr: ErrPrecondition},
		{name: "absent with a revision", renew: "nobody", p: Precondition{MatchRevision: 1}, wantErr: ErrPrecondition},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk := newManualClock()
			t0 := clk.Now()
			s := open(t, Options{Now: clk.Now})
			mustPut(t, s, withTTL(entry(t, "weather"), 30), Precondition{})
			mustPut(t, s, entry(t, "static"), Precondition{})
			mustPut(t, s, withTTL(entry(t, "from-file"), 30), Precondition{Source: registry.SourceFile})
			clk.advance(sec(10))
			if _, err := s.Renew(t.Context(), tc.renew, tc.p); !errors.Is(err, tc.wantErr) {
				t.Fatalf("Renew error = %v, want %v", err, tc.wantErr)
			}
			checkLease(t, s, "weather", t0.Add(sec(30)))
			checkLease(t, s, "from-file", t0.Add(sec(30)))
		})
	}
}

func TestPutLease(t *testing.T) {
	t0 := newManualClock().Now()
	put := func(e *registry.Entry) func(*testing.T, *Bolt) {
		return func(t *testing.T, s *Bolt) { mustPut(t, s, e, Precondition{}) }
	}
	tests := []struct {
		name       string
		before     func(*testing.T, *Bolt) // at t0
		write      func(*testing.T, *Bolt) // at t0 + 5 s
		wantExpiry time.Time               // zero: no lease
		wantChange bool                    // the write made a revision
		wantSignal bool                    // the write signalled LeaseWritten
	}{
		{
			name: "put with ttl creates a lease", write: put(withTTL(entry(t, "weather"), 30)),
			wantExpiry: t0.Add(sec(35)), wantChange: true, wantSignal: true,
		},
		{
			name: "put without ttl has none", write: put(entry(t, "weather")), wantChange: true,
		},
		{
			name: "put with ttl 0 clears the lease", before: put(withTTL(entry(t, "weather"), 30)),
			write: put(entry(t, "weather")), wantChange: true,
		},
		{
			name: "new ttl restarts the lease", before: put(withTTL(entry(t, "weather"), 30)),
			write: put(withTTL(entry(t, "weather"), 10)), wantExpiry: t0.Add(sec(15)), wantChange: true, wantSignal: true,
		},
		{
			name: "identical put renews without a revision", before: put(withTTL(entry(t, "weather"), 30)),
			write: put(withTTL(entry(t, "weather"), 30)), wantExpiry: t0.Add(sec(35)),
		},
		{
			name: "delete removes the lease", before: put(withTTL(entry(t, "weather"), 30)),
			write: func(t *testing.T, s *Bolt) {
				if _, err := s.Delete(t.Context(), "weather", Precondition{}); err != nil {
					t.Fatal(err)
				}
			},
			wantChange: true,
		},
		{
			name: "apply creates a lease",
			write: func(t *testing.T, s *Bolt) {
				if _, err := s.Apply(t.Context(), "file", []*registry.Entry{withTTL(entry(t, "weather"), 30)}, nil); err != nil {
					t.Fatal(err)
				}
			},
			wantExpiry: t0.Add(sec(35)), wantChange: true, wantSignal: true,
		},
		{
			name: "apply delete removes the lease",
			before: func(t *testing.T, s *Bolt) {
				mustPut(t, s, withTTL(entry(t, "weather"), 30), Precondition{Source: "file"})
			},
			write: func(t *testing.T, s *Bolt) {
				if _, err := s.Apply(t.Context(), "file", nil, []string{"weather"}); err != nil {
					t.Fatal(err)
				}
			},
			wantChange: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk := newManualClock()
			s := open(t, Options{Now: clk.Now})
			if tc.before != nil {
				tc.before(t, s)
			}
			clk.advance(sec(5))
			drain(s)
			rev := s.Revision()
			tc.write(t, s)

			checkLease(t, s, "weather", tc.wantExpiry)
			if changed := s.Revision() != rev; changed != tc.wantChange {
				t.Errorf("revision %d -> %d; want a change: %v", rev, s.Revision(), tc.wantChange)
			}
			if signalled := drain(s); signalled != tc.wantSignal {
				t.Errorf("LeaseWritten signalled: %v, want %v", signalled, tc.wantSignal)
			}
			wantCount := 0
			if !tc.wantExpiry.IsZero() {
				wantCount = 1
			}
			if n := s.LeaseCount(); n != wantCount {
				t.Errorf("LeaseCount = %d, want %d", n, wantCount)
			}
			next, ok := s.NextExpiry()
			if ok != !tc.wantExpiry.IsZero() || (ok && !next.Equal(tc.wantExpiry)) {
				t.Errorf("NextExpiry = %v, %v; want %v", next, ok, tc.wantExpiry)
			}
		})
	}
}

func TestLeaseRestartGrace(t *testing.T) {
	tests := []struct {
		name       string
		downtime   time.Duration // the clock moves by this while the store is closed
		wantExpiry time.Duration // after t0
	}{
		// Closed with the lease due in 1 s, reopened 10 s past its expiry: one
		// TTL (5 s) from the reopening.
		{name: "down past the expiry", downtime: sec(11), wantExpiry: sec(4 + 11 + 5)},
		{name: "down for no time", downtime: 0, wantExpiry: sec(4 + 5)},
		{name: "clock went back", downtime: -time.Hour, wantExpiry: sec(5)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk := newManualClock()
			t0 := clk.Now()
			path := filepath.Join(t.TempDir(), "registry.db")
			s := openAt(t, path, Options{Now: clk.Now})
			mustPut(t, s, withTTL(entry(t, "weather"), 5), Precondition{})
			mustPut(t, s, entry(t, "static"), Precondition{})
			clk.advance(sec(4))
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			clk.advance(tc.downtime)

			s = openAt(t, path, Options{Now: clk.Now})
			want := t0.Add(tc.wantExpiry)
			checkLease(t, s, "weather", want)
			if n := s.LeaseCount(); n != 1 {
				t.Errorf("LeaseCount after reopen = %d, want 1", n)
			}
			rev := s.Revision()
			mustExpire(t, s, clk.Now())
			mustExpire(t, s, want.Add(-time.Nanosecond))
			mustExpire(t, s, want, "weather")
			checkDeletions(t, s, rev, "weather")
		})
	}
}

func TestLeasesCreatedForOldFiles(t *testing.T) {
	clk := newManualClock()
	path := filepath.Join(t.TempDir(), "registry.db")
	s := openAt(t, path, Options{Now: clk.Now})
	mustPut(t, s, withTTL(entry(t, "weather"), 30), Precondition{})
	mustPut(t, s, entry(t, "static"), Precondition{})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Make the file look like one written before leases were stored.
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		return errors.Join(tx.DeleteBucket(bucketLeases), tx.DeleteBucket(bucketExpiry))
	})
	if err := errors.Join(err, db.Close()); err != nil {
		t.Fatal(err)
	}

	clk.advance(sec(100))
	s = openAt(t, path, Options{Now: clk.Now})
	checkLease(t, s, "weather", clk.Now().Add(sec(30)))
	checkLease(t, s, "static", time.Time{})
	if n := s.LeaseCount(); n != 1 {
		t.Errorf("LeaseCount = %d, want 1", n)
	}
}

func TestExpireDueBatches(t *testing.T) {
	const n = expireBatch + 88
	reg := prometheus.NewPedanticRegistry()
	clk := newManualClock()
	t0 := clk.Now()
	s := open(t, Options{Now: clk.Now, Registerer: reg})
	puts := make([]*registry.Entry, n)
	names := make([]string, n)
	for i := range puts {
		names[i] = fmt.Sprintf("agent-%04d", i)
		puts[i] = withTTL(entry(t, names[i]), 10)
	}
	if _, err := s.Apply(t.Context(), "file", puts, nil); err != nil {
		t.Fatal(err)
	}
	mustPut(t, s, withTTL(entry(t, "later"), 20), Precondition{})
	if _, err := s.Renew(t.Context(), "later", Precondition{}); err != nil {
		t.Fatal(err)
	}
	rev := s.Revision()
	mustExpire(t, s, t0.Add(sec(10)), names...)
	checkDeletions(t, s, rev, names...)
	if c := s.LeaseCount(); c != 1 {
		t.Errorf("LeaseCount = %d, want 1", c)
	}
	got := gather(t, reg)
	for name, want := range map[string]float64{
		`sidecard_store_writes_total{op="expire"}`: 2,
		`sidecard_store_writes_total{op="renew"}`:  1,
		"sidecard_store_entries":                   1,
	} {
		if got[name] != want {
			t.Errorf("%s = %v, want %v", name, got[name], want)
		}
	}
}
