package main

import (
	"math"
	"slices"
	"time"
)

// summary is the distribution of a set of durations, in milliseconds.
type summary struct {
	Count int     `json:"count"`
	P50   float64 `json:"p50_ms"`
	P99   float64 `json:"p99_ms"`
	Max   float64 `json:"max_ms"`
}

// summarise returns the summary of ds, which it sorts. Percentiles are by
// nearest rank.
func summarise(ds []time.Duration) summary {
	if len(ds) == 0 {
		return summary{}
	}
	slices.Sort(ds)
	return summary{Count: len(ds), P50: ms(rank(ds, 0.50)), P99: ms(rank(ds, 0.99)), Max: ms(ds[len(ds)-1])}
}

// rank returns the p-quantile of sorted ds by nearest rank.
func rank(ds []time.Duration, p float64) time.Duration {
	i := int(math.Ceil(p*float64(len(ds)))) - 1
	return ds[max(i, 0)]
}

// ms returns d in milliseconds.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
