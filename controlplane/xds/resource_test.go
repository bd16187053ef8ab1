package xds

import (
	"maps"
	"slices"
	"testing"
)

// setState returns the resources of s as name -> revision, checking that
// all yields them in name order.
func setState(t *testing.T, s resourceSet) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	var names []string
	for r := range s.all() {
		out[r.name()] = r.revision
		names = append(names, r.name())
	}
	if !slices.IsSorted(names) || len(names) != s.len() {
		t.Fatalf("all yielded %v (len %d), not in name order", names, s.len())
	}
	return out
}

// TestResourceSetSnapshot changes a set after taking snapshots of it: each
// snapshot keeps the state it was taken at.
func TestResourceSetSnapshot(t *testing.T) {
	res := func(name string, rev int64) *resource {
		r, err := newResource(entry(name), rev)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	s := newResourceSet()
	for i, name := range []string{"c", "a", "b"} {
		s.set(res(name, int64(i+1)))
	}
	first := s.snapshot()
	s.delete("b")
	s.set(res("a", 4))
	s.set(res("d", 5))
	second := s.snapshot()
	s.delete("a")
	s.delete("ghost")
	tests := []struct {
		name string
		set  resourceSet
		want map[string]int64
	}{
		{"first snapshot", first, map[string]int64{"a": 2, "b": 3, "c": 1}},
		{"second snapshot", second, map[string]int64{"a": 4, "c": 1, "d": 5}},
		{"current", s, map[string]int64{"c": 1, "d": 5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := setState(t, tt.set); !maps.Equal(got, tt.want) {
				t.Fatalf("resources %v, want %v", got, tt.want)
			}
			for name, rev := range tt.want {
				if r := tt.set.get(name); r == nil || r.revision != rev {
					t.Fatalf("get(%q) = %v, want revision %d", name, r, rev)
				}
			}
			if r := tt.set.get("ghost"); r != nil {
				t.Fatalf("get(ghost) = %v", r)
			}
		})
	}
}
