package xds

import (
	"fmt"

	discovery "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
)

// deltaChanges is the content of a delta response. Its slices may be shared
// by the responses of several streams and are never modified once built.
type deltaChanges struct {
	resources []*discovery.Resource
	removed   []string
}

func (d deltaChanges) empty() bool { return len(d.resources) == 0 && len(d.removed) == 0 }

// deltaChanges returns what the client of wt, a watch with a state (not a
// first watch, see compareFirst), lacks. It considers the names changed since
// the client's watermark, from the change log, and the names of the request;
// it walks every resource only when the view's shape changed or the
// watermark is older than the log. It fails when the watermark is older than
// the tombstones too.
func (c *RegistryCache) deltaChanges(wt *deltaWatch, memo *memo) (deltaChanges, error) {
	w := wt.base.w
	if w > c.revision {
		return deltaChanges{}, fmt.Errorf("stream state at revision %d is ahead of the cache (%d)", w, c.revision)
	}
	logged := c.log.covers(w)
	if !logged && !c.tombs.covers(w) {
		return deltaChanges{}, fmt.Errorf("stream state at revision %d: %w", w, errStreamReset)
	}
	d := &differ{c: c, old: &wt.old, cur: &wt.cur, w: w, subscribed: wt.subscribed, marked: wt.marked}
	if logged {
		d.win = memo.window(w)
	}
	if logged && wt.old.sameShape(&wt.cur) {
		if wt.subscribed == nil && wt.marked == nil && wt.cur.wildcard {
			return memo.wildcardChanges(d), nil
		}
		d.considerAll(d.win.names)
		d.considerSet(wt.subscribed)
		d.considerSet(wt.marked)
		return d.out, nil
	}
	if !logged {
		c.metrics.fullComparisons.WithLabelValues(fullLagging).Inc()
	} else {
		c.metrics.fullComparisons.WithLabelValues(fullView).Inc()
	}
	d.seen = make(map[string]struct{})
	if wt.old.wildcard || wt.cur.wildcard {
		for r := range c.resources.all() {
			d.consider(r.name())
		}
	} else {
		d.considerSet(wt.cur.names)
		d.considerSet(wt.old.minus)
	}
	if logged {
		d.considerAll(d.win.names)
	} else {
		c.tombs.since(w, func(r *record) bool { d.consider(r.name); return true })
	}
	d.considerSet(wt.subscribed)
	d.considerSet(wt.marked)
	return d.out, nil
}

// compareKnown returns what a client holding the known versions lacks for
// view v in the resources of set: the resources it sees at another version,
// and removals of the known names it does not see (plus, without wildcard,
// of every subscribed name it does not see, known or not). It only reads
// set, v and known: on a snapshot, it runs outside the cache's mutex.
func compareKnown(set resourceSet, v *view, known map[string]string) deltaChanges {
	var out deltaChanges
	if v.wildcard {
		found := 0 // known names in set
		for r := range set.all() {
			held, ok := known[r.name()]
			if ok {
				found++
			}
			switch {
			case !v.wants(r.match):
				if ok {
					out.removed = append(out.removed, r.name())
				}
			case !ok || held != r.version():
				out.resources = append(out.resources, r.wire)
			}
		}
		if found < len(known) {
			for name := range known {
				if set.get(name) == nil {
					out.removed = append(out.removed, name)
				}
			}
		}
		return out
	}
	for name := range v.names {
		r := set.get(name)
		switch {
		case !v.wants(r.matchOrNil()):
			out.removed = append(out.removed, name)
		case known[name] != r.version():
			out.resources = append(out.resources, r.wire)
		}
	}
	return out
}

// presence is whether a client holds an entry: yes, no, or unknown (its
// history since the watermark is gone).
type presence int8

const (
	absent presence = iota
	present
	unknown
)

func presenceOf(held bool) presence {
	if held {
		return present
	}
	return absent
}

// differ decides, name by name, what a client holding view old at revision w
// lacks for view cur.
type differ struct {
	c        *RegistryCache
	old, cur *view
	w        int64
	win      *window // changes since w; nil when the log does not cover w
	// subscribed and marked are names the client must hear about, existing
	// or not (see deltaWatch).
	subscribed, marked map[string]struct{}
	seen               map[string]struct{} // names considered; nil when no name can come twice
	out                deltaChanges
}

func (d *differ) considerAll(names []string) {
	for _, name := range names {
		d.consider(name)
	}
}

func (d *differ) considerSet(names map[string]struct{}) {
	if len(names) > 0 && d.seen == nil {
		d.seen = make(map[string]struct{}, len(names))
		for _, name := range d.out.resources {
			d.seen[name.GetName()] = struct{}{}
		}
		for _, name := range d.out.removed {
			d.seen[name] = struct{}{}
		}
	}
	for name := range names {
		d.consider(name)
	}
}

// consider adds name to the output if the client lacks its current state:
// the resource when cur sees it and the client may not hold that version; a
// removal when cur does not see it and the client may hold it, or must hear
// about it.
func (d *differ) consider(name string) {
	if d.seen != nil {
		if _, dup := d.seen[name]; dup {
			return
		}
		d.seen[name] = struct{}{}
	}
	if _, gone := d.old.minus[name]; gone && !d.cur.wildcard {
		return // unsubscribed: nothing to tell
	}
	r := d.c.resources.get(name)
	_, forced := d.marked[name]
	if d.cur.wants(r.matchOrNil()) {
		if forced || r.revision > d.w || d.had(name, r) != present {
			d.out.resources = append(d.out.resources, r.wire)
		}
		return
	}
	_, asked := d.subscribed[name]
	if forced || asked || d.had(name, r) != absent {
		d.out.removed = append(d.out.removed, name)
	}
}

// had returns whether the client held name at the watermark; r is its current
// resource (nil if none).
func (d *differ) had(name string, r *resource) presence {
	if d.win != nil {
		if rec, ok := d.win.first[name]; ok {
			return presenceOf(d.old.wants(rec.prev))
		}
		return presenceOf(d.old.wants(r.matchOrNil()))
	}
	if !d.old.wildcard && !d.old.named(name) {
		return absent
	}
	if r != nil && r.revision <= d.w {
		return presenceOf(d.old.wants(r.match))
	}
	return unknown
}
