package xds

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/sidecard/sidecard/controlplane/store"
	"github.com/sidecard/sidecard/registry"
)

// fakeFeed is an in-memory Feed: a map of entries, a global revision and a
// history of changes that can be compacted. It is safe for concurrent use.
type fakeFeed struct {
	mu        sync.Mutex
	rev       int64
	entries   map[string]*registry.Entry
	history   []store.Change
	compacted int64 // changes at or below this revision are gone
	changed   chan struct{}
	held      bool // commits do not wake readers until release
}

var _ Feed = (*fakeFeed)(nil)

func newFakeFeed() *fakeFeed {
	return &fakeFeed{entries: make(map[string]*registry.Entry), changed: make(chan struct{})}
}

// put stores e (a copy, given the next revision) and returns the revision.
func (f *fakeFeed) put(e *registry.Entry) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rev++
	c := e.Clone()
	c.Revision = f.rev
	f.entries[c.Name] = c
	f.history = append(f.history, store.Change{Revision: f.rev, Name: c.Name, Entry: c})
	f.wakeLocked()
	return f.rev
}

// del deletes name and returns the revision; it panics if name is absent.
func (f *fakeFeed) del(name string) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.entries[name] == nil {
		panic(fmt.Sprintf("fake feed: delete of absent %q", name))
	}
	f.rev++
	delete(f.entries, name)
	f.history = append(f.history, store.Change{Revision: f.rev, Name: name})
	f.wakeLocked()
	return f.rev
}

// hold stops waking readers at commits; release wakes them once.
func (f *fakeFeed) hold() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.held = true
}

func (f *fakeFeed) release() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.held = false
	f.wakeLocked()
}

// compact forgets the history up to the current revision.
func (f *fakeFeed) compact() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.compacted = f.rev
	f.history = nil
}

func (f *fakeFeed) wakeLocked() {
	if f.held {
		return
	}
	close(f.changed)
	f.changed = make(chan struct{})
}

func (f *fakeFeed) List() ([]*registry.Entry, int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	names := slices.Sorted(maps.Keys(f.entries))
	out := make([]*registry.Entry, len(names))
	for i, n := range names {
		out[i] = f.entries[n].Clone()
	}
	return out, f.rev, nil
}

func (f *fakeFeed) Changes(after int64, limit int) ([]store.Change, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if after < f.compacted {
		return nil, fmt.Errorf("fake feed: after %d, compacted up to %d: %w", after, f.compacted, store.ErrCompacted)
	}
	i, _ := slices.BinarySearchFunc(f.history, after+1, func(c store.Change, rev int64) int {
		return int(c.Revision - rev)
	})
	out := f.history[i:]
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return slices.Clone(out), nil
}

func (f *fakeFeed) Changed() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.changed
}

// testCard is a valid A2A v0.3 card for test entries.
var testCard = func() *registry.Card {
	c, err := registry.ParseCard([]byte(`{"protocolVersion":"0.3.0","name":"Test Agent","description":"test",
		"url":"http://10.0.0.1:9000/a2a","version":"1.0.0","capabilities":{},
		"defaultInputModes":["text/plain"],"defaultOutputModes":["text/plain"],
		"skills":[{"id":"s","name":"S","description":"d","tags":["t"]}]}`))
	if err != nil {
		panic(err)
	}
	return c
}()

// entry returns a valid entry named name with labels given as "k=v" pairs.
func entry(name string, labels ...string) *registry.Entry {
	e := &registry.Entry{Name: name, Card: testCard, Source: registry.SourceAPI,
		Endpoints: []registry.Endpoint{{URL: "http://10.0.0.1:9000", Weight: 1}}}
	for _, kv := range labels {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			panic("bad label " + kv)
		}
		if e.Labels == nil {
			e.Labels = make(map[string]string)
		}
		e.Labels[k] = v
	}
	return e
}

func TestFakeFeedContract(t *testing.T) {
	f := newFakeFeed()
	r1 := f.put(entry("a"))
	ch := f.Changed()
	r2 := f.del("a")
	select {
	case <-ch:
	default:
		t.Fatal("Changed channel not closed at the next commit")
	}
	got, err := f.Changes(0, 0)
	if err != nil || len(got) != 2 || got[0].Revision != r1 || got[1].Revision != r2 || got[1].Entry != nil {
		t.Fatalf("Changes(0) = %+v, %v", got, err)
	}
	if got, _ := f.Changes(r1, 1); len(got) != 1 || got[0].Revision != r2 {
		t.Fatalf("Changes(r1, 1) = %+v", got)
	}
	f.compact()
	if _, err := f.Changes(r1, 0); err == nil {
		t.Fatal("Changes after compaction did not fail")
	}
	if got, err := f.Changes(r2, 0); err != nil || len(got) != 0 {
		t.Fatalf("Changes(latest) = %+v, %v", got, err)
	}
}
