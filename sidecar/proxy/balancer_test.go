package proxy

import (
	"strings"
	"testing"
	"time"
)

// testView returns an agent and a view of endpoints named by names with
// weights, which are never dialled.
func testView(t *testing.T, weights ...int64) (*agent, *view) {
	t.Helper()
	v := &view{current: make([]int64, len(weights))}
	for i, w := range weights {
		v.eps = append(v.eps, &endpoint{url: string(rune('a' + i))})
		v.weights = append(v.weights, w)
	}
	a := &agent{name: "t"}
	a.view.Store(v)
	return a, v
}

// picks returns the sequence of n first-attempt picks as endpoint names.
func picks(a *agent, v *view, policy LBPolicy, n int, now time.Time) string {
	var b strings.Builder
	for range n {
		var tried triedSet
		if i := a.pick(v, policy, &tried, now); i >= 0 {
			b.WriteString(v.eps[i].url)
		} else {
			b.WriteByte('-')
		}
	}
	return b.String()
}

func TestRoundRobin(t *testing.T) {
	now := time.Unix(1000, 0)
	cases := []struct {
		name    string
		weights []int64
		eject   []int
		want    string
	}{
		{name: "equal", weights: []int64{1, 1, 1}, want: "abcabc"},
		{name: "weighted, smooth", weights: []int64{3, 1}, want: "aabaaaba"},
		{name: "five one one", weights: []int64{5, 1, 1}, want: "aabacaa"},
		{name: "ejected skipped", weights: []int64{1, 1, 1}, eject: []int{1}, want: "acacac"},
		{name: "all ejected", weights: []int64{1, 1}, eject: []int{0, 1}, want: "---"},
		{name: "none", weights: nil, want: "--"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, v := testView(t, c.weights...)
			for _, i := range c.eject {
				v.eps[i].ejectedUntil = now.Add(time.Second)
			}
			if got := picks(a, v, RoundRobin, len(c.want), now); got != c.want {
				t.Errorf("picks = %s, want %s", got, c.want)
			}
		})
	}
}

func TestLeastRequest(t *testing.T) {
	now := time.Unix(1000, 0)
	cases := []struct {
		name        string
		weights     []int64
		outstanding []int64
		want        string
	}{
		{name: "idle rotates", weights: []int64{1, 1, 1}, outstanding: []int64{0, 0, 0}, want: "abcabc"},
		{name: "least loaded", weights: []int64{1, 1, 1}, outstanding: []int64{3, 1, 2}, want: "bbb"},
		{name: "per weight", weights: []int64{4, 1}, outstanding: []int64{3, 1}, want: "aaa"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, v := testView(t, c.weights...)
			for i, n := range c.outstanding {
				v.eps[i].outstanding.Store(n)
			}
			if got := picks(a, v, LeastRequest, len(c.want), now); got != c.want {
				t.Errorf("picks = %s, want %s", got, c.want)
			}
		})
	}
}

// TestPickSkipsTried checks that the attempts of one request go to
// distinct endpoints, under both policies.
func TestPickSkipsTried(t *testing.T) {
	for _, policy := range []LBPolicy{RoundRobin, LeastRequest} {
		t.Run(string(policy), func(t *testing.T) {
			a, v := testView(t, 5, 1, 1)
			var tried triedSet
			seen := map[int]bool{}
			for range 3 {
				i := a.pick(v, policy, &tried, time.Unix(0, 0))
				if i < 0 || seen[i] {
					t.Fatalf("pick = %d after %v", i, seen)
				}
				seen[i] = true
				tried.add(i)
			}
			if i := a.pick(v, policy, &tried, time.Unix(0, 0)); i != -1 {
				t.Errorf("pick after trying all = %d, want -1", i)
			}
		})
	}
}

func TestTriedSet(t *testing.T) {
	var s triedSet
	for _, i := range []int{0, 63, 64, 127, 255} {
		s.add(i)
	}
	for i := range 300 {
		want := i == 0 || i == 63 || i == 64 || i == 127 || i == 255
		if s.has(i) != want {
			t.Errorf("has(%d) = %v", i, !want)
		}
	}
	s.add(1000) // past the set: ignored
	if s.has(1000) {
		t.Error("has(1000)")
	}
}
