package proxy

import "time"

// observe records the outcome of an attempt on ep, an endpoint of v, at
// now: failed is true for a connect or transport error and for a 5xx
// response. It reports whether the failure ejected ep.
//
// After o.ConsecutiveErrors failures in a row ep is ejected for
// BaseEjection × its ejection count, at most MaxEjection, provided the
// ejected endpoints of v stay within MaxEjectionPercent or every other
// endpoint is failing too. Each BaseEjection an endpoint stays healthy
// after an ejection lowers its count by one.
func (a *agent) observe(v *view, ep *endpoint, failed bool, now time.Time, o *OutlierOptions) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !failed {
		ep.consecutive = 0
		ep.decay(now, o.BaseEjection)
		return false
	}
	ep.consecutive++
	if o.ConsecutiveErrors == 0 || ep.consecutive < o.ConsecutiveErrors || ep.ejected(now) || !v.mayEject(ep, now, o) {
		return false
	}
	ep.ejections++
	ep.ejectedUntil = now.Add(min(o.BaseEjection*time.Duration(ep.ejections), o.MaxEjection))
	ep.decayFrom = ep.ejectedUntil
	ep.consecutive = 0
	return true
}

// mayEject reports whether ejecting ep keeps the ejected endpoints of v
// within o.MaxEjectionPercent, or every other endpoint of v is ejected or
// failing. Called with agent.mu held.
func (v *view) mayEject(ep *endpoint, now time.Time, o *OutlierOptions) bool {
	ejected, allFailing := 0, true
	for _, e := range v.eps {
		switch {
		case e == ep:
		case e.ejected(now):
			ejected++
		case e.consecutive < o.ConsecutiveErrors:
			allFailing = false
		}
	}
	return allFailing || (ejected+1)*100 <= o.MaxEjectionPercent*len(v.eps)
}

// decay lowers ep's ejection count by one per base it has stayed healthy
// since its last ejection ended. Called with agent.mu held.
func (ep *endpoint) decay(now time.Time, base time.Duration) {
	if ep.ejections == 0 || now.Before(ep.decayFrom) {
		return
	}
	k := int(now.Sub(ep.decayFrom) / base)
	if k == 0 {
		return
	}
	ep.ejections = max(ep.ejections-k, 0)
	ep.decayFrom = ep.decayFrom.Add(time.Duration(k) * base)
}
