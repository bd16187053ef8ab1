package loadtest

import (
	"errors"
	"slices"
	"time"
)

// Result is the measurement of one run.
type Result struct {
	// Requests is the number of measured responses.
	Requests int
	// Statuses counts the measured responses by status code.
	Statuses map[int]int
	// Elapsed is the measured window: from its start to the last measured
	// response, at most the run's Duration.
	Elapsed time.Duration
	// Errors counts connections that failed; Err joins their errors.
	Errors int
	Err    error

	latencies []time.Duration // sorted
}

// merge combines the workers' measurements of the window [start, end).
func merge(workers []*worker, start, end time.Time) Result {
	r := Result{Statuses: map[int]int{}}
	last := start
	var errs []error
	for _, w := range workers {
		r.latencies = append(r.latencies, w.latencies...)
		for s, n := range w.statuses {
			r.Statuses[s] += n
		}
		if w.last.After(last) {
			last = w.last
		}
		r.Errors += w.errs
		if w.err != nil {
			errs = append(errs, w.err)
		}
	}
	slices.Sort(r.latencies)
	r.Requests = len(r.latencies)
	r.Elapsed = min(last.Sub(start), end.Sub(start))
	r.Err = errors.Join(errs...)
	return r
}

// Throughput returns measured responses per second.
func (r Result) Throughput() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Requests) / r.Elapsed.Seconds()
}

// Non2xx returns the number of measured responses outside 200..299.
func (r Result) Non2xx() int {
	n := 0
	for s, c := range r.Statuses {
		if s < 200 || s > 299 {
			n += c
		}
	}
	return n
}

// Percentile returns the latency below which a fraction p (0..1) of the
// measured requests fall, 0 without requests.
func (r Result) Percentile(p float64) time.Duration {
	if len(r.latencies) == 0 {
		return 0
	}
	i := int(p * float64(len(r.latencies)))
	return r.latencies[min(max(i, 0), len(r.latencies)-1)]
}
