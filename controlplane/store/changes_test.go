package store

import (
	"errors"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/sidecard/sidecard/registry"
)

// feed fills s with five changes: put a (1), put b (2), update a (3),
// delete b (4), put c (5).
func feed(t *testing.T, s *Bolt) {
	t.Helper()
	mustPut(t, s, entry(t, "a"), Precondition{})
	mustPut(t, s, entry(t, "b"), Precondition{})
	mustPut(t, s, entry(t, "a", "team", "x"), Precondition{})
	if _, err := s.Delete(t.Context(), "b", Precondition{}); err != nil {
		t.Fatal(err)
	}
	mustPut(t, s, entry(t, "c"), Precondition{})
}

// describe renders changes as "rev:name" or "rev:-name" for deletions.
func describe(changes []Change) []string {
	out := []string{}
	for _, c := range changes {
		sign := ""
		if c.Entry == nil {
			sign = "-"
		} else if c.Entry.Revision != c.Revision || c.Entry.Name != c.Name {
			sign = "?"
		}
		out = append(out, strconv.FormatInt(c.Revision, 10)+":"+sign+c.Name)
	}
	return out
}

func TestChanges(t *testing.T) {
	s := open(t, Options{})
	feed(t, s)
	tests := []struct {
		name  string
		after int64
		limit int
		want  []string
	}{
		{name: "all", after: 0, want: []string{"1:a", "2:b", "3:a", "4:-b", "5:c"}},
		{name: "negative after is from the start", after: -3, want: []string{"1:a", "2:b", "3:a", "4:-b", "5:c"}},
		{name: "after a revision", after: 2, want: []string{"3:a", "4:-b", "5:c"}},
		{name: "limited", after: 0, limit: 2, want: []string{"1:a", "2:b"}},
		{name: "limit beyond the end", after: 3, limit: 10, want: []string{"4:-b", "5:c"}},
		{name: "negative limit is no limit", after: 1, limit: -1, want: []string{"2:b", "3:a", "4:-b", "5:c"}},
		{name: "at the latest revision", after: 5, want: []string{}},
		{name: "beyond the latest revision", after: 9, want: []string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.Changes(tc.after, tc.limit)
			if err != nil {
				t.Fatalf("Changes: %v", err)
			}
			if d := describe(got); !slices.Equal(d, tc.want) {
				t.Errorf("Changes(%d, %d) = %v, want %v", tc.after, tc.limit, d, tc.want)
			}
		})
	}
	t.Run("entries are as stored at their revision", func(t *testing.T) {
		got, err := s.Changes(0, 3)
		if err != nil {
			t.Fatal(err)
		}
		if got[0].Entry.Labels["team"] != "" || got[2].Entry.Labels["team"] != "x" {
			t.Errorf("labels at revisions 1 and 3 = %v, %v", got[0].Entry.Labels, got[2].Entry.Labels)
		}
	})
}

func TestCompaction(t *testing.T) {
	path := filepath.Join(t.TempDir(), "registry.db")
	s := openAt(t, path, Options{History: 3})
	feed(t, s)
	checkCompaction := func(t *testing.T, s *Bolt, compacted int64) {
		t.Helper()
		tests := []struct {
			name    string
			after   int64
			wantErr error
		}{
			{name: "from the start", after: 0, wantErr: ErrCompacted},
			{name: "just before the oldest kept", after: compacted - 1, wantErr: ErrCompacted},
			{name: "at the oldest compacted", after: compacted},
			{name: "at the latest", after: s.Revision()},
		}
		for _, tc := range tests {
			_, err := s.Changes(tc.after, 0)
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
				t.Errorf("%s: Changes(%d) error = %v, want %v", tc.name, tc.after, err, tc.wantErr)
			}
		}
		if n := historyLen(t, s); n != int(s.Revision()-compacted) {
			t.Errorf("history holds %d records, want %d", n, s.Revision()-compacted)
		}
	}
	checkCompaction(t, s, 2)
	got, err := s.Changes(2, 0)
	if err != nil || !slices.Equal(describe(got), []string{"3:a", "4:-b", "5:c"}) {
		t.Errorf("Changes(2) = %v, %v; want the last three", describe(got), err)
	}

	// A reader told to resync lists and resumes from the listed revision.
	entries, rev, err := s.List()
	if err != nil || rev != 5 || len(entries) != 2 {
		t.Fatalf("List = %d entries at %d, %v; want 2 at 5", len(entries), rev, err)
	}
	if got, err := s.Changes(rev, 0); err != nil || len(got) != 0 {
		t.Errorf("Changes(listed revision) = %v, %v; want none", describe(got), err)
	}

	// Compaction survives a restart, and a smaller history trims at the next write.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openAt(t, path, Options{History: 3})
	checkCompaction(t, s, 2)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openAt(t, path, Options{History: 1})
	mustPut(t, s, entry(t, "d"), Precondition{})
	checkCompaction(t, s, 5)
}

// historyLen counts the records of the history bucket.
func historyLen(t *testing.T, s *Bolt) int {
	t.Helper()
	var n int
	if err := s.db.View(func(tx *bolt.Tx) error {
		n = tx.Bucket(bucketHistory).Stats().KeyN
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestChanged(t *testing.T) {
	s := open(t, Options{})
	mustPut(t, s, entry(t, "a"), Precondition{Source: "file"})
	steps := []struct {
		name     string
		write    func() error
		wantWake bool
	}{
		{name: "identical put", write: func() error { return put(t, s, entry(t, "a"), Precondition{Source: "file"}) }},
		{name: "failed precondition", write: func() error {
			return put(t, s, entry(t, "a", "k", "v"), Precondition{Source: "file", MatchRevision: 9})
		}},
		{name: "refused by ownership", write: func() error { return put(t, s, entry(t, "a", "k", "v"), Precondition{Source: "api"}) }},
		{name: "delete of an absent name", write: func() error { _, err := s.Delete(t.Context(), "zz", Precondition{}); return err }},
		{name: "apply that changes nothing", write: func() error {
			_, err := s.Apply(t.Context(), "file", []*registry.Entry{entry(t, "a")}, []string{"zz"})
			return err
		}},
		{name: "put", write: func() error { return put(t, s, entry(t, "b"), Precondition{}) }, wantWake: true},
		{name: "delete", write: func() error { _, err := s.Delete(t.Context(), "b", Precondition{}); return err }, wantWake: true},
		{name: "apply", write: func() error {
			_, err := s.Apply(t.Context(), "file", []*registry.Entry{entry(t, "a", "k", "v")}, nil)
			return err
		}, wantWake: true},
		{name: "close", write: s.Close, wantWake: true},
	}
	for _, st := range steps {
		ch := s.Changed()
		rev := s.Revision()
		_ = st.write() // refused writes are part of the test: they must not wake
		if got := closed(ch); got != st.wantWake {
			t.Errorf("%s: woken = %v, want %v", st.name, got, st.wantWake)
		}
		if moved := s.Revision() != rev; moved != (st.wantWake && st.name != "close") {
			t.Errorf("%s: revision %d -> %d", st.name, rev, s.Revision())
		}
	}
	if !closed(s.Changed()) {
		t.Errorf("Changed after Close is not closed")
	}
}

// put is Put returning only the error.
func put(t *testing.T, s *Bolt, e *registry.Entry, p Precondition) error {
	_, _, err := s.Put(t.Context(), e, p)
	return err
}

func TestChangedWakesWaiter(t *testing.T) {
	const writes = 20
	s := open(t, Options{})
	seen := make(chan []int64, 1)
	go func() { // ends when it has seen every write, or at Close
		var revs []int64
		for after := int64(0); after < writes; {
			ch := s.Changed()
			changes, err := s.Changes(after, 0)
			if err != nil {
				break
			}
			for _, c := range changes {
				revs = append(revs, c.Revision)
				after = c.Revision
			}
			if after < writes {
				<-ch
			}
		}
		seen <- revs
	}()
	for i := range writes {
		mustPut(t, s, entry(t, "a", "i", string(rune('a'+i))), Precondition{})
	}
	select {
	case revs := <-seen:
		if want := seq(1, writes); !slices.Equal(revs, want) {
			t.Errorf("waiter saw %v, want %v", revs, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("waiter did not see every write within 10s")
	}
}

// seq returns from..to.
func seq(from, to int64) []int64 {
	var out []int64
	for r := from; r <= to; r++ {
		out = append(out, r)
	}
	return out
}
