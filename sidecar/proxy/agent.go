package proxy

import (
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/sidecard/sidecard/registry"
)

// agent is the proxy's state for one registered name: its endpoints and
// their pools (in a view), the endpoints' passive health, the balancer's
// state, the retry budget, the requests in flight, its metrics and its
// rewritten cards. It outlives changes to its entry: only the view is
// replaced. Safe for concurrent use.
type agent struct {
	name     string
	m        *agentMetrics
	inflight atomic.Int64 // requests admitted and not finished
	budget   retryBudget
	cards    cardCache
	view     atomic.Pointer[view] // swapped under mu

	// mu guards the outlier fields of the endpoints, the balancer state of
	// the current view, and view swaps.
	mu sync.Mutex
}

// view is the endpoints of one version of an agent's entry. entry, eps
// and weights are immutable; current and next are guarded by agent.mu.
type view struct {
	entry   *registry.Entry
	eps     []*endpoint
	weights []int64
	current []int64 // smooth weighted round robin state
	next    int     // rotation of least_request ties
}

// endpointBuilder builds the endpoint of a URL with its pool.
type endpointBuilder func(url string) (*endpoint, error)

// newView returns the view of e, reusing the endpoints of old (nil for
// none) that e still has, with their pools and health, and the endpoints
// of old that e no longer has. Endpoints that fail to build are logged and
// left out.
func newView(e *registry.Entry, old *view, build endpointBuilder, log *slog.Logger) (*view, []*endpoint) {
	v := &view{entry: e}
	for _, re := range e.Endpoints {
		var ep *endpoint
		if old != nil {
			if i := slices.IndexFunc(old.eps, func(o *endpoint) bool { return o.url == re.URL }); i >= 0 {
				ep = old.eps[i]
			}
		}
		if ep == nil {
			var err error
			if ep, err = build(re.URL); err != nil {
				log.Warn("proxy: endpoint left out", "agent", e.Name, "error", err)
				continue
			}
		}
		v.eps = append(v.eps, ep)
		v.weights = append(v.weights, int64(max(re.Weight, 1)))
	}
	v.current = make([]int64, len(v.eps))
	var dropped []*endpoint
	if old != nil {
		for _, o := range old.eps {
			if !slices.Contains(v.eps, o) {
				dropped = append(dropped, o)
			}
		}
	}
	return v, dropped
}

// supersedes reports whether entry e should replace cur as the basis of
// an agent's view: it is a newer revision, or the same revision with other
// endpoints (a replica rebuilt without revisions). An older entry, seen by
// a request still on an older snapshot, never replaces a newer one.
func supersedes(e, cur *registry.Entry) bool {
	switch {
	case e == cur:
		return false
	case e.Revision != cur.Revision:
		return e.Revision > cur.Revision
	default:
		return !slices.Equal(e.Endpoints, cur.Endpoints)
	}
}

// refresh makes e the basis of a's view when it supersedes the current
// one, closing the pools of endpoints e no longer has.
func (a *agent) refresh(e *registry.Entry, build endpointBuilder, log *slog.Logger) {
	if !supersedes(e, a.view.Load().entry) {
		return
	}
	a.mu.Lock()
	cur := a.view.Load()
	if !supersedes(e, cur.entry) {
		a.mu.Unlock()
		return
	}
	next, dropped := newView(e, cur, build, log)
	a.view.Store(next)
	a.mu.Unlock()
	for _, ep := range dropped {
		ep.close()
	}
}

// tryAcquire admits a request when fewer than limit are in flight.
func (a *agent) tryAcquire(limit int) bool {
	if a.inflight.Add(1) > int64(limit) {
		a.inflight.Add(-1)
		return false
	}
	return true
}

// release ends a request admitted by tryAcquire.
func (a *agent) release() { a.inflight.Add(-1) }

// close closes the pools of a's current endpoints.
func (a *agent) close() {
	for _, ep := range a.view.Load().eps {
		ep.close()
	}
}
