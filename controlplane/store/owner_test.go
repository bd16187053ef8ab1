package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/sidecard/sidecard/registry"
)

// Writers of the ownership tests: two nodes, an admin and a caller without
// a named token, as the APIs build their preconditions.
var (
	nodeA     = Precondition{Source: registry.SourceAPI, Owner: "host-a", OwnerOnly: true}
	nodeB     = Precondition{Source: registry.SourceAPI, Owner: "host-b", OwnerOnly: true}
	admin     = Precondition{Source: registry.SourceAPI, Owner: "ops"}
	anonymous = Precondition{Source: registry.SourceAPI, OwnerOnly: true}
)

// TestOwnership writes "weather" registered by before (host-a, or nobody
// for ""), then makes one write, and checks the result and the registrant.
func TestOwnership(t *testing.T) {
	stale := nodeB
	stale.MatchRevision = 7
	tests := []struct {
		name      string
		before    Precondition // how weather was first put, with ttl_seconds 30
		op        string       // put (labels team=b), put-same, delete or renew
		p         Precondition
		wantErr   error
		wantOwner string // weather's registrant afterwards; "-" when deleted
		wantStore int64  // the store's revision afterwards
	}{
		{name: "the creator is recorded", before: nodeA, op: "put-same", p: nodeA, wantOwner: "host-a", wantStore: 1},
		{name: "its registrant updates it", before: nodeA, op: "put", p: nodeA, wantOwner: "host-a", wantStore: 2},
		{name: "another node may not update it", before: nodeA, op: "put", p: nodeB, wantErr: ErrForbidden, wantOwner: "host-a", wantStore: 1},
		{name: "another node may not delete it", before: nodeA, op: "delete", p: nodeB, wantErr: ErrForbidden, wantOwner: "host-a", wantStore: 1},
		{name: "another node may not renew it", before: nodeA, op: "renew", p: nodeB, wantErr: ErrForbidden, wantOwner: "host-a", wantStore: 1},
		{name: "an unnamed writer may not change it", before: nodeA, op: "put", p: anonymous, wantErr: ErrForbidden, wantOwner: "host-a", wantStore: 1},
		{name: "the registrant is checked before the revision", before: nodeA, op: "put", p: stale, wantErr: ErrForbidden, wantOwner: "host-a", wantStore: 1},
		{name: "the source is checked before the registrant", before: Precondition{Source: registry.SourceFile},
			op: "put", p: nodeB, wantErr: ErrOwned, wantOwner: "", wantStore: 1},
		{name: "an admin updates it and it stays the node's", before: nodeA, op: "put", p: admin, wantOwner: "host-a", wantStore: 2},
		{name: "an admin deletes it", before: nodeA, op: "delete", p: admin, wantOwner: "-", wantStore: 2},
		{name: "an admin renews it", before: nodeA, op: "renew", p: admin, wantOwner: "host-a", wantStore: 1},
		{name: "its registrant deletes it", before: nodeA, op: "delete", p: nodeA, wantOwner: "-", wantStore: 2},
		{name: "its registrant renews it", before: nodeA, op: "renew", p: nodeA, wantOwner: "host-a", wantStore: 1},
		{name: "an unowned entry goes to the first named writer", before: anonymous, op: "put", p: nodeB, wantOwner: "host-b", wantStore: 2},
		{name: "an identical put takes an unowned entry", before: anonymous, op: "put-same", p: nodeB, wantOwner: "host-b", wantStore: 2},
		{name: "any writer deletes an unowned entry", before: Precondition{}, op: "delete", p: nodeB, wantOwner: "-", wantStore: 2},
		{name: "any writer renews an unowned entry", before: Precondition{}, op: "renew", p: nodeB, wantOwner: "", wantStore: 1},
		{name: "an unnamed writer leaves it unowned", before: anonymous, op: "put", p: anonymous, wantOwner: "", wantStore: 2},
		{name: "without OwnerOnly anyone changes it", before: nodeA, op: "put", p: Precondition{}, wantOwner: "host-a", wantStore: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t, Options{})
			mustPut(t, s, withTTL(entry(t, "weather"), 30), tc.before)
			var err error
			switch tc.op {
			case "put":
				_, _, err = s.Put(t.Context(), withTTL(entry(t, "weather", "team", "b"), 30), tc.p)
			case "put-same":
				_, _, err = s.Put(t.Context(), withTTL(entry(t, "weather"), 30), tc.p)
			case "delete":
				_, err = s.Delete(t.Context(), "weather", tc.p)
			case "renew":
				_, err = s.Renew(t.Context(), "weather", tc.p)
			}
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("%s error = %v, want %v", tc.op, err, tc.wantErr)
			}
			if got := s.Revision(); got != tc.wantStore {
				t.Errorf("store revision = %d, want %d", got, tc.wantStore)
			}
			got, err := s.Get("weather")
			switch {
			case tc.wantOwner == "-":
				if !errors.Is(err, ErrNotFound) {
					t.Errorf("Get after the delete: %v, want ErrNotFound", err)
				}
			case err != nil:
				t.Fatalf("Get: %v", err)
			case got.RegisteredBy != tc.wantOwner:
				t.Errorf("registered_by = %q, want %q", got.RegisteredBy, tc.wantOwner)
			}
		})
	}
}

// TestRegisteredByIsKept checks that the registrant is stored with the
// entry: in the change feed, in what Put returns, and across a restart;
// and that the entry given to Put cannot set it.
func TestRegisteredByIsKept(t *testing.T) {
	path := filepath.Join(t.TempDir(), "registry.db")
	s := openAt(t, path, Options{})
	e := entry(t, "weather")
	e.RegisteredBy = "forged"
	stored := mustPut(t, s, e, nodeA)
	if stored.RegisteredBy != "host-a" {
		t.Fatalf("Put returned registered_by %q, want host-a", stored.RegisteredBy)
	}
	changes, err := s.Changes(0, 10)
	if err != nil || len(changes) != 1 || changes[0].Entry.RegisteredBy != "host-a" {
		t.Fatalf("Changes = %+v, %v; want one change registered by host-a", changes, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openAt(t, path, Options{})
	got, err := s.Get("weather")
	if err != nil || got.RegisteredBy != "host-a" {
		t.Fatalf("Get after a restart = %+v, %v; want registered_by host-a", got, err)
	}
	if _, _, err := s.Put(t.Context(), entry(t, "weather", "team", "b"), nodeB); !errors.Is(err, ErrForbidden) {
		t.Fatalf("Put by host-b after a restart: %v, want ErrForbidden", err)
	}
}

// TestApplyRegistersToNobody checks that registry files own their entries
// as a source, not as a caller.
func TestApplyRegistersToNobody(t *testing.T) {
	s := open(t, Options{})
	e := entry(t, "weather")
	e.RegisteredBy = "forged"
	if _, err := s.Apply(t.Context(), registry.SourceFile, []*registry.Entry{e}, nil); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get("weather")
	if err != nil || got.RegisteredBy != "" {
		t.Fatalf("Get = %+v, %v; want registered_by empty", got, err)
	}
}

// TestOwnershipRace races another node's writes against the registrant's:
// the check is made in the write transaction, so none of them gets through
// and the entry ends as its registrant left it.
func TestOwnershipRace(t *testing.T) {
	s := open(t, Options{})
	mustPut(t, s, withTTL(entry(t, "weather"), 30), nodeA)
	ctx := context.Background()
	const rounds = 20
	var wg sync.WaitGroup
	errs := make(chan error, 3*rounds)
	wg.Go(func() {
		for i := range rounds {
			label := []string{"team", "a", "round", string(rune('a' + i))}
			if _, _, err := s.Put(ctx, withTTL(entry(t, "weather", label...), 30), nodeA); err != nil {
				errs <- err
			}
		}
	})
	wg.Go(func() {
		for range rounds {
			_, _, err := s.Put(ctx, withTTL(entry(t, "weather", "team", "b"), 30), nodeB)
			errs <- forbidden(err)
			_, err = s.Delete(ctx, "weather", nodeB)
			errs <- forbidden(err)
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Get("weather")
	if err != nil || got.RegisteredBy != "host-a" || got.Labels["team"] != "a" {
		t.Fatalf("weather = %+v, %v; want host-a's", got, err)
	}
}

// forbidden returns nil for an error wrapping ErrForbidden, else an error
// saying what happened instead.
func forbidden(err error) error {
	if errors.Is(err, ErrForbidden) {
		return nil
	}
	return fmt.Errorf("another node's write: %v, want ErrForbidden", err)
}
