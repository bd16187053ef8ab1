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

	"github.com/sidecard/sidecard/registry"
)

func TestOpen(t *testing.T) {
	tests := []struct {
		name    string
		opts    Options
		wantErr bool
	}{
		{name: "defaults", opts: Options{}},
		{name: "all set", opts: Options{History: 10, Now: time.Now, Registerer: prometheus.NewRegistry(), LockTimeout: time.Millisecond}},
		{name: "negative history", opts: Options{History: -1}, wantErr: true},
		{name: "negative lock timeout", opts: Options{LockTimeout: -time.Second}, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "nested", "dir", "registry.db")
			s, err := Open(path, tc.opts)
			if tc.wantErr {
				if err == nil {
					_ = s.Close()
					t.Fatal("Open succeeded, want an error")
				}
				return
			}
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if err := s.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
	}
}

func TestOpenLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "registry.db")
	openAt(t, path, Options{})
	s, err := Open(path, Options{LockTimeout: 20 * time.Millisecond})
	if !errors.Is(err, ErrLocked) {
		if err == nil {
			_ = s.Close()
		}
		t.Fatalf("second Open error = %v, want ErrLocked", err)
	}
}

func TestReopenKeepsRevisions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "registry.db")
	s := openAt(t, path, Options{})
	mustPut(t, s, entry(t, "a"), Precondition{})
	mustPut(t, s, entry(t, "b"), Precondition{})
	if _, err := s.Delete(t.Context(), "a", Precondition{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Apply(t.Context(), "file", []*registry.Entry{entry(t, "c"), entry(t, "d")}, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openAt(t, path, Options{})
	if rev := s.Revision(); rev != 5 {
		t.Fatalf("revision after reopen = %d, want 5", rev)
	}
	if stored := mustPut(t, s, entry(t, "e"), Precondition{}); stored.Revision != 6 {
		t.Errorf("first put after reopen got revision %d, want 6", stored.Revision)
	}
	entries, rev, err := s.List()
	if err != nil || rev != 6 {
		t.Fatalf("List at %d, %v; want 6", rev, err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name)
	}
	if want := []string{"b", "c", "d", "e"}; !slices.Equal(names, want) {
		t.Errorf("List = %v, want %v", names, want)
	}
	if n := s.entries.Load(); n != 4 {
		t.Errorf("entry count = %d, want 4", n)
	}
	checkConsecutive(t, s)
}

func TestGetMissing(t *testing.T) {
	s := open(t, Options{})
	if _, err := s.Get("weather"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get error = %v, want ErrNotFound", err)
	}
}

func TestClosed(t *testing.T) {
	s := open(t, Options{})
	mustPut(t, s, entry(t, "a"), Precondition{})
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	ops := []struct {
		name string
		op   func() error
	}{
		{"Close", s.Close},
		{"Put", func() error { _, _, err := s.Put(t.Context(), entry(t, "b"), Precondition{}); return err }},
		{"Delete", func() error { _, err := s.Delete(t.Context(), "a", Precondition{}); return err }},
		{"Apply", func() error { _, err := s.Apply(t.Context(), "file", nil, []string{"a"}); return err }},
		{"Get", func() error { _, err := s.Get("a"); return err }},
		{"List", func() error { _, _, err := s.List(); return err }},
		{"Changes", func() error { _, err := s.Changes(0, 0); return err }},
		{"Renew", func() error { _, err := s.Renew(t.Context(), "a", Precondition{}); return err }},
		{"ExpireDue", func() error { _, err := s.ExpireDue(t.Context(), time.Now()); return err }},
		{"Lease", func() error { _, _, err := s.Lease("a"); return err }},
	}
	for _, tc := range ops {
		if err := tc.op(); !errors.Is(err, ErrClosed) {
			t.Errorf("%s after Close: error = %v, want ErrClosed", tc.name, err)
		}
	}
}

func TestConcurrentWriters(t *testing.T) {
	const (
		writers = 4
		each    = 10
		batch   = 3
	)
	s := open(t, Options{})
	var (
		mu   sync.Mutex
		revs []int64
		errs []error
		wg   sync.WaitGroup
	)
	record := func(err error, r ...int64) {
		mu.Lock()
		defer mu.Unlock()
		revs = append(revs, r...)
		if err != nil {
			errs = append(errs, err)
		}
	}
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				stored, _, err := s.Put(t.Context(), entry(t, fmt.Sprintf("w%d-%d", w, i)), Precondition{})
				if err != nil {
					record(err)
					continue
				}
				record(nil, stored.Revision)
			}
		})
	}
	wg.Go(func() {
		for i := range each {
			puts := make([]*registry.Entry, batch)
			for j := range puts {
				puts[j] = entry(t, fmt.Sprintf("batch-%d-%d", i, j))
			}
			res, err := s.Apply(t.Context(), "file", puts, nil)
			record(err, seq(res.Revision-int64(res.Written)+1, res.Revision)...)
		}
	})
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("writes failed: %v", errs)
	}
	slices.Sort(revs)
	total := int64(writers*each + each*batch)
	if !slices.Equal(revs, seq(1, total)) {
		t.Errorf("revisions = %v, want 1..%d each once", revs, total)
	}
	checkConsecutive(t, s)
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	path := filepath.Join(t.TempDir(), "registry.db")
	s := openAt(t, path, Options{Registerer: reg, History: 2})
	mustPut(t, s, entry(t, "a"), Precondition{})
	mustPut(t, s, entry(t, "a"), Precondition{}) // no-op: not a write
	mustPut(t, s, entry(t, "b"), Precondition{})
	if _, err := s.Delete(t.Context(), "a", Precondition{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Apply(t.Context(), "file", []*registry.Entry{entry(t, "c"), entry(t, "d")}, nil); err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{
		"sidecard_store_revision":                     5,
		"sidecard_store_entries":                      3,
		"sidecard_store_compacted_revision":           3,
		`sidecard_store_writes_total{op="put"}`:       2,
		`sidecard_store_writes_total{op="delete"}`:    1,
		`sidecard_store_writes_total{op="apply"}`:     1,
		"sidecard_store_write_duration_seconds_count": 5,
	}
	got := gather(t, reg)
	for name, v := range want {
		if got[name] != v {
			t.Errorf("%s = %v, want %v", name, got[name], v)
		}
	}
	// Close unregisters, so the same registerer can serve a reopened store.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openAt(t, path, Options{Registerer: reg})
	if got := gather(t, reg)["sidecard_store_entries"]; got != 3 {
		t.Errorf("entries after reopen = %v, want 3", got)
	}
}

// gather returns every sample of reg by name{labels}; histograms as _count.
func gather(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatalf("Gather: %v", err)
	}
	out := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			key := f.GetName()
			for _, l := range m.GetLabel() {
				key += fmt.Sprintf("{%s=%q}", l.GetName(), l.GetValue())
			}
			switch {
			case m.GetGauge() != nil:
				out[key] = m.GetGauge().GetValue()
			case m.GetCounter() != nil:
				out[key] = m.GetCounter().GetValue()
			case m.GetHistogram() != nil:
				out[key+"_count"] = float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return out
}
