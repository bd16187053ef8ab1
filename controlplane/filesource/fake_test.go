package filesource

import (
	"context"
	"errors"
	"maps"
	"slices"
	"sync"

	"github.com/sidecard/sidecard/controlplane/store"
	"github.com/sidecard/sidecard/registry"
)

// fakeStore is an in-memory Writer with the store's Apply semantics: puts
// of content-equal entries and deletes of absent names are skipped
// silently, names owned by another source are skipped and reported. It
// records every Apply call.
type fakeStore struct {
	mu      sync.Mutex
	entries map[string]*registry.Entry
	rev     int64
	applies []applyCall
	failErr error // when set, List and Apply fail with it
}

// applyCall is one recorded Apply.
type applyCall struct {
	source  string
	puts    []string
	deletes []string
}

func newFakeStore() *fakeStore {
	return &fakeStore{entries: map[string]*registry.Entry{}}
}

var _ Writer = (*fakeStore)(nil)

func (f *fakeStore) Apply(ctx context.Context, source string, puts []*registry.Entry, deletes []string) (store.ApplyResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failErr != nil {
		return store.ApplyResult{}, f.failErr
	}
	if err := ctx.Err(); err != nil {
		return store.ApplyResult{}, err
	}
	call := applyCall{source: source, deletes: slices.Clone(deletes)}
	var res store.ApplyResult
	for _, e := range puts {
		call.puts = append(call.puts, e.Name)
		cur := f.entries[e.Name]
		switch {
		case cur != nil && cur.Source != source:
			res.Skipped = append(res.Skipped, e.Name)
		case cur != nil && cur.ContentEqual(e):
		default:
			f.rev++
			stored := *e
			stored.Source, stored.Revision = source, f.rev
			f.entries[e.Name] = &stored
			res.Written++
		}
	}
	for _, name := range deletes {
		cur := f.entries[name]
		switch {
		case cur == nil:
		case cur.Source != source:
			res.Skipped = append(res.Skipped, name)
		default:
			f.rev++
			delete(f.entries, name)
			res.Deleted++
		}
	}
	f.applies = append(f.applies, call)
	res.Revision = f.rev
	return res, nil
}

func (f *fakeStore) List() ([]*registry.Entry, int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failErr != nil {
		return nil, 0, f.failErr
	}
	out := make([]*registry.Entry, 0, len(f.entries))
	for _, name := range slices.Sorted(maps.Keys(f.entries)) {
		out = append(out, f.entries[name])
	}
	return out, f.rev, nil
}

// putAPI stores e as written by the API, as if through the HTTP API.
func (f *fakeStore) putAPI(e *registry.Entry) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rev++
	stored := *e
	stored.Source, stored.Revision = registry.SourceAPI, f.rev
	f.entries[e.Name] = &stored
}

// names returns the stored names by source.
func (f *fakeStore) names(source string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var names []string
	for name, e := range f.entries {
		if e.Source == source {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

// get returns the stored entry named name, or nil.
func (f *fakeStore) get(name string) *registry.Entry {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.entries[name]
}

// calls returns the Apply calls recorded so far.
func (f *fakeStore) calls() []applyCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.applies)
}

// fail makes List and Apply fail (err non-nil) or work again (nil).
func (f *fakeStore) fail(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failErr = err
}

var errStoreDown = errors.New("store is down")
