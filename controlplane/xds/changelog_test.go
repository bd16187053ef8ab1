package xds

import (
	"slices"
	"testing"

	"github.com/sidecard/sidecard/registry"
)

func TestChangeLog(t *testing.T) {
	prev := &registry.Entry{Name: "a"}
	tests := []struct {
		name      string
		capacity  int
		revisions []int64 // records added, named by revision parity: odd a, even b
		after     int64
		covers    bool
		since     []int64
		window    []string
	}{
		{"empty", 4, nil, 10, true, nil, nil},
		{"below the floor", 4, []int64{11, 12}, 9, false, []int64{11, 12}, []string{"a", "b"}},
		{"all kept", 4, []int64{11, 12, 13}, 10, true, []int64{11, 12, 13}, []string{"a", "b"}},
		{"from the middle", 4, []int64{11, 12, 13}, 11, true, []int64{12, 13}, []string{"b", "a"}},
		{"wrapped: floor raised", 2, []int64{11, 12, 13, 14}, 11, false, []int64{13, 14}, []string{"a", "b"}},
		{"wrapped: still covered", 2, []int64{11, 12, 13, 14}, 12, true, []int64{13, 14}, []string{"a", "b"}},
		{"up to date", 2, []int64{11, 12, 13}, 13, true, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newChangeLog(tt.capacity, 10)
			for _, rev := range tt.revisions {
				name := "b"
				if rev%2 == 1 {
					name = "a"
				}
				l.add(record{revision: rev, name: name, prev: prev})
			}
			if got := l.covers(tt.after); got != tt.covers {
				t.Fatalf("covers(%d) = %v, want %v", tt.after, got, tt.covers)
			}
			var since []int64
			l.since(tt.after, func(r *record) bool { since = append(since, r.revision); return true })
			if !slices.Equal(since, tt.since) {
				t.Fatalf("since(%d) = %v, want %v", tt.after, since, tt.since)
			}
			win := l.windowSince(tt.after)
			if !slices.Equal(win.names, tt.window) {
				t.Fatalf("window names = %v, want %v", win.names, tt.window)
			}
			for _, n := range win.names {
				if r := win.first[n]; r.name != n || r.revision != firstAfter(since, n) {
					t.Fatalf("window first[%s] = %+v", n, r)
				}
			}
		})
	}
}

// firstAfter returns the first revision in revs of name (by parity).
func firstAfter(revs []int64, name string) int64 {
	for _, r := range revs {
		if (r%2 == 1) == (name == "a") {
			return r
		}
	}
	return -1
}

func TestChangeLogReset(t *testing.T) {
	l := newChangeLog(2, 0)
	l.add(record{revision: 1, name: "a"})
	l.add(record{revision: 2, name: "a"})
	l.add(record{revision: 3, name: "a"})
	l.reset(7)
	if !l.covers(7) || l.covers(6) {
		t.Fatal("reset floor not applied")
	}
	n := 0
	l.since(0, func(*record) bool { n++; return true })
	if n != 0 {
		t.Fatalf("%d records after reset", n)
	}
}
