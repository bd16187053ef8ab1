package xds

import (
	"sort"

	"github.com/sidecard/sidecard/registry"
)

// record is one applied change: the entry name changed at revision, and
// before that change it was prev (name and labels only; nil when it did not
// exist).
type record struct {
	revision int64
	name     string
	prev     *registry.Entry
}

// changeLog is a ring of the most recent records in revision order. It knows
// every change with a revision above its floor. It is not safe for
// concurrent use; the cache guards it with its mutex.
type changeLog struct {
	ring  []record
	head  int // index of the oldest record
	size  int
	floor int64
}

// newChangeLog returns an empty log of the given capacity (> 0) that knows
// every change after floor.
func newChangeLog(capacity int, floor int64) *changeLog {
	return &changeLog{ring: make([]record, capacity), floor: floor}
}

// reset empties the log; it then knows every change after floor.
func (l *changeLog) reset(floor int64) {
	clear(l.ring)
	l.head, l.size, l.floor = 0, 0, floor
}

// add appends r, whose revision is at least that of the newest record,
// dropping the oldest record (and raising the floor to it) when full.
func (l *changeLog) add(r record) {
	if l.size == len(l.ring) {
		l.floor = l.ring[l.head].revision
		l.ring[l.head] = r
		l.head = (l.head + 1) % len(l.ring)
		return
	}
	l.ring[(l.head+l.size)%len(l.ring)] = r
	l.size++
}

// covers reports whether the log holds every change after revision w.
func (l *changeLog) covers(w int64) bool { return w >= l.floor }

// at returns the i-th oldest record.
func (l *changeLog) at(i int) *record { return &l.ring[(l.head+i)%len(l.ring)] }

// since calls yield for every record with a revision above w, oldest first,
// until yield returns false.
func (l *changeLog) since(w int64, yield func(*record) bool) {
	i := sort.Search(l.size, func(i int) bool { return l.at(i).revision > w })
	for ; i < l.size; i++ {
		if !yield(l.at(i)) {
			return
		}
	}
}

// window is the part of the change log after a watermark, by name: for each
// name changed since, its first record there, whose prev is the entry as a
// stream at the watermark knew it.
type window struct {
	names []string // in the order of their first change
	first map[string]*record
}

// windowSince returns the window of l after w; l must cover w. The records
// are shared with l and valid until l is next modified.
func (l *changeLog) windowSince(w int64) *window {
	win := &window{first: make(map[string]*record)}
	l.since(w, func(r *record) bool {
		if _, seen := win.first[r.name]; !seen {
			win.first[r.name] = r
			win.names = append(win.names, r.name)
		}
		return true
	})
	return win
}
