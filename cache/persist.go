package cache

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// DefaultPersistInterval is the default minimum time between two writes.
const DefaultPersistInterval = 500 * time.Millisecond

// PersisterOptions configure a Persister.
type PersisterOptions struct {
	// Replica is the replica to persist. Required.
	Replica *Replica
	// Path is the replica file, e.g. DATA_DIR/replica.json. Required; its
	// directory must exist.
	Path string
	// Interval is the minimum time between two writes; 0 means
	// DefaultPersistInterval.
	Interval time.Duration
	// Logger receives write failures; nil discards them.
	Logger *slog.Logger
	// Registerer receives the persister's metrics; nil registers nothing.
	Registerer prometheus.Registerer
	// Clock paces the writes; nil means the real clock.
	Clock Clock
}

// Validate reports whether o is usable. It does no I/O.
func (o PersisterOptions) Validate() error {
	switch {
	case o.Replica == nil:
		return errors.New("persister: no replica")
	case o.Path == "":
		return errors.New("persister: no path")
	case o.Interval < 0:
		return fmt.Errorf("persister: negative interval %v", o.Interval)
	}
	return nil
}

// Persister writes a replica's snapshots to a file, at most once per
// Interval, so that a restarted sidecar can Restore what LoadFile reads.
// A burst of updates is coalesced into at most two writes: one at once
// when the previous write is older than Interval, one with the latest state
// Interval after it.
//
// A Persister is used by one Run at a time; the zero value is not usable,
// use NewPersister.
type Persister struct {
	replica  *Replica
	path     string
	interval time.Duration
	log      *slog.Logger
	clock    Clock
	metrics  *persistMetrics
	baseline *Snapshot // the replica's snapshot when the persister was made
}

// NewPersister validates opts and returns a persister. It does no I/O.
func NewPersister(opts PersisterOptions) (*Persister, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	m, err := newPersistMetrics(opts.Registerer)
	if err != nil {
		return nil, err
	}
	p := &Persister{
		replica:  opts.Replica,
		path:     opts.Path,
		interval: opts.Interval,
		log:      opts.Logger,
		clock:    clockOrReal(opts.Clock),
		metrics:  m,
		baseline: opts.Replica.Load(),
	}
	if p.interval == 0 {
		p.interval = DefaultPersistInterval
	}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	return p, nil
}

// Run removes temporary files left by an earlier crash, then writes every
// snapshot the replica publishes after NewPersister returned (the one
// current then is taken to be on disk already: restored from it, or empty)
// until ctx is done. A failed write is logged, counted and retried after
// Interval. When ctx is done Run makes a final write if the latest snapshot
// is not on disk yet, and returns that write's error, or nil.
//
// Run must be called at most once.
func (p *Persister) Run(ctx context.Context) error {
	if err := removeTemps(p.path); err != nil {
		p.log.Warn("persister: cannot remove temporary files", "err", err)
	}
	notify, cancel := p.replica.Subscribe()
	defer cancel()
	st := &persistState{written: p.baseline}
	changed := p.replica.Load() != st.written // published before Run subscribed
	for {
		if changed {
			p.schedule(st)
			changed = false
		}
		select {
		case <-ctx.Done():
			if cur := p.replica.Load(); cur != st.written {
				return p.write(cur)
			}
			return nil
		case <-notify:
			changed = true
		case <-st.due:
			st.due = nil
			p.flush(st)
		}
	}
}

// persistState is what Run knows about the file.
type persistState struct {
	written *Snapshot        // the snapshot on disk
	last    time.Time        // when the last write was attempted
	due     <-chan time.Time // non-nil while a write is scheduled
}

// schedule reacts to a change: it writes at once when the last write is at
// least Interval old, else makes sure a write is scheduled.
func (p *Persister) schedule(st *persistState) {
	if st.due != nil {
		return // the scheduled write will take the latest snapshot
	}
	if wait := p.interval - p.clock.Now().Sub(st.last); wait > 0 {
		st.due = p.clock.After(wait)
		return
	}
	p.flush(st)
}

// flush writes the latest snapshot unless it is on disk already; a failed
// write is retried after Interval.
func (p *Persister) flush(st *persistState) {
	cur := p.replica.Load()
	if cur == st.written {
		return
	}
	st.last = p.clock.Now()
	if err := p.write(cur); err != nil {
		p.log.Error("persister: write failed; retrying", "path", p.path, "err", err)
		st.due = p.clock.After(p.interval)
		return
	}
	st.written = cur
}

// write writes s to the file and records the outcome.
func (p *Persister) write(s *Snapshot) error {
	start := time.Now()
	err := writeFile(p.path, s, p.clock.Now())
	p.metrics.duration.Observe(time.Since(start).Seconds())
	if err != nil {
		p.metrics.total.WithLabelValues(resultError).Inc()
		return err
	}
	p.metrics.total.WithLabelValues(resultOK).Inc()
	return nil
}
