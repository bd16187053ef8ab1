package api

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sidecard/sidecard/controlplane/store"
	"github.com/sidecard/sidecard/registry"
)

// fakeStore is an in-memory Store with the real store's write semantics:
// ownership by source and by registrant, revision preconditions and a
// global revision counter.
type fakeStore struct {
	mu      sync.Mutex
	entries map[string]*registry.Entry
	rev     int64
	writes  int
	failAll error // when set, every call fails with it
}

func newFakeStore(seed ...*registry.Entry) *fakeStore {
	s := &fakeStore{entries: map[string]*registry.Entry{}}
	for _, e := range seed {
		s.entries[e.Name] = e
		s.rev = max(s.rev, e.Revision)
	}
	return s
}

func (s *fakeStore) check(name string, p store.Precondition) error {
	existing := s.entries[name]
	if p.Source != "" && existing != nil && existing.Source != p.Source {
		return fmt.Errorf("entry %q is owned by source %q: %w", name, existing.Source, store.ErrOwned)
	}
	if p.OwnerOnly && existing != nil && existing.RegisteredBy != "" && existing.RegisteredBy != p.Owner {
		return fmt.Errorf("entry %q was registered by %q: %w", name, existing.RegisteredBy, store.ErrForbidden)
	}
	if p.MatchRevision > 0 && (existing == nil || existing.Revision != p.MatchRevision) {
		return fmt.Errorf("entry %q not at revision %d: %w", name, p.MatchRevision, store.ErrPrecondition)
	}
	return nil
}

func (s *fakeStore) Put(_ context.Context, e *registry.Entry, p store.Precondition) (*registry.Entry, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writes++
	if s.failAll != nil {
		return nil, false, s.failAll
	}
	if err := s.check(e.Name, p); err != nil {
		return nil, false, err
	}
	existing, existed := s.entries[e.Name]
	s.rev++
	stored := *e
	stored.Revision, stored.Source, stored.RegisteredBy = s.rev, p.Source, p.Owner
	if existed && existing.RegisteredBy != "" {
		stored.RegisteredBy = existing.RegisteredBy
	}
	stored.UpdatedAt = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	s.entries[e.Name] = &stored
	return &stored, !existed, nil
}

func (s *fakeStore) Delete(_ context.Context, name string, p store.Precondition) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writes++
	if s.failAll != nil {
		return 0, s.failAll
	}
	if _, ok := s.entries[name]; !ok {
		return 0, fmt.Errorf("delete %q: %w", name, store.ErrNotFound)
	}
	if err := s.check(name, p); err != nil {
		return 0, err
	}
	delete(s.entries, name)
	s.rev++
	return s.rev, nil
}

func (s *fakeStore) Get(name string) (*registry.Entry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failAll != nil {
		return nil, s.failAll
	}
	e, ok := s.entries[name]
	if !ok {
		return nil, fmt.Errorf("get %q: %w", name, store.ErrNotFound)
	}
	return e, nil
}

func (s *fakeStore) Revision() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rev
}

// writeCount returns how many writes reached the store.
func (s *fakeStore) writeCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.writes
}

// Index makes fakeStore its own always-current View.
func (s *fakeStore) Index() *registry.Index {
	s.mu.Lock()
	defer s.mu.Unlock()
	return registry.NewIndex(slices.Collect(maps.Values(s.entries))...)
}

func (s *fakeStore) WaitFor(context.Context, int64) error { return nil }

// laggingView is a View that never catches up.
type laggingView struct{}

func (laggingView) Index() *registry.Index { return registry.NewIndex() }

func (laggingView) WaitFor(ctx context.Context, rev int64) error {
	<-ctx.Done()
	return fmt.Errorf("wait for revision %d: %w", rev, ctx.Err())
}

// cardJSON returns a valid A2A v0.3 card named name with one skill.
func cardJSON(name, skill, tag string) string {
	return fmt.Sprintf(`{
  "protocolVersion": "0.3.0",
  "name": %q,
  "description": "Agent %s",
  "url": "http://10.0.0.7:9001/a2a",
  "version": "1.0.0",
  "capabilities": {"streaming": true},
  "defaultInputModes": ["text/plain"],
  "defaultOutputModes": ["application/json"],
  "skills": [{"id": %q, "name": "Skill %s", "description": "Does %s", "tags": [%q]}]
}`, name, name, skill, skill, skill, tag)
}

// entryJSON returns the API form of an entry named name.
func entryJSON(name string) string {
	return fmt.Sprintf(`{"name": %q, "labels": {"team": "forecast"}, "card": %s}`,
		name, cardJSON(name, "forecast", "weather"))
}

// seed is an entry already in the store.
type seed struct {
	name   string
	rev    int64
	source string
	skill  string
	labels map[string]string
	owner  string // registered_by
}

// entry builds the stored entry of s through registry.ParseEntry.
func (s seed) entry(t *testing.T) *registry.Entry {
	t.Helper()
	skill := s.skill
	if skill == "" {
		skill = "forecast"
	}
	e, err := registry.ParseEntry([]byte(cardJSON(s.name, skill, skill+"-tag")), s.name)
	if err != nil {
		t.Fatalf("ParseEntry(%s): %v", s.name, err)
	}
	e.Labels = s.labels
	e.Revision, e.Source, e.RegisteredBy = s.rev, s.source, s.owner
	e.UpdatedAt = time.Date(2026, 11, 22, 11, 0, 0, 0, time.UTC)
	if e.Source == "" {
		e.Source = registry.SourceAPI
	}
	return e
}

// seeded returns a fakeStore holding seeds.
func seeded(t *testing.T, seeds ...seed) *fakeStore {
	t.Helper()
	var entries []*registry.Entry
	for _, s := range seeds {
		entries = append(entries, s.entry(t))
	}
	return newFakeStore(entries...)
}
