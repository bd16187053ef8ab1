package proxy

import "time"

// triedSet is the set of endpoints (indexes in a view) a request has
// tried. The registry allows 128 endpoints per entry; indexes past the
// set's 256 are never marked, which only allows a repeat attempt.
type triedSet [4]uint64

func (s *triedSet) add(i int) {
	if i < len(s)*64 {
		s[i/64] |= 1 << (i % 64)
	}
}

func (s *triedSet) has(i int) bool { return i < len(s)*64 && s[i/64]&(1<<(i%64)) != 0 }

// pick returns the index in v of the endpoint for the next attempt of a
// request under policy, or -1 when every endpoint is tried or ejected.
func (a *agent) pick(v *view, policy LBPolicy, tried *triedSet, now time.Time) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	if policy == LeastRequest {
		return v.leastRequest(tried, now)
	}
	return v.roundRobin(tried, now)
}

// available reports whether endpoint i may take the next attempt. Called
// with agent.mu held.
func (v *view) available(i int, tried *triedSet, now time.Time) bool {
	return !tried.has(i) && !v.eps[i].ejected(now)
}

// roundRobin is smooth weighted round robin (as in nginx) over the
// available endpoints: each gains its weight, the richest is chosen and
// pays the total. Weights 3 and 1 give a, a, b, a, a, a, b, a. Called with
// agent.mu held.
func (v *view) roundRobin(tried *triedSet, now time.Time) int {
	best := -1
	var total int64
	for i := range v.eps {
		if !v.available(i, tried, now) {
			continue
		}
		v.current[i] += v.weights[i]
		total += v.weights[i]
		if best < 0 || v.current[i] > v.current[best] {
			best = i
		}
	}
	if best >= 0 {
		v.current[best] -= total
	}
	return best
}

// leastRequest chooses the available endpoint with the fewest outstanding
// requests per unit of weight; the scan starts one endpoint later each
// call, so ties rotate. Called with agent.mu held.
func (v *view) leastRequest(tried *triedSet, now time.Time) int {
	n := len(v.eps)
	if n == 0 {
		return -1
	}
	start := v.next % n
	v.next = start + 1
	best := -1
	var bestLoad, bestWeight int64
	for k := range n {
		i := (start + k) % n
		if !v.available(i, tried, now) {
			continue
		}
		load, w := v.eps[i].outstanding.Load(), v.weights[i]
		if best < 0 || load*bestWeight < bestLoad*w {
			best, bestLoad, bestWeight = i, load, w
		}
	}
	return best
}
