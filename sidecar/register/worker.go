package register

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// maxHealthBody bounds what a health check reads of the agent's answer.
const maxHealthBody = 64 << 10

// work checks the agent of g every health interval and renews its lease
// every third of its TTL, until ctx ends or the registration does.
func (r *Registrar) work(ctx context.Context, g *registration) {
	start := r.clock.Now()
	nextCheck, nextBeat := start.Add(r.opts.HealthInterval), start.Add(beatEvery(g))
	for {
		next := nextCheck
		if nextBeat.Before(next) {
			next = nextBeat
		}
		wait := next.Sub(r.clock.Now())
		select {
		case <-ctx.Done():
			return
		case <-g.done:
			return
		case <-r.clock.After(max(wait, 0)):
		}
		now := r.clock.Now()
		if !now.Before(nextCheck) {
			r.check(ctx, g)
			nextCheck = r.clock.Now().Add(r.opts.HealthInterval)
		}
		if !now.Before(nextBeat) {
			r.beat(ctx, g)
			nextBeat = r.clock.Now().Add(beatEvery(g))
		}
	}
}

// beatEvery is the heartbeat period of g: a third of its entry's TTL.
func beatEvery(g *registration) time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	return time.Duration(g.entry.TTLSeconds) * time.Second / 3
}

// check runs one health check of g's agent and acts on the result:
// deregisters it after FailureThreshold failures in a row, registers it
// again at the first pass after that.
func (r *Registrar) check(ctx context.Context, g *registration) {
	g.mu.Lock()
	url := g.healthURL
	g.mu.Unlock()
	err := r.probe(ctx, url)
	g.mu.Lock()
	g.lastCheck = r.clock.Now()
	var deregister, reregister bool
	if err == nil {
		r.metrics.checks.WithLabelValues("pass").Inc()
		g.failures, g.checkErr = 0, ""
		reregister = !g.registered
		g.healthy = true
	} else {
		r.metrics.checks.WithLabelValues("fail").Inc()
		g.failures++
		g.checkErr = err.Error()
		if g.failures >= r.opts.FailureThreshold {
			g.healthy = false
			deregister = g.registered
		}
	}
	failures := g.failures
	g.mu.Unlock()
	switch {
	case deregister:
		r.log.Warn("agent unhealthy: deregistering it", "agent", g.name, "failures", failures, "error", err)
		r.deregister(ctx, g)
	case reregister:
		r.log.Info("agent healthy again: registering it", "agent", g.name)
		r.reregister(ctx, g)
	}
}

// probe GETs url: nil for a 2xx answer.
func (r *Registrar) probe(ctx context.Context, url string) error {
	ctx, cancel := context.WithTimeout(ctx, r.opts.healthTimeout())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("health check: %w", err)
	}
	resp, err := r.health.Do(req)
	if err != nil {
		return fmt.Errorf("health check: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxHealthBody)) // reuse the connection
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("health check: GET %s answered %d", url, resp.StatusCode)
	}
	return nil
}

// beat renews g's lease while the agent is healthy and registered; a lease
// the control plane no longer has is registered again.
func (r *Registrar) beat(ctx context.Context, g *registration) {
	g.op.Lock()
	defer g.op.Unlock()
	g.mu.Lock()
	live := g.registered && g.healthy && !g.removed
	g.mu.Unlock()
	if !live {
		return
	}
	l, err := r.cp.Heartbeat(ctx, g.name)
	switch {
	case err == nil:
		g.mu.Lock()
		g.expiresAt, g.cpErr = l.ExpiresAt, ""
		g.mu.Unlock()
	case errors.Is(err, ErrNotFound):
		r.log.Warn("agent's lease lost at the control plane: registering it again", "agent", g.name)
		r.putLocked(ctx, g)
	default:
		r.log.Warn("could not renew agent's lease", "agent", g.name, "error", err)
		g.mu.Lock()
		g.cpErr = err.Error()
		g.mu.Unlock()
	}
}

// deregister deletes g's entry at the control plane.
func (r *Registrar) deregister(ctx context.Context, g *registration) {
	g.op.Lock()
	defer g.op.Unlock()
	g.mu.Lock()
	live := g.registered && !g.healthy && !g.removed
	g.mu.Unlock()
	if !live {
		return
	}
	err := r.cp.Delete(ctx, g.name)
	if err != nil && !errors.Is(err, ErrNotFound) {
		// Still registered: the next failed check tries again, and the
		// lease, no longer renewed, expires meanwhile.
		r.log.Warn("could not deregister unhealthy agent", "agent", g.name, "error", err)
		g.mu.Lock()
		g.cpErr = err.Error()
		g.mu.Unlock()
		return
	}
	g.mu.Lock()
	g.registered, g.expiresAt, g.cpErr = false, time.Time{}, ""
	g.mu.Unlock()
	r.metrics.deregistrations.WithLabelValues(reasonUnhealthy).Inc()
}

// reregister registers g's entry again.
func (r *Registrar) reregister(ctx context.Context, g *registration) {
	g.op.Lock()
	defer g.op.Unlock()
	g.mu.Lock()
	due := !g.registered && g.healthy && !g.removed
	g.mu.Unlock()
	if due {
		r.putLocked(ctx, g)
	}
}

// putLocked writes g's entry to the control plane; g.op is held.
func (r *Registrar) putLocked(ctx context.Context, g *registration) {
	g.mu.Lock()
	e := g.entry
	g.mu.Unlock()
	_, err := r.cp.Put(ctx, e, 0)
	g.mu.Lock()
	defer g.mu.Unlock()
	if err != nil {
		r.log.Warn("could not register agent again", "agent", g.name, "error", err)
		g.registered, g.cpErr = false, err.Error()
		return
	}
	r.metrics.reregistrations.Inc()
	g.registered, g.cpErr = true, ""
	g.expiresAt = r.clock.Now().Add(time.Duration(e.TTLSeconds) * time.Second)
}
