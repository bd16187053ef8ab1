package proxy

import (
	"log/slog"
	"slices"
	"sync"

	"github.com/sidecard/sidecard/registry"
)

// agentTable holds the state of every agent the proxy has served since it
// entered the replica. sync drops the agents that left the replica, so the
// table, the pools and the per-agent metric children stay bounded by the
// replica. Safe for concurrent use.
type agentTable struct {
	build   endpointBuilder
	metrics *metrics
	log     *slog.Logger

	syncMu sync.Mutex // serialises syncs
	synced *Overrides // the overrides of the last sync; guarded by syncMu

	mu     sync.RWMutex
	agents map[string]*agent
	closed bool // set by closeAll; get returns nil afterwards
}

func newAgentTable(build endpointBuilder, m *metrics, log *slog.Logger) *agentTable {
	return &agentTable{build: build, metrics: m, log: log, agents: map[string]*agent{}}
}

// get returns the agent of e, created on first use, with a view no older
// than e. current is what requests route by now: an agent is only created
// for a name it holds, so that a request on an older snapshot cannot
// recreate an agent sync just dropped. get returns nil when e's name is no
// longer in current or after closeAll.
func (t *agentTable) get(e *registry.Entry, current routes) *agent {
	t.mu.RLock()
	a := t.agents[e.Name]
	t.mu.RUnlock()
	if a == nil {
		if a = t.create(e, current); a == nil {
			return nil
		}
	}
	a.refresh(e, t.build, t.log)
	return a
}

// create adds the agent of e unless another request did first.
func (t *agentTable) create(e *registry.Entry, current routes) *agent {
	t.mu.Lock()
	defer t.mu.Unlock()
	if a := t.agents[e.Name]; a != nil || t.closed {
		return a
	}
	if !current.has(e.Name) {
		return nil
	}
	a := &agent{name: e.Name, m: t.metrics.forAgent(e.Name)}
	v, _ := newView(e, nil, t.build, t.log)
	a.view.Store(v)
	t.agents[e.Name] = a
	return a
}

// sync brings the table in line with r: agents whose name r no longer
// routes, or whose override was added, removed or changed since the last
// sync, are dropped (pools closed, metric children deleted; a request
// creates the agent again), the others get the endpoints of their current
// entry. load returns the routes to sync with; syncs are serialised and
// each loads the routes once it runs, so that the last one to run sees the
// latest. It costs O(agents in the table × log(entries)).
func (t *agentTable) sync(load func() routes) {
	t.syncMu.Lock()
	defer t.syncMu.Unlock()
	r := load()
	prev := t.synced
	t.synced = r.ov
	var gone []*agent
	t.mu.Lock()
	for name, a := range t.agents {
		if !r.has(name) || (prev != r.ov && pinChanged(prev, r.ov, name)) {
			delete(t.agents, name)
			t.metrics.drop(name)
			gone = append(gone, a)
		}
	}
	live := make([]*agent, 0, len(t.agents))
	for _, a := range t.agents {
		live = append(live, a)
	}
	t.mu.Unlock()
	for _, a := range gone {
		a.close()
	}
	for _, a := range live {
		if e, ok := r.lookup(a.name); ok {
			a.refresh(e, t.build, t.log)
		}
	}
}

// each calls fn for every agent, holding the table's read lock: fn must
// not call other methods of the table.
func (t *agentTable) each(fn func(*agent)) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	for _, a := range t.agents {
		fn(a)
	}
}

// closeAll closes every pool; get returns nil from then on.
func (t *agentTable) closeAll() {
	t.mu.Lock()
	t.closed = true
	all := make([]*agent, 0, len(t.agents))
	for _, a := range t.agents {
		all = append(all, a)
	}
	t.mu.Unlock()
	for _, a := range all {
		a.close()
	}
}

// pinChanged reports whether the override of name differs between prev
// and next: added, removed, or other endpoints.
func pinChanged(prev, next *Overrides, name string) bool {
	var a, b *pin
	if prev != nil {
		a = prev.pins[name]
	}
	if next != nil {
		b = next.pins[name]
	}
	switch {
	case a == nil || b == nil:
		return a != b
	default:
		return !slices.Equal(a.eps, b.eps)
	}
}
