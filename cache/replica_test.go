package cache

import (
	"context"
	"maps"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/sidecard/sidecard/registry"
)

func TestReplicaStartsEmpty(t *testing.T) {
	r, _, clk := newTestReplica(t)
	s := r.Load()
	if s == nil || s.Len() != 0 || s.Revision() != 0 || len(s.Versions()) != 0 {
		t.Fatalf("new replica: %+v, want an empty snapshot", s)
	}
	if !s.UpdatedAt().Equal(clk.Now()) {
		t.Errorf("UpdatedAt = %v, want %v", s.UpdatedAt(), clk.Now())
	}
}

func TestReplicaApply(t *testing.T) {
	tests := []struct {
		name         string
		seed         []*registry.Entry // applied first, versions "s<revision>"
		delta        func(t *testing.T) Delta
		wantNames    []string
		wantVersions map[string]string
		wantRevision int64
		wantSystem   string
		noop         bool
	}{
		{
			name: "upsert into empty",
			delta: func(t *testing.T) Delta {
				return Delta{Upserts: []*registry.Entry{testEntry(t, "a", 1), testEntry(t, "b", 2)},
					Versions: map[string]string{"a": "v1", "b": "v2"}, SystemVersion: "sys-1"}
			},
			wantNames:    []string{"a", "b"},
			wantVersions: map[string]string{"a": "v1", "b": "v2"},
			wantRevision: 2,
			wantSystem:   "sys-1",
		},
		{
			name: "upsert replaces the entry and its version",
			seed: []*registry.Entry{testEntry(t, "a", 1), testEntry(t, "b", 2)},
			delta: func(t *testing.T) Delta {
				return Delta{Upserts: []*registry.Entry{testEntry(t, "a", 5)}, Versions: map[string]string{"a": "v5"}}
			},
			wantNames:    []string{"a", "b"},
			wantVersions: map[string]string{"a": "v5", "b": "s2"},
			wantRevision: 5,
		},
		{
			name: "remove keeps the highest revision seen",
			seed: []*registry.Entry{testEntry(t, "a", 1), testEntry(t, "b", 7)},
			delta: func(*testing.T) Delta {
				return Delta{Removes: []string{"b"}}
			},
			wantNames:    []string{"a"},
			wantVersions: map[string]string{"a": "s1"},
			wantRevision: 7,
		},
		{
			name: "removing an absent name is ignored",
			seed: []*registry.Entry{testEntry(t, "a", 1)},
			delta: func(*testing.T) Delta {
				return Delta{Removes: []string{"zzz"}}
			},
			wantNames:    []string{"a"},
			wantVersions: map[string]string{"a": "s1"},
			wantRevision: 1,
		},
		{
			name: "a name both upserted and removed ends up removed",
			seed: []*registry.Entry{testEntry(t, "a", 1)},
			delta: func(t *testing.T) Delta {
				return Delta{Upserts: []*registry.Entry{testEntry(t, "a", 2), testEntry(t, "c", 3)},
					Versions: map[string]string{"a": "v2", "c": "v3"}, Removes: []string{"a"}}
			},
			wantNames:    []string{"c"},
			wantVersions: map[string]string{"c": "v3"},
			wantRevision: 3,
		},
		{
			name: "a missing version defaults to the revision",
			delta: func(t *testing.T) Delta {
				return Delta{Upserts: []*registry.Entry{testEntry(t, "a", 9)}}
			},
			wantNames:    []string{"a"},
			wantVersions: map[string]string{"a": "9"},
			wantRevision: 9,
		},
		{
			name: "nil and nameless upserts are ignored",
			delta: func(t *testing.T) Delta {
				return Delta{Upserts: []*registry.Entry{nil, {Revision: 99}, testEntry(t, "a", 1)}}
			},
			wantNames:    []string{"a"},
			wantVersions: map[string]string{"a": "1"},
			wantRevision: 1,
		},
		{
			name: "an older revision does not lower the replica's",
			seed: []*registry.Entry{testEntry(t, "a", 10)},
			delta: func(t *testing.T) Delta {
				return Delta{Upserts: []*registry.Entry{testEntry(t, "b", 3)}, Versions: map[string]string{"b": "v3"}}
			},
			wantNames:    []string{"a", "b"},
			wantVersions: map[string]string{"a": "s10", "b": "v3"},
			wantRevision: 10,
		},
		{
			name:         "an empty delta is a no-op",
			seed:         []*registry.Entry{testEntry(t, "a", 1)},
			delta:        func(*testing.T) Delta { return Delta{SystemVersion: "ignored"} },
			wantNames:    []string{"a"},
			wantVersions: map[string]string{"a": "s1"},
			wantRevision: 1,
			noop:         true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _, clk := newTestReplica(t)
			seedVersions := map[string]string{}
			for _, e := range tt.seed {
				seedVersions[e.Name] = "s" + strconv.FormatInt(e.Revision, 10)
			}
			r.Apply(tt.seed, seedVersions, nil)
			before := r.Load()
			beforeNames, beforeVersions, beforeRev := names(before), before.Versions(), before.Revision()

			clk.Advance(time.Minute)
			got := r.ApplyDelta(tt.delta(t))

			if got != r.Load() {
				t.Fatal("ApplyDelta did not return the published snapshot")
			}
			if tt.noop != (got == before) {
				t.Fatalf("published a new snapshot = %v, want %v", got != before, !tt.noop)
			}
			checkSnapshot(t, got, tt.wantNames, tt.wantVersions, tt.wantRevision)
			if tt.wantSystem != "" && got.SystemVersion() != tt.wantSystem {
				t.Errorf("SystemVersion = %q, want %q", got.SystemVersion(), tt.wantSystem)
			}
			if !tt.noop && !got.UpdatedAt().Equal(clk.Now()) {
				t.Errorf("UpdatedAt = %v, want %v", got.UpdatedAt(), clk.Now())
			}
			// The previous snapshot is untouched.
			checkSnapshot(t, before, beforeNames, beforeVersions, beforeRev)
		})
	}
}

// checkSnapshot fails t unless s holds exactly names with versions and rev.
func checkSnapshot(t *testing.T, s *Snapshot, wantNames []string, wantVersions map[string]string, rev int64) {
	t.Helper()
	if got := names(s); !slices.Equal(got, wantNames) {
		t.Errorf("names = %v, want %v", got, wantNames)
	}
	if s.Len() != len(wantNames) {
		t.Errorf("Len = %d, want %d", s.Len(), len(wantNames))
	}
	got := s.Versions()
	if !maps.Equal(got, wantVersions) {
		t.Errorf("Versions = %v, want %v", got, wantVersions)
	}
	for name, want := range wantVersions {
		if v, ok := s.Version(name); !ok || v != want {
			t.Errorf("Version(%q) = %q, %v; want %q", name, v, ok, want)
		}
	}
	if s.Revision() != rev {
		t.Errorf("Revision = %d, want %d", s.Revision(), rev)
	}
}

func TestReplicaReplace(t *testing.T) {
	r, reg, _ := newTestReplica(t)
	r.Apply([]*registry.Entry{testEntry(t, "a", 1), testEntry(t, "b", 20)}, nil, nil)
	before := r.Load()

	got := r.Replace([]*registry.Entry{testEntry(t, "c", 3), testEntry(t, "d", 4)},
		map[string]string{"c": "vc"})

	checkSnapshot(t, got, []string{"c", "d"}, map[string]string{"c": "vc", "d": "4"}, 4)
	checkSnapshot(t, before, []string{"a", "b"}, map[string]string{"a": "1", "b": "20"}, 20)

	// Writes after a Replace build on the replaced state.
	next := r.Apply(nil, nil, []string{"c"})
	checkSnapshot(t, next, []string{"d"}, map[string]string{"d": "4"}, 4)

	if v := metricValue(t, reg, "sidecard_cache_updates_total", map[string]string{"kind": "replace"}); v != 1 {
		t.Errorf("replace updates = %v, want 1", v)
	}
	if v := metricValue(t, reg, "sidecard_cache_updates_total", map[string]string{"kind": "apply"}); v != 2 {
		t.Errorf("apply updates = %v, want 2", v)
	}
	if v := metricValue(t, reg, "sidecard_cache_replica_entries", nil); v != 1 {
		t.Errorf("entries gauge = %v, want 1", v)
	}
	if v := metricValue(t, reg, "sidecard_cache_replica_revision", nil); v != 4 {
		t.Errorf("revision gauge = %v, want 4", v)
	}
}

func TestReplicaRestore(t *testing.T) {
	src, _, _ := newTestReplica(t)
	saved := src.ApplyDelta(Delta{Upserts: []*registry.Entry{testEntry(t, "a", 1), testEntry(t, "b", 2)},
		Versions: map[string]string{"a": "va", "b": "vb"}, SystemVersion: "sys"})

	r, _, clk := newTestReplica(t)
	clk.Advance(time.Hour)
	got := r.Restore(saved)

	checkSnapshot(t, got, []string{"a", "b"}, map[string]string{"a": "va", "b": "vb"}, 2)
	if !got.UpdatedAt().Equal(saved.UpdatedAt()) || got.SystemVersion() != "sys" {
		t.Errorf("restored UpdatedAt %v system %q, want %v %q",
			got.UpdatedAt(), got.SystemVersion(), saved.UpdatedAt(), "sys")
	}
	// The restored replica and the source evolve independently.
	r.Apply(nil, nil, []string{"a"})
	src.Apply([]*registry.Entry{testEntry(t, "z", 3)}, nil, nil)
	checkSnapshot(t, r.Load(), []string{"b"}, map[string]string{"b": "vb"}, 2)
	checkSnapshot(t, saved, []string{"a", "b"}, map[string]string{"a": "va", "b": "vb"}, 2)
}

func TestReplicaSubscribe(t *testing.T) {
	r, _, _ := newTestReplica(t)
	ch, cancel := r.Subscribe()
	other, cancelOther := r.Subscribe()
	defer cancelOther()

	for i := range 3 {
		r.Apply([]*registry.Entry{testEntry(t, "a", int64(i+1))}, nil, nil)
	}
	if len(ch) != 1 || len(other) != 1 {
		t.Fatalf("pending notifications = %d, %d; want 1 each (coalesced)", len(ch), len(other))
	}
	<-ch
	r.Apply(nil, nil, nil) // no-op: no notification
	if len(ch) != 0 {
		t.Fatal("a no-op apply notified")
	}
	cancel()
	cancel() // idempotent
	r.Apply(nil, nil, []string{"a"})
	if len(ch) != 0 {
		t.Fatal("a cancelled subscription was notified")
	}
	if len(other) != 1 {
		t.Fatal("cancelling one subscription affected another")
	}
}

// TestReplicaConcurrentReaders checks under -race that readers see only
// consistent snapshots while a writer publishes.
func TestReplicaConcurrentReaders(t *testing.T) {
	r, _, _ := newTestReplica(t)
	pool := make([]*registry.Entry, 50)
	for i := range pool {
		pool[i] = testEntry(t, "agent-"+strconv.Itoa(i), int64(i+1))
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	errs := make(chan string, 4)
	for range 4 {
		wg.Go(func() {
			for ctx.Err() == nil {
				if msg := inconsistency(r.Load()); msg != "" {
					errs <- msg
					return
				}
			}
		})
	}
	for i := range 300 {
		e := pool[i%len(pool)]
		if i%3 == 2 {
			r.Apply(nil, nil, []string{e.Name})
		} else {
			r.Apply([]*registry.Entry{e}, map[string]string{e.Name: "v" + strconv.Itoa(i)}, nil)
		}
	}
	cancel()
	wg.Wait()
	close(errs)
	for msg := range errs {
		t.Error(msg)
	}
}

// inconsistency describes how s's entries and versions disagree, or "".
func inconsistency(s *Snapshot) string {
	vs := s.Versions()
	if len(vs) != s.Len() {
		return "versions and entries differ in number"
	}
	msg := ""
	s.Index().Range(func(e *registry.Entry) bool {
		if _, ok := vs[e.Name]; !ok {
			msg = "entry " + e.Name + " has no version"
		}
		return msg == ""
	})
	return msg
}

func BenchmarkReplicaApplyOne(b *testing.B) {
	for _, n := range []int{1_000, 10_000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			r, _, _ := newTestReplica(b)
			proto := testEntry(b, "proto", 1)
			entries := make([]*registry.Entry, n)
			for i := range entries {
				e := *proto
				e.Name = "agent-" + strconv.Itoa(i)
				entries[i] = &e
			}
			r.Replace(entries, nil)
			for i := 0; b.Loop(); i++ {
				e := *entries[i%n]
				e.Revision = int64(i + 2)
				r.Apply([]*registry.Entry{&e}, nil, nil)
			}
		})
	}
}
