package watch

import (
	"maps"
	"slices"
	"time"
)

// pending is the Event being gathered: the union of what happened since
// the last Event was sent. It is owned by Run's goroutine; the zero value
// is empty and ready to use.
type pending struct {
	paths  map[string]struct{}
	resync bool
	urgent bool      // send without waiting for the quiet period
	first  time.Time // of the first addition; zero when empty
	last   time.Time // of the latest addition
	adds   uint64    // additions ever, to tell whether an addition happened
	built  *Event    // the Event of the current content, once built
}

// add records that path may have changed at now.
func (p *pending) add(path string, now time.Time) {
	if p.paths == nil {
		p.paths = make(map[string]struct{})
	}
	p.paths[path] = struct{}{}
	p.touch(now)
}

// addResync records a resync of roots at now: it is sent without waiting
// for the quiet period.
func (p *pending) addResync(roots []string, now time.Time) {
	for _, r := range roots {
		p.add(r, now)
	}
	p.resync, p.urgent = true, true
	p.touch(now)
}

func (p *pending) touch(now time.Time) {
	if p.first.IsZero() {
		p.first = now
	}
	p.last = now
	p.adds++
	p.built = nil
}

// due returns when the pending Event may be sent: debounce after the last
// addition, at the latest maxDelayFactor × debounce after the first, at
// once when urgent. ok is false when nothing is pending.
func (p *pending) due(debounce time.Duration) (at time.Time, ok bool) {
	if p.first.IsZero() {
		return time.Time{}, false
	}
	if p.urgent {
		return p.first, true
	}
	at = p.last.Add(debounce)
	if limit := p.first.Add(maxDelayFactor * debounce); limit.Before(at) {
		at = limit
	}
	return at, true
}

// event returns the pending Event. Its Paths are a new slice, sorted; the
// same Event is returned until the next addition or reset.
func (p *pending) event() Event {
	if p.built == nil {
		p.built = &Event{Paths: slices.Sorted(maps.Keys(p.paths)), Resync: p.resync}
	}
	return *p.built
}

// reset empties p after its Event was sent.
func (p *pending) reset() {
	adds := p.adds
	*p = pending{adds: adds}
}
