package main

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/sidecard/sidecard/controlplane/store"
	"github.com/sidecard/sidecard/registry"
)

// writeLabel is the label each write sets, so that its entry changes.
const writeLabel = "xdsload-write"

// write is one durable write: when its Put started and returned, and the
// revision it was committed at.
type write struct {
	start, done time.Time
	revision    int64
}

// runWrites puts each target, changed, one at a time and interval apart (0:
// back to back). It returns the writes done, all of them unless ctx ended
// first or the store failed.
func runWrites(ctx context.Context, s *store.Bolt, targets []*registry.Entry, interval time.Duration) ([]write, error) {
	out := make([]write, 0, len(targets))
	var tick <-chan time.Time
	if interval > 0 {
		t := time.NewTicker(interval)
		defer t.Stop()
		tick = t.C
	}
	for k, e := range targets {
		if k > 0 && tick != nil {
			select {
			case <-tick:
			case <-ctx.Done():
				return out, fmt.Errorf("write %d: %w", k, ctx.Err())
			}
		}
		changed := e.Clone()
		changed.Labels[writeLabel] = strconv.Itoa(k)
		start := time.Now()
		stored, _, err := s.Put(ctx, changed, store.Precondition{})
		done := time.Now()
		if err != nil {
			return out, fmt.Errorf("write %d: %w", k, err)
		}
		out = append(out, write{start: start, done: done, revision: stored.Revision})
	}
	return out, nil
}

// targetIndex maps the name of each target to its index.
func targetIndex(targets []*registry.Entry) map[string]int {
	out := make(map[string]int, len(targets))
	for k, e := range targets {
		out[e.Name] = k
	}
	return out
}
