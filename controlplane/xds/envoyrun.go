package xds

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	route "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"

	"github.com/sidecard/sidecard/controlplane/envoy"
	"github.com/sidecard/sidecard/controlplane/store"
	"github.com/sidecard/sidecard/registry"
)

// Run lists the feed, then applies its changes as they are committed until
// ctx is done, answering the open watches after each batch (a burst of
// commits is read as one batch, up to BatchLimit changes). When the feed has
// compacted changes the cache has not applied, Run lists it again and applies
// the difference as one batch. Run returns nil once ctx is done, or the
// feed's error otherwise; it must be called once.
func (c *EnvoyCache) Run(ctx context.Context) error {
	if !c.running.CompareAndSwap(false, true) {
		return errors.New("envoy cache: Run called twice")
	}
	if err := c.sync(); err != nil {
		return err
	}
	for {
		err := c.follow(ctx)
		if !errors.Is(err, store.ErrCompacted) {
			return err
		}
		c.opts.Logger.Warn("envoy xds cache fell behind the store's change history; reloading",
			slog.Int64("revision", c.Revision()), slog.Any("error", err))
		if err := c.sync(); err != nil {
			return err
		}
		c.metrics.resyncs.Inc()
	}
}

// follow applies the feed's changes until ctx is done (returning nil) or the
// feed fails.
func (c *EnvoyCache) follow(ctx context.Context) error {
	for {
		changed := c.feed.Changed()
		after := c.Revision()
		start := time.Now()
		changes, err := c.feed.Changes(after, c.opts.BatchLimit)
		if err != nil {
			return fmt.Errorf("envoy cache: changes after revision %d: %w", after, err)
		}
		if len(changes) > 0 {
			latest := make(map[string]*registry.Entry, len(changes))
			for _, ch := range changes {
				latest[ch.Name] = ch.Entry
			}
			c.apply(c.translate(latest), changes[len(changes)-1].Revision, start)
		}
		if len(changes) >= c.opts.BatchLimit && ctx.Err() == nil {
			continue // more may be waiting
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return nil
		}
	}
}

// sync lists the feed and applies the difference with the cache as one
// batch: the entries whose revision differs from the cache's, and the
// deletion of those the list lacks. The first sync makes the cache Ready.
func (c *EnvoyCache) sync() error {
	entries, rev, err := c.feed.List()
	if err != nil {
		return fmt.Errorf("envoy cache: list: %w", err)
	}
	start := time.Now()
	// c.agents is only written by Run, on this goroutine: no lock to read it.
	diff := make(map[string]*registry.Entry)
	listed := make(map[string]struct{}, len(entries))
	for _, e := range entries {
		listed[e.Name] = struct{}{}
		if cur := c.agents[e.Name]; cur == nil || cur.revision != e.Revision {
			diff[e.Name] = e
		}
	}
	for name := range c.agents {
		if _, ok := listed[name]; !ok {
			diff[name] = nil
		}
	}
	c.apply(c.translate(diff), rev, start)
	return nil
}

// translate returns the agent of each entry, nil for a deleted one. An
// entry that cannot be translated is logged, counted and kept without
// resources: it is left out of every view.
func (c *EnvoyCache) translate(entries map[string]*registry.Entry) map[string]*envoyAgent {
	out := make(map[string]*envoyAgent, len(entries))
	for name, e := range entries {
		if e == nil {
			out[name] = nil
			continue
		}
		a := &envoyAgent{match: &registry.Entry{Name: e.Name, Labels: e.Labels}, revision: e.Revision}
		res, wire, err := c.translateOne(e)
		if err != nil {
			c.opts.Logger.Error("envoy xds cache: agent left out of the Envoy resources",
				slog.String("name", name), slog.Int64("revision", e.Revision), slog.Any("error", err))
			c.metrics.translationErrors.Inc()
		} else {
			a.res, a.wire = res, wire
		}
		out[name] = a
	}
	return out
}

// translateOne returns the resources of e and the wire form of its
// VirtualHost.
func (c *EnvoyCache) translateOne(e *registry.Entry) (*envoy.AgentResources, *agentWire, error) {
	res, err := envoy.Resources(e, c.opts.Translation)
	if err != nil {
		return nil, nil, err
	}
	wire, err := encodeAgent(res.VirtualHost)
	if err != nil {
		return nil, nil, fmt.Errorf("envoy resources of %q: %w", e.Name, err)
	}
	return &res, wire, nil
}

// apply replaces the agents of next (nil: deleted), brings every view up to
// date and answers the open watches, at revision rev. The first apply makes
// the cache Ready and starts the watches created before it.
func (c *EnvoyCache) apply(next map[string]*envoyAgent, rev int64, start time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	updates := make(map[*envoyView]*viewUpdate, len(c.views))
	for _, v := range c.views {
		updates[v] = &viewUpdate{}
	}
	for name, a := range next {
		prev := c.agents[name]
		d := diffAgent(prev, a)
		c.reindex(prev, a)
		for v, u := range updates {
			v.change(u, prev, a, d)
		}
		c.count(prev, -1)
		c.count(a, +1)
		if a == nil {
			delete(c.agents, name)
		} else {
			c.agents[name] = a
		}
	}
	for v, u := range updates {
		if err := v.publish(u, c.wire); err != nil {
			c.opts.Logger.Error("envoy xds cache: update not delivered to every watch", slog.Any("error", err))
		}
	}
	c.rev.Store(rev)
	c.metrics.revision.Set(float64(rev))
	applied := make(chan struct{})
	close(*c.applied.Swap(&applied))
	if !c.loaded {
		c.loaded = true
		close(c.ready)
		c.startPendingLocked()
	}
	c.metrics.updateDuration.Observe(time.Since(start).Seconds())
}

// reindex replaces the wire form of prev's VirtualHost by next's in c.wire
// (either may be nil or left out). The caller holds c.mu.
func (c *EnvoyCache) reindex(prev, next *envoyAgent) {
	prevVH, nextVH := vhostOf(prev), vhostOf(next)
	if prevVH == nextVH {
		return
	}
	if prevVH != nil {
		c.wire.remove(prev)
	}
	if nextVH != nil {
		c.wire.add(next)
	}
}

// vhostOf returns the VirtualHost of a translated agent, or nil.
func vhostOf(a *envoyAgent) *route.VirtualHost {
	if a == nil || a.res == nil {
		return nil
	}
	return a.res.VirtualHost
}

// count adds sign × a to the gauges of agents served and left out. The
// caller holds c.mu.
func (c *EnvoyCache) count(a *envoyAgent, sign int) {
	switch {
	case a == nil:
	case a.res == nil:
		c.leftOut += sign
		c.metrics.leftOut.Set(float64(c.leftOut))
	default:
		c.metrics.agents.Add(float64(sign))
	}
}
