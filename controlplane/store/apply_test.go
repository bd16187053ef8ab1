package store

import (
	"context"
	"errors"
	"maps"
	"slices"
	"testing"

	"github.com/sidecard/sidecard/registry"
)

func TestApply(t *testing.T) {
	api, file := Precondition{Source: "api"}, Precondition{Source: "file"}
	invalid := entry(t, "bad")
	invalid.Name = "Not A Name!"
	tests := []struct {
		name     string
		before   []step
		source   string
		puts     []*registry.Entry
		deletes  []string
		wantErr  bool
		want     ApplyResult
		wantSrcs map[string]string // name -> source of every entry afterwards
	}{
		{
			name: "creates with consecutive revisions", source: "file",
			puts:     []*registry.Entry{entry(t, "a"), entry(t, "b"), entry(t, "c")},
			want:     ApplyResult{Revision: 3, Written: 3},
			wantSrcs: map[string]string{"a": "file", "b": "file", "c": "file"},
		},
		{
			name: "skips unchanged entries", before: []step{{e: entry(t, "a", "k", "v"), p: file}}, source: "file",
			puts:     []*registry.Entry{entry(t, "a", "k", "v"), entry(t, "b")},
			want:     ApplyResult{Revision: 2, Written: 1},
			wantSrcs: map[string]string{"a": "file", "b": "file"},
		},
		{
			name: "skips and lists names of other sources", before: []step{{e: entry(t, "a"), p: api}, {e: entry(t, "c"), p: api}},
			source: "file", puts: []*registry.Entry{entry(t, "a", "k", "v"), entry(t, "b")}, deletes: []string{"c"},
			want:     ApplyResult{Revision: 3, Written: 1, Skipped: []string{"a", "c"}},
			wantSrcs: map[string]string{"a": "api", "b": "file", "c": "api"},
		},
		{
			name: "deletes its own and ignores absent names", before: []step{{e: entry(t, "a"), p: file}, {e: entry(t, "b"), p: file}},
			source: "file", deletes: []string{"a", "zz"},
			want:     ApplyResult{Revision: 3, Deleted: 1},
			wantSrcs: map[string]string{"b": "file"},
		},
		{
			name: "updates then deletes in one batch", before: []step{{e: entry(t, "a"), p: file}, {e: entry(t, "b"), p: file}},
			source: "file", puts: []*registry.Entry{entry(t, "a", "k", "v"), entry(t, "c")}, deletes: []string{"b"},
			want:     ApplyResult{Revision: 5, Written: 2, Deleted: 1},
			wantSrcs: map[string]string{"a": "file", "c": "file"},
		},
		{
			name: "a batch that changes nothing makes no revision", before: []step{{e: entry(t, "a"), p: file}, {e: entry(t, "b"), p: api}},
			source: "file", puts: []*registry.Entry{entry(t, "a")}, deletes: []string{"b", "zz"},
			want:     ApplyResult{Revision: 2, Skipped: []string{"b"}},
			wantSrcs: map[string]string{"a": "file", "b": "api"},
		},
		{
			name: "one invalid entry fails the batch", before: []step{{e: entry(t, "a"), p: file}}, source: "file",
			puts: []*registry.Entry{entry(t, "b"), invalid}, deletes: []string{"a"}, wantErr: true,
			want: ApplyResult{Revision: 1}, wantSrcs: map[string]string{"a": "file"},
		},
		{
			name: "source is required", source: "", puts: []*registry.Entry{entry(t, "a")}, wantErr: true,
			wantSrcs: map[string]string{},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t, Options{})
			for _, st := range tc.before {
				mustPut(t, s, st.e, st.p)
			}
			got, err := s.Apply(t.Context(), tc.source, tc.puts, tc.deletes)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("Apply = %+v, want an error", got)
				}
			} else if err != nil {
				t.Fatalf("Apply: %v", err)
			} else if got.Revision != tc.want.Revision || got.Written != tc.want.Written ||
				got.Deleted != tc.want.Deleted || !slices.Equal(got.Skipped, tc.want.Skipped) {
				t.Errorf("Apply = %+v, want %+v", got, tc.want)
			}
			if rev := s.Revision(); rev != tc.want.Revision {
				t.Errorf("store revision = %d, want %d", rev, tc.want.Revision)
			}
			if srcs := sources(t, s); !maps.Equal(srcs, tc.wantSrcs) {
				t.Errorf("entries afterwards = %v, want %v", srcs, tc.wantSrcs)
			}
			checkConsecutive(t, s)
		})
	}
}

func TestApplyCancelled(t *testing.T) {
	s := open(t, Options{})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := s.Apply(ctx, "file", []*registry.Entry{entry(t, "a")}, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("Apply error = %v, want context.Canceled", err)
	}
	if rev := s.Revision(); rev != 0 {
		t.Errorf("revision = %d after a cancelled Apply, want 0", rev)
	}
}

// sources returns name -> source of every stored entry.
func sources(t *testing.T, s *Bolt) map[string]string {
	t.Helper()
	entries, _, err := s.List()
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	out := map[string]string{}
	for _, e := range entries {
		out[e.Name] = e.Source
	}
	return out
}

// checkConsecutive checks that the feed holds revisions 1..Revision() in order.
func checkConsecutive(t *testing.T, s *Bolt) {
	t.Helper()
	changes, err := s.Changes(0, 0)
	if err != nil {
		t.Fatalf("Changes: %v", err)
	}
	for i, c := range changes {
		if c.Revision != int64(i+1) {
			t.Fatalf("change %d has revision %d, want %d", i, c.Revision, i+1)
		}
	}
	if int64(len(changes)) != s.Revision() {
		t.Errorf("feed holds %d changes, revision is %d", len(changes), s.Revision())
	}
}
