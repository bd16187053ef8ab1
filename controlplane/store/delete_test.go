package store

import (
	"errors"
	"testing"
)

func TestDelete(t *testing.T) {
	fromFile := Precondition{Source: "file"}
	tests := []struct {
		name      string
		before    []step
		delete    string
		p         Precondition
		wantErr   error
		wantRev   int64 // the deletion's revision
		wantStore int64 // the store's revision afterwards
	}{
		{name: "existing", before: []step{{e: entry(t, "weather")}}, delete: "weather", wantRev: 2, wantStore: 2},
		{name: "absent", before: []step{{e: entry(t, "weather")}}, delete: "other", wantErr: ErrNotFound, wantStore: 1},
		{name: "absent with an expected revision", delete: "weather", p: Precondition{MatchRevision: 1}, wantErr: ErrPrecondition},
		{
			name: "matching revision", before: []step{{e: entry(t, "weather")}, {e: entry(t, "other")}},
			delete: "weather", p: Precondition{MatchRevision: 1}, wantRev: 3, wantStore: 3,
		},
		{
			name: "stale revision", before: []step{{e: entry(t, "weather")}, {e: entry(t, "weather", "team", "b")}},
			delete: "weather", p: Precondition{MatchRevision: 1}, wantErr: ErrPrecondition, wantStore: 2,
		},
		{
			name: "owned by another source", before: []step{{e: entry(t, "weather"), p: fromFile}},
			delete: "weather", p: Precondition{Source: "api"}, wantErr: ErrOwned, wantStore: 1,
		},
		{
			name: "by its owner", before: []step{{e: entry(t, "weather"), p: fromFile}},
			delete: "weather", p: fromFile, wantRev: 2, wantStore: 2,
		},
		{
			name: "without a source, whoever owns it", before: []step{{e: entry(t, "weather"), p: fromFile}},
			delete: "weather", wantRev: 2, wantStore: 2,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t, Options{})
			for _, st := range tc.before {
				mustPut(t, s, st.e, st.p)
			}
			rev, err := s.Delete(t.Context(), tc.delete, tc.p)
			if got := s.Revision(); got != tc.wantStore {
				t.Errorf("store revision = %d, want %d", got, tc.wantStore)
			}
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("Delete error = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil || rev != tc.wantRev {
				t.Fatalf("Delete = %d, %v; want %d, nil", rev, err, tc.wantRev)
			}
			if _, err := s.Get(tc.delete); !errors.Is(err, ErrNotFound) {
				t.Errorf("Get after Delete: error = %v, want ErrNotFound", err)
			}
		})
	}
}
