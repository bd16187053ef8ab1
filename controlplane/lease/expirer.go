package lease

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// DefaultRetryInterval is Options.RetryInterval's default.
const DefaultRetryInterval = time.Second

// Expiring is the part of the store an Expirer drives.
type Expiring interface {
	// NextExpiry returns the earliest lease expiry, false when there is none.
	NextExpiry() (time.Time, bool)
	// ExpireDue deletes the entries whose lease expired at or before now
	// and returns their names (those deleted so far when it fails).
	ExpireDue(ctx context.Context, now time.Time) ([]string, error)
}

// Notifier signals a newly written lease, which may expire before the one
// the Expirer is waiting for.
type Notifier interface {
	// LeaseWritten returns a 1-slot channel that receives after a write
	// that set a lease (a renewal, which only postpones one, need not send).
	LeaseWritten() <-chan struct{}
}

// Counter counts the leases, for the sidecard_lease_active gauge.
type Counter interface {
	// LeaseCount returns the number of leases.
	LeaseCount() int
}

// Store is what an Expirer needs of the store; *store.Bolt implements it.
type Store interface {
	Expiring
	Notifier
	Counter
}

// Options configure an Expirer. The zero value is valid: zero fields take
// their defaults.
type Options struct {
	// Clock tells the time and sleeps; nil means the system clock. It must
	// agree with the store's clock.
	Clock Clock
	// RetryInterval is how long Run waits after a failed expiry before it
	// tries again; 0 means DefaultRetryInterval.
	RetryInterval time.Duration
	// Logger receives a line per expired entry and per failure; nil discards.
	Logger *slog.Logger
	// Registerer receives the metrics; nil leaves them unregistered.
	Registerer prometheus.Registerer
}

// DefaultOptions returns Options with every default filled in.
func DefaultOptions() Options {
	return Options{Clock: systemClock{}, RetryInterval: DefaultRetryInterval, Logger: slog.New(slog.DiscardHandler)}
}

// Validate reports whether o is usable. It does no I/O and does not modify o.
func (o Options) Validate() error {
	if o.RetryInterval < 0 {
		return fmt.Errorf("lease expirer options: retry interval %v is negative", o.RetryInterval)
	}
	return nil
}

// withDefaults returns a copy of o with its zero fields set to the defaults.
func (o Options) withDefaults() Options {
	d := DefaultOptions()
	if o.Clock == nil {
		o.Clock = d.Clock
	}
	if o.RetryInterval == 0 {
		o.RetryInterval = d.RetryInterval
	}
	if o.Logger == nil {
		o.Logger = d.Logger
	}
	return o
}

// Expirer deletes registry entries when their lease expires. It is safe
// for concurrent use; Run must be called once. The zero value is not
// usable: use New.
type Expirer struct {
	store   Store
	opts    Options
	metrics *metrics
	running atomic.Bool
}

// New returns an Expirer of st's leases. It fails when opts are invalid or
// the metrics cannot be registered (e.g. twice with one Registerer).
func New(st Store, opts Options) (*Expirer, error) {
	if st == nil {
		return nil, errors.New("new lease expirer: nil store")
	}
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("new lease expirer: %w", err)
	}
	m, err := newMetrics(opts.Registerer, st)
	if err != nil {
		return nil, fmt.Errorf("new lease expirer: %w", err)
	}
	return &Expirer{store: st, opts: opts.withDefaults(), metrics: m}, nil
}

// Run expires leases until ctx is done, then returns nil. It sleeps until
// the store's next expiry and wakes early when the store signals a new
// lease; on waking it deletes what is due, by the Clock's time. A failed
// deletion is logged, counted and retried after RetryInterval; it does not
// end Run. Run starts no goroutine.
func (e *Expirer) Run(ctx context.Context) error {
	if !e.running.CompareAndSwap(false, true) {
		return errors.New("lease expirer: Run called twice")
	}
	written := e.store.LeaseWritten()
	for {
		var timer <-chan time.Time
		if wait, ok := e.expire(ctx); ok {
			timer = e.opts.Clock.After(wait)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-timer:
		case <-written:
		}
	}
}

// expire deletes the entries due by now and returns how long to wait before
// the next expiry (or the retry after a failure); ok is false when there is
// no lease to wait for.
func (e *Expirer) expire(ctx context.Context) (wait time.Duration, ok bool) {
	for ctx.Err() == nil {
		next, ok := e.store.NextExpiry()
		if !ok {
			return 0, false
		}
		now := e.opts.Clock.Now()
		if next.After(now) {
			return next.Sub(now), true
		}
		names, err := e.store.ExpireDue(ctx, now)
		for _, name := range names {
			e.opts.Logger.LogAttrs(ctx, slog.LevelInfo, "registry entry expired: its lease was not renewed",
				slog.String("name", name), slog.Time("expired_by", now))
		}
		e.metrics.expired.Add(float64(len(names)))
		if err != nil {
			if ctx.Err() != nil {
				return 0, false
			}
			e.metrics.failures.Inc()
			e.opts.Logger.LogAttrs(ctx, slog.LevelError, "expire registry leases",
				slog.Any("error", err), slog.Duration("retry_in", e.opts.RetryInterval))
			return e.opts.RetryInterval, true
		}
	}
	return 0, false
}
