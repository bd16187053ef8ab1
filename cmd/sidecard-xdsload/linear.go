package main

import (
	"context"
	"fmt"

	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"

	"github.com/sidecard/sidecard/controlplane/store"
	"github.com/sidecard/sidecard/registry"
	registryv1 "github.com/sidecard/sidecard/registry/v1"
)

// linearBatch is the most changes read from the store and given to the
// LinearCache at once, as the revision-log cache's default batch limit.
const linearBatch = 1024

// loadLinear returns go-control-plane's LinearCache holding every entry of
// s as a registryv1.Agent, and the revision it reflects.
func loadLinear(s *store.Bolt) (*cachev3.LinearCache, int64, error) {
	entries, rev, err := s.List()
	if err != nil {
		return nil, 0, fmt.Errorf("load the linear cache: %w", err)
	}
	initial := make(map[string]types.Resource, len(entries))
	for _, e := range entries {
		initial[e.Name] = registry.ToProto(e)
	}
	return cachev3.NewLinearCache(registryv1.TypeURL, cachev3.WithInitialResources(initial)), rev, nil
}

// followLinear applies the store's changes after revision after to lc, one
// UpdateResources call per batch read, until ctx is done (it then returns
// nil) or the store fails.
func followLinear(ctx context.Context, s *store.Bolt, lc *cachev3.LinearCache, after int64) error {
	for {
		changed := s.Changed()
		changes, err := s.Changes(after, linearBatch)
		if err != nil {
			return fmt.Errorf("follow the store into the linear cache: %w", err)
		}
		if len(changes) > 0 {
			updates, deletes := linearBatchOf(changes)
			if err := lc.UpdateResources(updates, deletes); err != nil {
				return fmt.Errorf("follow the store into the linear cache: %w", err)
			}
			after = changes[len(changes)-1].Revision
		}
		if len(changes) == linearBatch && ctx.Err() == nil {
			continue // more may be waiting
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return nil
		}
	}
}

// linearBatchOf turns changes, in revision order, into the net updates and
// deletions of UpdateResources.
func linearBatchOf(changes []store.Change) (map[string]types.Resource, []string) {
	updates := make(map[string]types.Resource, len(changes))
	deleted := make(map[string]bool)
	for _, ch := range changes {
		if ch.Entry == nil {
			delete(updates, ch.Name)
			deleted[ch.Name] = true
			continue
		}
		updates[ch.Name] = registry.ToProto(ch.Entry)
		delete(deleted, ch.Name)
	}
	deletes := make([]string, 0, len(deleted))
	for name := range deleted {
		deletes = append(deletes, name)
	}
	return updates, deletes
}
