package proxy

import (
	"log/slog"
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

	mu     sync.RWMutex
	agents map[string]*agent
	closed bool // set by closeAll; get returns nil afterwards
}

func newAgentTable(build endpointBuilder, m *metrics, log *slog.Logger) *agentTable {
	return &agentTable{build: build, metrics: m, log: log, agents: map[string]*agent{}}
}

// get returns the agent of e, created on first use, with a view no older
// than e. current is the replica's index now: an agent is only created for
// a name it holds, so that a request on an older snapshot cannot recreate
// an agent sync just dropped. get returns nil when e's name is no longer
// in current or after closeAll.
func (t *agentTable) get(e *registry.Entry, current *registry.Index) *agent {
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
func (t *agentTable) create(e *registry.Entry, current *registry.Index) *agent {
	t.mu.Lock()
	defer t.mu.Unlock()
	if a := t.agents[e.Name]; a != nil || t.closed {
		return a
	}
	if _, ok := current.Get(e.Name); !ok {
		return nil
	}
	a := &agent{name: e.Name, m: t.metrics.forAgent(e.Name)}
	v, _ := newView(e, nil, t.build, t.log)
	a.view.Store(v)
	t.agents[e.Name] = a
	return a
}

// sync brings the table in line with ix: agents whose name ix no longer
// holds are dropped (pools closed, metric children deleted), the others
// get the endpoints of their current entry. It costs O(agents in the
// table × log(entries)).
func (t *agentTable) sync(ix *registry.Index) {
	var gone []*agent
	t.mu.Lock()
	for name, a := range t.agents {
		if _, ok := ix.Get(name); !ok {
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
		if e, ok := ix.Get(a.name); ok {
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
