package cache

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sidecard/sidecard/registry"
)

func TestPersisterOptionsValidate(t *testing.T) {
	r, _, _ := newTestReplica(t)
	tests := []struct {
		name string
		opts PersisterOptions
		ok   bool
	}{
		{"complete", PersisterOptions{Replica: r, Path: "x/replica.json"}, true},
		{"no replica", PersisterOptions{Path: "replica.json"}, false},
		{"no path", PersisterOptions{Replica: r}, false},
		{"negative interval", PersisterOptions{Replica: r, Path: "p", Interval: -time.Second}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewPersister(tt.opts)
			if (err == nil) != tt.ok {
				t.Fatalf("NewPersister error = %v, want ok %v", err, tt.ok)
			}
		})
	}
}

// persisterRig is a replica, a persister on a fake clock and its Run.
type persisterRig struct {
	r    *Replica
	clk  *fakeClock
	reg  *prometheus.Registry
	path string
	stop func() error // cancels Run and returns its error
}

// newPersisterRig starts a persister of path; setup, when not nil, runs on
// the replica before Run starts.
func newPersisterRig(t *testing.T, path string, setup func(*Replica)) *persisterRig {
	t.Helper()
	r, _, clk := newTestReplica(t)
	if setup != nil {
		setup(r)
	}
	reg := prometheus.NewRegistry()
	p, err := NewPersister(PersisterOptions{Replica: r, Path: path, Interval: 500 * time.Millisecond,
		Registerer: reg, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	var once sync.Once
	var runErr error
	stop := func() error {
		once.Do(func() {
			cancel()
			select {
			case runErr = <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("Run did not return after cancel")
			}
		})
		return runErr
	}
	t.Cleanup(func() { stop() })
	return &persisterRig{r: r, clk: clk, reg: reg, path: path, stop: stop}
}

func (g *persisterRig) writes(t *testing.T, result string) float64 {
	return metricValue(t, g.reg, "sidecard_cache_persist_total", map[string]string{"result": result})
}

// onDisk returns the names in the replica file.
func (g *persisterRig) onDisk(t *testing.T) []string {
	t.Helper()
	s, err := LoadFile(g.path)
	if err != nil {
		t.Fatal(err)
	}
	return names(s)
}

func TestPersisterDebouncesBursts(t *testing.T) {
	g := newPersisterRig(t, filepath.Join(t.TempDir(), "replica.json"), nil)

	// The first update after a quiet period is written at once.
	g.r.Apply([]*registry.Entry{testEntry(t, "a", 1)}, nil, nil)
	waitFor(t, "the first write", func() bool { return g.writes(t, resultOK) == 1 })
	if got := g.onDisk(t); !slices.Equal(got, []string{"a"}) {
		t.Fatalf("on disk %v, want [a]", got)
	}

	// A burst within the interval is coalesced into one later write.
	for _, n := range []string{"b", "c", "d", "e"} {
		g.r.Apply([]*registry.Entry{testEntry(t, n, 2)}, nil, nil)
	}
	waitFor(t, "a scheduled write", func() bool { return g.clk.Waiters() == 1 })
	if v := g.writes(t, resultOK); v != 1 {
		t.Fatalf("writes before the interval passed = %v, want 1", v)
	}
	g.clk.Advance(500 * time.Millisecond)
	waitFor(t, "the coalesced write", func() bool { return g.writes(t, resultOK) == 2 })
	if got := g.onDisk(t); !slices.Equal(got, []string{"a", "b", "c", "d", "e"}) {
		t.Fatalf("on disk %v, want [a b c d e]", got)
	}

	// Nothing is dirty: shutdown writes nothing more.
	if err := g.stop(); err != nil {
		t.Fatal(err)
	}
	if v := g.writes(t, resultOK); v != 2 {
		t.Errorf("writes = %v, want 2", v)
	}
	if v := metricValue(t, g.reg, "sidecard_cache_persist_duration_seconds", nil); v != 2 {
		t.Errorf("duration observations = %v, want 2", v)
	}
}

func TestPersisterFinalWriteOnShutdown(t *testing.T) {
	g := newPersisterRig(t, filepath.Join(t.TempDir(), "replica.json"), nil)
	g.r.Apply([]*registry.Entry{testEntry(t, "a", 1)}, nil, nil)
	waitFor(t, "the first write", func() bool { return g.writes(t, resultOK) == 1 })
	g.r.Apply([]*registry.Entry{testEntry(t, "b", 2)}, nil, nil)
	waitFor(t, "a scheduled write", func() bool { return g.clk.Waiters() == 1 })

	if err := g.stop(); err != nil {
		t.Fatal(err)
	}
	if got := g.onDisk(t); !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("on disk after shutdown %v, want [a b]", got)
	}
}

func TestPersisterRetriesFailedWrites(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "missing")
	g := newPersisterRig(t, filepath.Join(dir, "replica.json"), nil)
	g.r.Apply([]*registry.Entry{testEntry(t, "a", 1)}, nil, nil)
	waitFor(t, "a failed write", func() bool { return g.writes(t, resultError) == 1 })
	waitFor(t, "a retry to be scheduled", func() bool { return g.clk.Waiters() == 1 })

	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	g.clk.Advance(500 * time.Millisecond)
	waitFor(t, "the retried write", func() bool { return g.writes(t, resultOK) == 1 })
	if got := g.onDisk(t); !slices.Equal(got, []string{"a"}) {
		t.Fatalf("on disk %v, want [a]", got)
	}
}

func TestPersisterRemovesLeftoverTemps(t *testing.T) {
	dir := t.TempDir()
	leftover := filepath.Join(dir, "replica.json"+tempInfix+"42")
	unrelated := filepath.Join(dir, "other.json"+tempInfix+"42")
	mustWrite(t, leftover, []byte("partial"))
	mustWrite(t, unrelated, []byte("not ours"))

	newPersisterRig(t, filepath.Join(dir, "replica.json"), nil)
	waitFor(t, "the leftover to be removed", func() bool {
		_, err := os.Stat(leftover)
		return os.IsNotExist(err)
	})
	if _, err := os.Stat(unrelated); err != nil {
		t.Errorf("unrelated file: %v", err)
	}
}

func TestPersisterRestartWarm(t *testing.T) {
	path := filepath.Join(t.TempDir(), "replica.json")
	first := newPersisterRig(t, path, nil)
	first.r.ApplyDelta(Delta{Upserts: []*registry.Entry{testEntry(t, "a", 4)},
		Versions: map[string]string{"a": "va"}, SystemVersion: "s"})
	if err := first.stop(); err != nil {
		t.Fatal(err)
	}

	// A restarted sidecar restores the file; its persister does not rewrite it.
	saved, err := LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	second := newPersisterRig(t, path, func(r *Replica) { r.Restore(saved) })
	checkSnapshot(t, second.r.Load(), []string{"a"}, map[string]string{"a": "va"}, 4)
	if err := second.stop(); err != nil {
		t.Fatal(err)
	}
	if v := second.writes(t, resultOK); v != 0 {
		t.Errorf("writes of a restored, unchanged replica = %v, want 0", v)
	}
}
