package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime/pprof"
	"strconv"
	"time"

	"github.com/sidecard/sidecard/controlplane/store"
	"github.com/sidecard/sidecard/registry"
)

// Profile labels split a CPU profile between the control plane, the writer
// and the simulated sidecars (go tool pprof -tagfocus side=controlplane):
// goroutines inherit the labels of the goroutine that starts them.
var (
	controlPlaneLabels = pprof.Labels("side", "controlplane")
	writerLabels       = pprof.Labels("side", "writer")
	sidecarLabels      = pprof.Labels("side", "sidecars")
)

// run runs the scenario of cfg against each cache it names, one after the
// other, within cfg.Timeout: each scenario gets an equal share of the time
// left when it starts. It returns the results of the scenarios that ran.
func run(ctx context.Context, cfg config) ([]*result, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	kinds, err := cfg.caches()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	deadline, _ := ctx.Deadline()
	var results []*result
	for i, kind := range kinds {
		sctx, cancel := context.WithTimeout(ctx, time.Until(deadline)/time.Duration(len(kinds)-i))
		res, err := runScenario(sctx, cfg, kind)
		cancel()
		if err != nil {
			return results, fmt.Errorf("scenario %s: %w", kind, err)
		}
		results = append(results, res)
	}
	return results, nil
}

// runScenario runs one scenario: a control plane with the given cache
// holding cfg.Entries entries, cfg.Streams streams syncing from it, then
// cfg.Writes writes. When ctx ends first, the result says what was left
// undone.
func runScenario(ctx context.Context, cfg config, kind string) (res *result, err error) {
	resetPeakRSS()
	if res, err = newResult(cfg, kind); err != nil {
		return nil, err
	}
	targets, err := writeTargets(cfg.Entries, cfg.Writes)
	if err != nil {
		return nil, err
	}
	var cp *controlPlane
	pprof.Do(ctx, controlPlaneLabels, func(ctx context.Context) { cp, err = startControlPlane(ctx, cfg, kind) })
	if err != nil {
		return nil, err
	}
	defer func() {
		if cerr := cp.Close(); cerr != nil {
			res, err = nil, errors.Join(err, cerr)
		}
	}()
	res.FillMs, res.LoadMs = ms(cp.fill), ms(cp.load)
	var initial map[string]string
	if cfg.Warm {
		if initial, err = storedVersions(cp.store); err != nil {
			return nil, err
		}
	}
	f, err := newFleet(cp.addr, cfg, targetIndex(targets), initial)
	if err != nil {
		return nil, err
	}
	writes, err := drive(ctx, cfg, cp.store, f, targets, res)
	if cerr := f.Close(); cerr != nil && err == nil && res.Incomplete == "" {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	res.collectSync(f.streams)
	res.collectWrites(f.streams, writes)
	res.Memory.PeakRSSMB = mb(peakRSS())
	return res, nil
}

// drive starts the fleet, waits for its initial syncs, makes the writes and
// waits for the fleet to receive them, measuring CPU and memory on the way.
// It returns the writes made.
func drive(ctx context.Context, cfg config, s *store.Bolt, f *fleet, targets []*registry.Entry, res *result) ([]write, error) {
	if err := syncPhase(ctx, cfg, f, res); err != nil || res.Incomplete != "" {
		return nil, err
	}
	stopProfile, err := startCPUProfile(cfg.WritesProfile, res.Cache)
	if err != nil {
		return nil, err
	}
	defer stopProfile()
	phase := startPhase()
	writes, err := writePhase(ctx, cfg, s, f, targets, res)
	wall, cpu := phase.end()
	stopProfile()
	res.Propagation.WallMs, res.Propagation.CPUSeconds = ms(wall), cpu.Seconds()
	res.Memory.atEnd(sampleMemory())
	return writes, err
}

// syncPhase starts the fleet and waits for its initial syncs. When ctx ends
// first, it says so in res and returns nil.
func syncPhase(ctx context.Context, cfg config, f *fleet, res *result) error {
	phase := startPhase()
	pprof.Do(ctx, sidecarLabels, f.Start)
	err := f.WaitSynced(ctx)
	wall, cpu := phase.end()
	res.Sync.WallMs, res.Sync.CPUSeconds = ms(wall), cpu.Seconds()
	res.Memory.afterSync(sampleMemory())
	if cfg.HeapProfile != "" {
		if err := writeHeapProfile(cfg.HeapProfile + "." + res.Cache); err != nil {
			return err
		}
	}
	if err != nil && ctx.Err() != nil {
		res.Incomplete = "initial sync: " + err.Error()
		return nil
	}
	return err
}

// writePhase makes the writes and waits for the fleet to receive them. When
// ctx ends first, it says so in res and returns the writes made.
func writePhase(ctx context.Context, cfg config, s *store.Bolt, f *fleet, targets []*registry.Entry, res *result) ([]write, error) {
	var (
		writes []write
		err    error
	)
	pprof.Do(ctx, writerLabels, func(ctx context.Context) { writes, err = runWrites(ctx, s, targets, cfg.Interval) })
	switch {
	case err != nil && ctx.Err() == nil:
		return nil, err
	case err != nil:
		res.Incomplete = fmt.Sprintf("writes: %d of %d done: %v", len(writes), len(targets), err)
		return writes, nil
	}
	if err := f.WaitWrites(ctx, cfg.Drain); err != nil {
		return nil, err
	}
	if ctx.Err() != nil {
		res.Incomplete = "waiting for the streams to receive the writes: " + ctx.Err().Error()
	}
	return writes, nil
}

// storedVersions returns the revision of every entry of s by name: the
// initial_resource_versions of a sidecar that holds them all.
func storedVersions(s *store.Bolt) (map[string]string, error) {
	entries, _, err := s.List()
	if err != nil {
		return nil, fmt.Errorf("initial resource versions: %w", err)
	}
	out := make(map[string]string, len(entries))
	for _, e := range entries {
		out[e.Name] = strconv.FormatInt(e.Revision, 10)
	}
	return out, nil
}

// startCPUProfile starts a CPU profile written to path.<cache>, unless
// path is empty, and returns the function that stops it (at most once).
func startCPUProfile(path, cache string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path + "." + cache)
	if err != nil {
		return nil, fmt.Errorf("CPU profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		return nil, errors.Join(fmt.Errorf("CPU profile: %w", err), f.Close())
	}
	stopped := false
	return func() {
		if !stopped {
			stopped = true
			pprof.StopCPUProfile()
			_ = f.Close()
		}
	}, nil
}
