package xds

import (
	"strconv"

	"google.golang.org/protobuf/types/known/anypb"
)

// memo shares the work of one pass over the open watches (or of one
// CreateWatch): change-log windows by watermark, delta changes of wildcard
// streams by watermark and selector, and state-of-the-world wildcard
// resource lists by selector. It is valid while the cache's mutex is held
// and nothing is applied.
type memo struct {
	c        *RegistryCache
	version  string // the cache's revision, as responses carry it
	windows  map[int64]*window
	wildcard map[wildcardKey]deltaChanges
	full     map[string][]*anypb.Any
}

type wildcardKey struct {
	w   int64
	sel string
}

func newMemo(c *RegistryCache) *memo {
	return &memo{c: c, version: strconv.FormatInt(c.revision, 10)}
}

// window returns the change-log window after w, which the log must cover.
func (m *memo) window(w int64) *window {
	if win, ok := m.windows[w]; ok {
		return win
	}
	win := m.c.log.windowSince(w)
	if m.windows == nil {
		m.windows = make(map[int64]*window)
	}
	m.windows[w] = win
	return win
}

// wildcardChanges returns what a settled wildcard stream lacks, computed by
// d (which has no request names) once per watermark and selector.
func (m *memo) wildcardChanges(d *differ) deltaChanges {
	key := wildcardKey{w: d.w, sel: d.cur.sel.key}
	if out, ok := m.wildcard[key]; ok {
		return out
	}
	d.considerAll(d.win.names)
	if m.wildcard == nil {
		m.wildcard = make(map[wildcardKey]deltaChanges)
	}
	m.wildcard[key] = d.out
	return d.out
}

// fullState returns every resource that selector sel (a canonical key, see
// selector) matches, once per selector.
func (m *memo) fullState(sel selector) []*anypb.Any {
	if out, ok := m.full[sel.key]; ok {
		return out
	}
	m.c.metrics.fullComparisons.WithLabelValues(fullSotw).Inc()
	out := make([]*anypb.Any, 0, m.c.resources.len())
	for r := range m.c.resources.all() {
		if r.match.MatchesSelector(sel.labels) {
			out = append(out, r.wire.GetResource())
		}
	}
	if m.full == nil {
		m.full = make(map[string][]*anypb.Any)
	}
	m.full[sel.key] = out
	return out
}
