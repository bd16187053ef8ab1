package cache

import (
	"encoding/json"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sidecard/sidecard/registry"
)

// testEntry returns a valid entry named name at revision rev, parsed from
// its API form as the sidecar would see it.
func testEntry(t testing.TB, name string, rev int64) *registry.Entry {
	t.Helper()
	raw := fmt.Sprintf(`{
	  "name": %q,
	  "labels": {"team": "forecast"},
	  "endpoints": [{"url": "http://10.0.0.7:9001", "weight": 1}],
	  "card": {
	    "protocolVersion": "0.3.0", "name": %q, "description": "Forecasts <for> %s",
	    "url": "http://10.0.0.7:9001", "version": "1.0.0", "capabilities": {},
	    "defaultInputModes": ["text/plain"], "defaultOutputModes": ["text/plain"],
	    "skills": [{"id": "forecast", "name": "Forecast", "description": "Gives forecasts", "tags": ["weather"]}]
	  },
	  "revision": %d,
	  "updated_at": "2026-11-22T12:00:00Z",
	  "source": "api"
	}`, name, name, name, rev)
	e := new(registry.Entry)
	if err := json.Unmarshal([]byte(raw), e); err != nil {
		t.Fatalf("test entry %q: %v", name, err)
	}
	return e
}

// names returns the names of s's entries in order.
func names(s *Snapshot) []string {
	out := []string{}
	s.Index().Range(func(e *registry.Entry) bool {
		out = append(out, e.Name)
		return true
	})
	return out
}

// sortedKeys returns m's keys in order.
func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// newTestReplica returns a replica on a fresh registry and fake clock.
func newTestReplica(t testing.TB) (*Replica, *prometheus.Registry, *fakeClock) {
	t.Helper()
	reg := prometheus.NewRegistry()
	clk := newFakeClock()
	r, err := NewReplica(ReplicaOptions{Registerer: reg, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	return r, reg, clk
}

// metricValue returns the value of the counter or gauge name with labels
// in reg, or -1 when there is none.
func metricValue(t testing.TB, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if !labelsMatch(m.GetLabel(), labels) {
				continue
			}
			switch {
			case m.GetCounter() != nil:
				return m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				return m.GetGauge().GetValue()
			case m.GetHistogram() != nil:
				return float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return -1
}

// labelsMatch reports whether the label pairs ls equal want.
func labelsMatch[L interface {
	GetName() string
	GetValue() string
}](ls []L, want map[string]string) bool {
	if len(ls) != len(want) {
		return false
	}
	for _, l := range ls {
		if want[l.GetName()] != l.GetValue() {
			return false
		}
	}
	return true
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// fakeClock is a Clock that moves only when told to.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []fakeWaiter
}

type fakeWaiter struct {
	at time.Time
	ch chan time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- c.now
		return ch
	}
	c.waiters = append(c.waiters, fakeWaiter{at: c.now.Add(d), ch: ch})
	return ch
}

// Advance moves the clock by d and fires the waiters that are due.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if w.at.After(c.now) {
			kept = append(kept, w)
			continue
		}
		w.ch <- c.now
	}
	c.waiters = kept
}

// Waiters returns the number of pending After channels.
func (c *fakeClock) Waiters() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.waiters)
}
