package proxy

import (
	"testing"
	"time"
)

func TestOutlierEjection(t *testing.T) {
	o := OutlierOptions{ConsecutiveErrors: 2, BaseEjection: 10 * time.Second, MaxEjection: 25 * time.Second, MaxEjectionPercent: 50}
	t0 := time.Unix(1000, 0)
	type step struct {
		ep     int
		failed bool
		at     time.Duration // since t0
		eject  bool          // want observe to report an ejection
	}
	cases := []struct {
		name  string
		n     int
		steps []step
		want  []time.Duration // ejectedUntil - t0 per endpoint, 0 for none
	}{
		{name: "success resets the count", n: 2, steps: []step{{ep: 0, failed: true}, {ep: 0}, {ep: 0, failed: true}},
			want: []time.Duration{0, 0}},
		{name: "ejected after two", n: 2, steps: []step{{ep: 0, failed: true}, {ep: 0, failed: true, eject: true}},
			want: []time.Duration{10 * time.Second, 0}},
		{name: "percent cap keeps the healthy one", n: 3, steps: []step{
			{ep: 0, failed: true}, {ep: 0, failed: true, eject: true},
			{ep: 1, failed: true}, {ep: 1, failed: true}}, // 2 of 3 would be 67%
			want: []time.Duration{10 * time.Second, 0, 0}},
		{name: "all failing are all ejected", n: 2, steps: []step{
			{ep: 0, failed: true}, {ep: 0, failed: true, eject: true},
			{ep: 1, failed: true}, {ep: 1, failed: true, eject: true}},
			want: []time.Duration{10 * time.Second, 10 * time.Second}},
		{name: "one endpoint", n: 1, steps: []step{{ep: 0, failed: true}, {ep: 0, failed: true, eject: true}},
			want: []time.Duration{10 * time.Second}},
		{name: "second ejection doubles, capped", n: 2, steps: []step{
			{ep: 0, failed: true}, {ep: 0, failed: true, eject: true},
			{ep: 0, failed: true, at: 11 * time.Second}, {ep: 0, failed: true, at: 11 * time.Second, eject: true},
			{ep: 0, failed: true, at: 32 * time.Second}, {ep: 0, failed: true, at: 32 * time.Second, eject: true}},
			want: []time.Duration{32*time.Second + 25*time.Second, 0}},
		{name: "healthy time lowers the multiplier", n: 2, steps: []step{
			{ep: 0, failed: true}, {ep: 0, failed: true, eject: true}, // until 10s, count 1
			{ep: 0, at: 30 * time.Second}, // healthy 20s past the end: count 0
			{ep: 0, failed: true, at: 30 * time.Second}, {ep: 0, failed: true, at: 30 * time.Second, eject: true}},
			want: []time.Duration{40 * time.Second, 0}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			weights := make([]int64, c.n)
			for i := range weights {
				weights[i] = 1
			}
			a, v := testView(t, weights...)
			for i, s := range c.steps {
				if got := a.observe(v, v.eps[s.ep], s.failed, t0.Add(s.at), &o); got != s.eject {
					t.Fatalf("step %d: ejected = %v, want %v", i, got, s.eject)
				}
			}
			for i, want := range c.want {
				got := time.Duration(0)
				if !v.eps[i].ejectedUntil.IsZero() {
					got = v.eps[i].ejectedUntil.Sub(t0)
				}
				if got != want {
					t.Errorf("endpoint %d ejected until +%v, want +%v", i, got, want)
				}
			}
		})
	}
}

func TestOutlierDisabled(t *testing.T) {
	a, v := testView(t, 1)
	o := OutlierOptions{ConsecutiveErrors: 0, BaseEjection: time.Second, MaxEjection: time.Second}
	for range 100 {
		if a.observe(v, v.eps[0], true, time.Unix(0, 0), &o) {
			t.Fatal("ejected with consecutive_errors 0")
		}
	}
}
