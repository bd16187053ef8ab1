package watch

import (
	"slices"
	"testing"
	"time"
)

func TestPendingDue(t *testing.T) {
	const d = 10 * time.Millisecond
	t0 := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	at := func(n int) time.Time { return t0.Add(time.Duration(n) * d / 2) } // every half debounce
	tests := []struct {
		name    string
		fill    func(p *pending)
		wantDue time.Time
		wantOK  bool
	}{{
		name: "empty",
		fill: func(*pending) {},
	}, {
		name:    "one change waits for the quiet period",
		fill:    func(p *pending) { p.add("/a", t0) },
		wantDue: t0.Add(d), wantOK: true,
	}, {
		name: "a later change pushes it out",
		fill: func(p *pending) {
			p.add("/a", at(0))
			p.add("/b", at(1))
		},
		wantDue: at(1).Add(d), wantOK: true,
	}, {
		name: "a stream of changes is sent after 4 debounces",
		fill: func(p *pending) {
			for n := range 20 {
				p.add("/a", at(n))
			}
		},
		wantDue: t0.Add(maxDelayFactor * d), wantOK: true,
	}, {
		name: "a resync is sent at once",
		fill: func(p *pending) {
			p.add("/a", at(0))
			p.addResync([]string{"/r"}, at(1))
		},
		wantDue: at(0), wantOK: true,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p pending
			tt.fill(&p)
			due, ok := p.due(d)
			if ok != tt.wantOK || !due.Equal(tt.wantDue) {
				t.Errorf("due = %v, %v; want %v, %v", due, ok, tt.wantDue, tt.wantOK)
			}
		})
	}
}

func TestPendingEvent(t *testing.T) {
	t0 := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	var p pending
	p.add("/d/b", t0)
	p.add("/d/a", t0)
	p.add("/d/b", t0)
	ev := p.event()
	if want := []string{"/d/a", "/d/b"}; !slices.Equal(ev.Paths, want) || ev.Resync {
		t.Fatalf("event = %+v, want paths %q, no resync", ev, want)
	}
	p.addResync([]string{"/d"}, t0)
	ev = p.event()
	if want := []string{"/d", "/d/a", "/d/b"}; !slices.Equal(ev.Paths, want) || !ev.Resync {
		t.Fatalf("event = %+v, want paths %q and a resync", ev, want)
	}
	adds := p.adds
	p.reset()
	if _, ok := p.due(time.Millisecond); ok {
		t.Error("due after reset")
	}
	if p.adds != adds {
		t.Errorf("adds = %d after reset, want %d", p.adds, adds)
	}
	p.add("/d/c", t0)
	if ev := p.event(); !slices.Equal(ev.Paths, []string{"/d/c"}) || ev.Resync {
		t.Errorf("event after reset = %+v, want only /d/c", ev)
	}
}
