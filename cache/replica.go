package cache

import (
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/google/btree"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sidecard/sidecard/registry"
)

// ReplicaOptions configure a Replica. The zero value is valid.
type ReplicaOptions struct {
	// Registerer receives the replica's metrics; nil registers nothing.
	Registerer prometheus.Registerer
	// Clock stamps snapshots; nil means the real clock.
	Clock Clock
}

// Delta is one change to a replica, typically one delta xDS response.
type Delta struct {
	// Upserts are added or replace the entry of the same name; nil entries
	// and entries with an empty name are ignored.
	Upserts []*registry.Entry
	// Versions maps an upserted entry's name to its resource version. A
	// missing version is recorded as the entry's revision in decimal.
	Versions map[string]string
	// Removes are the names to remove, after the upserts: a name both
	// upserted and removed ends up removed. Absent names are ignored.
	Removes []string
	// SystemVersion is the response's system_version_info; "" keeps the
	// previous one.
	SystemVersion string
}

// Replica is the sidecar's local copy of the registry.
//
// Readers call Load and get an immutable Snapshot without locking. Writers
// (Apply, ApplyDelta, Replace, Restore) are serialised; each builds the next
// snapshot from the current one and publishes it with one atomic swap, then
// notifies subscribers.
//
// Resource versions live in a copy-on-write btree: the writer keeps a
// private tree it mutates in place and publishes an O(1) lazy Clone of it in
// each snapshot, so an update costs O(changes × log n) for both the entry
// index and the versions, never O(n). (Versions are kept as the control
// plane sent them rather than derived from entry revisions, so a control
// plane may use content hashes.)
//
// A Replica is safe for concurrent use; the zero value is not usable, use
// NewReplica. Entries handed to a writer are owned by the replica from then
// on and must not be mutated; entries read from a snapshot are shared.
type Replica struct {
	clock   Clock
	metrics *replicaMetrics

	mu     sync.Mutex                 // serialises writers; guards master
	master *btree.BTreeG[versionItem] // the writer's tree; snapshots hold clones
	cur    atomic.Pointer[Snapshot]

	subMu sync.Mutex
	subs  map[chan struct{}]struct{}
}

// NewReplica returns an empty replica. It fails only when its metrics
// cannot be registered.
func NewReplica(opts ReplicaOptions) (*Replica, error) {
	m, err := newReplicaMetrics(opts.Registerer)
	if err != nil {
		return nil, err
	}
	r := &Replica{
		clock:   clockOrReal(opts.Clock),
		metrics: m,
		master:  newVersionTree(),
		subs:    make(map[chan struct{}]struct{}),
	}
	r.cur.Store(emptySnapshot(r.clock.Now()))
	return r, nil
}

// Load returns the current snapshot; never nil.
func (r *Replica) Load() *Snapshot { return r.cur.Load() }

// Apply is ApplyDelta without a system version.
func (r *Replica) Apply(upserts []*registry.Entry, versions map[string]string, removes []string) *Snapshot {
	return r.ApplyDelta(Delta{Upserts: upserts, Versions: versions, Removes: removes})
}

// ApplyDelta publishes the current snapshot with d applied and returns it.
// The revision becomes the highest of the current one and the upserts'.
// A delta with no upserts and no removes changes nothing and returns the
// current snapshot. The cost is proportional to the size of d.
func (r *Replica) ApplyDelta(d Delta) *Snapshot {
	r.mu.Lock()
	defer r.mu.Unlock()
	cur := r.cur.Load()
	if len(d.Upserts) == 0 && len(d.Removes) == 0 {
		return cur
	}
	rev := cur.revision
	for _, e := range d.Upserts {
		if e == nil || e.Name == "" {
			continue
		}
		r.master.ReplaceOrInsert(versionItem{name: e.Name, version: versionOf(e, d.Versions)})
		rev = max(rev, e.Revision)
	}
	for _, name := range d.Removes {
		r.master.Delete(versionItem{name: name})
	}
	sys := d.SystemVersion
	if sys == "" {
		sys = cur.systemVersion
	}
	next := &Snapshot{
		index:         cur.index.With(d.Upserts, d.Removes),
		versions:      r.master.Clone(),
		revision:      rev,
		updatedAt:     r.clock.Now(),
		systemVersion: sys,
	}
	r.publish(next, kindApply)
	return next
}

// Replace publishes a snapshot holding exactly entries (a full state, as
// after a state-of-the-world sync) and returns it. Its revision is the
// highest of the entries'. versions is read as in Delta. The cost is O(n).
func (r *Replica) Replace(entries []*registry.Entry, versions map[string]string) *Snapshot {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.master = newVersionTree()
	var rev int64
	for _, e := range entries {
		if e == nil || e.Name == "" {
			continue
		}
		r.master.ReplaceOrInsert(versionItem{name: e.Name, version: versionOf(e, versions)})
		rev = max(rev, e.Revision)
	}
	next := &Snapshot{
		index:     registry.NewIndex(entries...),
		versions:  r.master.Clone(),
		revision:  rev,
		updatedAt: r.clock.Now(),
	}
	r.publish(next, kindReplace)
	return next
}

// Restore publishes a copy of s, typically read by LoadFile at start, and
// returns the copy. The copy keeps s's revision, update time and system
// version; s itself is not retained. The cost is O(n).
func (r *Replica) Restore(s *Snapshot) *Snapshot {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.master = newVersionTree()
	s.versions.Ascend(func(it versionItem) bool {
		r.master.ReplaceOrInsert(it)
		return true
	})
	next := &Snapshot{
		index:         s.index,
		versions:      r.master.Clone(),
		revision:      s.revision,
		updatedAt:     s.updatedAt,
		systemVersion: s.systemVersion,
	}
	r.publish(next, kindRestore)
	return next
}

// Subscribe returns a channel that receives a value after snapshots are
// published, and a cancel func that stops deliveries. The channel has one
// slot and is level-triggered: a burst of updates may yield one value, so a
// subscriber reacts by calling Load. Sends never block the writer. The
// channel is never closed.
func (r *Replica) Subscribe() (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	r.subMu.Lock()
	r.subs[ch] = struct{}{}
	r.subMu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			r.subMu.Lock()
			delete(r.subs, ch)
			r.subMu.Unlock()
		})
	}
}

// publish swaps next in, updates the metrics and notifies subscribers.
// Called with r.mu held.
func (r *Replica) publish(next *Snapshot, kind string) {
	r.cur.Store(next)
	r.metrics.observe(next, kind)
	r.subMu.Lock()
	defer r.subMu.Unlock()
	for ch := range r.subs {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// versionOf returns e's resource version from versions, or its revision in
// decimal when versions has none.
func versionOf(e *registry.Entry, versions map[string]string) string {
	if v, ok := versions[e.Name]; ok {
		return v
	}
	return strconv.FormatInt(e.Revision, 10)
}
