package proxy

import (
	"testing"
	"time"
)

func TestRetryBudget(t *testing.T) {
	t0 := time.Unix(1_000_000, 0)
	cases := []struct {
		name     string
		requests int // spread over the first second
		percent  int
		at       time.Duration // when the retries are tried
		want     int           // retries allowed
	}{
		{name: "floor without traffic", requests: 0, percent: 20, want: 30},
		{name: "percent of traffic", requests: 1000, percent: 20, want: 230},
		{name: "zero percent keeps the floor", requests: 1000, percent: 0, want: 30},
		{name: "old requests leave the window", requests: 1000, percent: 20, at: 10 * time.Second, want: 30},
		{name: "inside the window", requests: 1000, percent: 20, at: 9 * time.Second, want: 230},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var b retryBudget
			for range c.requests {
				b.request(t0)
			}
			got := 0
			for b.tryRetry(t0.Add(c.at), c.percent) {
				got++
				if got > 10_000 {
					t.Fatal("unbounded")
				}
			}
			if got != c.want {
				t.Errorf("allowed %d retries, want %d", got, c.want)
			}
		})
	}
}

// TestRetryBudgetRefills checks that spent retries leave the window too.
func TestRetryBudgetRefills(t *testing.T) {
	var b retryBudget
	t0 := time.Unix(1_000_000, 0)
	for b.tryRetry(t0, 20) {
	}
	if b.tryRetry(t0.Add(9*time.Second), 20) {
		t.Fatal("a retry was allowed while the window is full of retries")
	}
	if !b.tryRetry(t0.Add(10*time.Second), 20) {
		t.Fatal("no retry allowed once the spent ones left the window")
	}
}
