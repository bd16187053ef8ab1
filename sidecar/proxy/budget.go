package proxy

import (
	"sync"
	"time"
)

// The retry budget's window: budgetBuckets buckets of one second each.
const (
	budgetBuckets = 10
	// minRetriesPerSecond is the floor of the budget, so that an agent with
	// little traffic can still retry.
	minRetriesPerSecond = 3
)

// retryBudget counts the requests and retries of one agent over a sliding
// window of budgetBuckets seconds and allows a retry while
// retries < percent% of requests + minRetriesPerSecond × window.
//
// It is safe for concurrent use; the zero value is an empty budget.
type retryBudget struct {
	mu      sync.Mutex
	buckets [budgetBuckets]budgetBucket
}

// budgetBucket counts one second.
type budgetBucket struct {
	sec               int64 // unix second the counts belong to
	requests, retries int64
}

// request counts one request at now.
func (b *retryBudget) request(now time.Time) {
	b.mu.Lock()
	b.bucket(now.Unix()).requests++
	b.mu.Unlock()
}

// tryRetry counts a retry at now and reports true when the budget allows
// it; a refused retry is not counted.
func (b *retryBudget) tryRetry(now time.Time, percent int) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	sec := now.Unix()
	var requests, retries int64
	for i := range b.buckets {
		if bk := &b.buckets[i]; sec-bk.sec < budgetBuckets && bk.sec <= sec {
			requests += bk.requests
			retries += bk.retries
		}
	}
	if (retries+1)*100 > requests*int64(percent)+minRetriesPerSecond*budgetBuckets*100 {
		return false
	}
	b.bucket(sec).retries++
	return true
}

// bucket returns the bucket of second sec, emptied if it held an older
// second. Called with b.mu held.
func (b *retryBudget) bucket(sec int64) *budgetBucket {
	bk := &b.buckets[uint64(sec)%budgetBuckets]
	if bk.sec != sec {
		*bk = budgetBucket{sec: sec}
	}
	return bk
}
