package store

import (
	"encoding/json"
	"errors"
	"maps"
	"testing"
	"time"

	"github.com/sidecard/sidecard/registry"
)

// step is one write made before the write under test.
type step struct {
	e *registry.Entry
	p Precondition
}

func TestPut(t *testing.T) {
	withSource := func(e *registry.Entry, source string) *registry.Entry {
		e.Source = source
		return e
	}
	invalid := entry(t, "weather")
	invalid.Name = "Not A Name!"
	tests := []struct {
		name        string
		before      []step
		put         *registry.Entry
		p           Precondition
		wantErr     error // a sentinel the error must wrap
		wantInvalid bool  // a *registry.FieldError
		wantCreated bool
		wantRev     int64 // the stored entry's revision
		wantSource  string
		wantLabels  map[string]string
		wantStore   int64 // the store's revision afterwards
	}{
		{
			name: "create", put: entry(t, "weather", "team", "a"),
			wantCreated: true, wantRev: 1, wantSource: "api", wantLabels: map[string]string{"team": "a"}, wantStore: 1,
		},
		{
			name: "update", before: []step{{e: entry(t, "weather", "team", "a")}}, put: entry(t, "weather", "team", "b"),
			wantRev: 2, wantSource: "api", wantLabels: map[string]string{"team": "b"}, wantStore: 2,
		},
		{
			name: "identical put is a no-op", before: []step{{e: entry(t, "weather", "team", "a")}}, put: entry(t, "weather", "team", "a"),
			wantRev: 1, wantSource: "api", wantLabels: map[string]string{"team": "a"}, wantStore: 1,
		},
		{
			name:   "identical content from a new source is written",
			before: []step{{e: entry(t, "weather")}}, put: withSource(entry(t, "weather"), "file"),
			wantRev: 2, wantSource: "file", wantLabels: map[string]string{}, wantStore: 2,
		},
		{
			name: "precondition source wins over entry source", put: withSource(entry(t, "weather"), "file"),
			p: Precondition{Source: "upstream"}, wantCreated: true, wantRev: 1, wantSource: "upstream", wantStore: 1,
		},
		{
			name: "matching revision", before: []step{{e: entry(t, "weather", "team", "a")}}, put: entry(t, "weather", "team", "b"),
			p: Precondition{MatchRevision: 1}, wantRev: 2, wantSource: "api", wantLabels: map[string]string{"team": "b"}, wantStore: 2,
		},
		{
			name: "stale revision", before: []step{{e: entry(t, "weather", "team", "a")}, {e: entry(t, "weather", "team", "b")}},
			put: entry(t, "weather", "team", "c"), p: Precondition{MatchRevision: 1}, wantErr: ErrPrecondition, wantStore: 2,
		},
		{
			name: "stale revision on an identical put", before: []step{{e: entry(t, "other")}, {e: entry(t, "weather")}},
			put: entry(t, "weather"), p: Precondition{MatchRevision: 1}, wantErr: ErrPrecondition, wantStore: 2,
		},
		{
			name: "revision expected of a missing entry", put: entry(t, "weather"),
			p: Precondition{MatchRevision: 1}, wantErr: ErrPrecondition,
		},
		{
			name: "owned by another source", before: []step{{e: entry(t, "weather"), p: Precondition{Source: "file"}}},
			put: entry(t, "weather", "team", "b"), p: Precondition{Source: "api"}, wantErr: ErrOwned, wantStore: 1,
		},
		{
			name: "ownership is checked before the revision", before: []step{{e: entry(t, "weather"), p: Precondition{Source: "file"}}},
			put: entry(t, "weather", "team", "b"), p: Precondition{Source: "api", MatchRevision: 7}, wantErr: ErrOwned, wantStore: 1,
		},
		{
			name: "owner may write", before: []step{{e: entry(t, "weather"), p: Precondition{Source: "file"}}},
			put: entry(t, "weather", "team", "b"), p: Precondition{Source: "file"},
			wantRev: 2, wantSource: "file", wantLabels: map[string]string{"team": "b"}, wantStore: 2,
		},
		{name: "invalid entry", put: invalid, wantInvalid: true},
		{name: "nil entry", put: nil, wantInvalid: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk := newClock()
			s := open(t, Options{Now: clk.Now})
			for _, st := range tc.before {
				mustPut(t, s, st.e, st.p)
			}
			var before []byte
			if tc.put != nil {
				before = mustJSON(t, tc.put)
			}
			stored, created, err := s.Put(t.Context(), tc.put, tc.p)
			if got := s.Revision(); got != tc.wantStore {
				t.Errorf("store revision = %d, want %d", got, tc.wantStore)
			}
			if tc.wantInvalid {
				if _, ok := registry.AsFieldError(err); !ok {
					t.Fatalf("Put error = %v, want a *registry.FieldError", err)
				}
				return
			}
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("Put error = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Put: %v", err)
			}
			if string(mustJSON(t, tc.put)) != string(before) {
				t.Errorf("Put modified its argument")
			}
			checkStored(t, s, stored, created, tc.wantCreated, tc.wantRev, tc.wantSource, tc.wantLabels)
		})
	}
}

// checkStored checks what Put returned and that Get returns the same.
func checkStored(t *testing.T, s *Bolt, stored *registry.Entry, created, wantCreated bool,
	wantRev int64, wantSource string, wantLabels map[string]string) {
	t.Helper()
	if created != wantCreated {
		t.Errorf("created = %v, want %v", created, wantCreated)
	}
	if stored.Revision != wantRev || stored.Source != wantSource {
		t.Errorf("stored revision, source = %d, %q; want %d, %q", stored.Revision, stored.Source, wantRev, wantSource)
	}
	if len(wantLabels) != len(stored.Labels) || !maps.Equal(stored.Labels, wantLabels) {
		t.Errorf("stored labels = %v, want %v", stored.Labels, wantLabels)
	}
	if stored.UpdatedAt.Location() != time.UTC || stored.UpdatedAt.Nanosecond()%1000 != 0 {
		t.Errorf("updated_at = %v, want UTC truncated to µs", stored.UpdatedAt)
	}
	got, err := s.Get(stored.Name)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if a, b := mustJSON(t, got), mustJSON(t, stored); string(a) != string(b) {
		t.Errorf("Get = %s\nPut returned %s", a, b)
	}
}

func TestPutStampsTime(t *testing.T) {
	now := time.Date(2026, 11, 22, 13, 0, 0, 987654321, time.FixedZone("CET", 3600))
	s := open(t, Options{Now: func() time.Time { return now }})
	stored := mustPut(t, s, entry(t, "weather"), Precondition{})
	want := time.Date(2026, 11, 22, 12, 0, 0, 987654000, time.UTC)
	if !stored.UpdatedAt.Equal(want) || stored.UpdatedAt.Location() != time.UTC {
		t.Errorf("updated_at = %v, want %v", stored.UpdatedAt, want)
	}
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
