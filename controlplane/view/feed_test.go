package view

import (
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/sidecard/sidecard/controlplane/store"
	"github.com/sidecard/sidecard/registry"
)

// fakeFeed is an in-memory store change feed. Its zero value is not usable;
// use newFakeFeed.
type fakeFeed struct {
	mu        sync.Mutex
	entries   map[string]*registry.Entry
	history   []store.Change
	rev       int64
	compacted int64 // changes at or below this revision are gone
	changed   chan struct{}
	listErr   error
	lists     int
}

var _ Feed = (*fakeFeed)(nil)
var _ Feed = (*store.Bolt)(nil)

func newFakeFeed() *fakeFeed {
	return &fakeFeed{entries: map[string]*registry.Entry{}, changed: make(chan struct{})}
}

// op is one write to a fakeFeed: a put when del is false.
type op struct {
	name string
	del  bool
}

func put(name string) op { return op{name: name} }
func del(name string) op { return op{name: name, del: true} }

// commit applies ops atomically, each at the next revision, and then wakes
// the followers once. With compact it also drops the whole history.
func (f *fakeFeed) commit(compact bool, ops ...op) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, o := range ops {
		f.rev++
		c := store.Change{Revision: f.rev, Name: o.name}
		if o.del {
			delete(f.entries, o.name)
		} else {
			c.Entry = &registry.Entry{Name: o.name, Revision: f.rev}
			f.entries[o.name] = c.Entry
		}
		f.history = append(f.history, c)
	}
	if compact {
		f.history, f.compacted = nil, f.rev
	}
	close(f.changed)
	f.changed = make(chan struct{})
	return f.rev
}

func (f *fakeFeed) List() ([]*registry.Entry, int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lists++
	if f.listErr != nil {
		return nil, 0, f.listErr
	}
	return slices.Collect(maps.Values(f.entries)), f.rev, nil
}

func (f *fakeFeed) Changes(after int64, limit int) ([]store.Change, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if after < f.compacted {
		return nil, fmt.Errorf("after %d, history starts after %d: %w", after, f.compacted, store.ErrCompacted)
	}
	var out []store.Change
	for _, c := range f.history {
		if c.Revision > after && (limit <= 0 || len(out) < limit) {
			out = append(out, c)
		}
	}
	return out, nil
}

func (f *fakeFeed) Changed() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.changed
}

func (f *fakeFeed) listCalls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lists
}
