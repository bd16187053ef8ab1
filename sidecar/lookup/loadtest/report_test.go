package loadtest_test

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sidecard/sidecard/sidecar/lookup/loadtest"
)

// report collects the paired runs of each scenario, in the order first seen.
type report struct {
	order []string
	pairs map[string][]pair
}

// pair is one run of a scenario at rate (0: closed loop) and the reference
// run just before it.
type pair struct {
	rate     float64
	ref, sub loadtest.Result
}

// ratio is the subject's throughput over the reference's.
func (p pair) ratio() float64 { return p.sub.Throughput() / p.ref.Throughput() }

func newReport() *report { return &report{pairs: map[string][]pair{}} }

// add records a run of the scenario name at rate (0: closed loop).
func (r *report) add(name string, rate float64, ref, sub loadtest.Result) {
	if _, ok := r.pairs[name]; !ok {
		r.order = append(r.order, name)
	}
	r.pairs[name] = append(r.pairs[name], pair{rate: rate, ref: ref, sub: sub})
}

// median returns the median of f over the pairs of name.
func (r *report) median(name string, f func(pair) float64) float64 {
	var vs []float64
	for _, p := range r.pairs[name] {
		vs = append(vs, f(p))
	}
	slices.Sort(vs)
	if len(vs)%2 == 1 {
		return vs[len(vs)/2]
	}
	return (vs[len(vs)/2-1] + vs[len(vs)/2]) / 2
}

// finish logs the table, writes it to -load.out and fails the test on any
// non-2xx response.
func (r *report) finish(t *testing.T, bodyBytes int) {
	var b strings.Builder
	fmt.Fprintf(&b, "GOMAXPROCS=%d; %d connections; runs of %v after %v of warm-up; %d rounds; "+
		"entry body %d bytes. Medians over the rounds; each run paired with a reference run "+
		"(same connections and rate) just before it; half load is half of a closed-loop reference run "+
		"made just before the pair.\n\n",
		runtime.GOMAXPROCS(0), *loadConns, *loadDuration, *loadDuration/5, *loadRounds, bodyBytes)
	b.WriteString("| scenario | load | req/s | × reference (min–max) | p50 µs | p99 µs | reference p99 µs | non-2xx |\n")
	b.WriteString("|---|---|---:|---:|---:|---:|---:|---:|\n")
	for _, name := range r.order {
		ratios := make([]float64, 0, len(r.pairs[name]))
		non2xx := 0
		for _, p := range r.pairs[name] {
			ratios = append(ratios, p.ratio())
			non2xx += p.sub.Non2xx() + p.ref.Non2xx()
		}
		load := "closed loop"
		if rate := r.median(name, func(p pair) float64 { return p.rate }); rate > 0 {
			load = fmt.Sprintf("%.0f req/s", rate)
		}
		fmt.Fprintf(&b, "| %s | %s | %.0f | %.2f (%.2f–%.2f) | %s | %s | %s | %d |\n", name, load,
			r.median(name, func(p pair) float64 { return p.sub.Throughput() }),
			r.median(name, pair.ratio), slices.Min(ratios), slices.Max(ratios),
			r.micros(name, func(p pair) time.Duration { return p.sub.Percentile(0.5) }),
			r.micros(name, func(p pair) time.Duration { return p.sub.Percentile(0.99) }),
			r.micros(name, func(p pair) time.Duration { return p.ref.Percentile(0.99) }), non2xx)
		if non2xx != 0 {
			t.Errorf("%s: %d non-2xx responses", name, non2xx)
		}
	}
	t.Log("\n" + b.String())
	if *loadOut != "" {
		if err := os.WriteFile(*loadOut, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// micros formats the median of a latency in microseconds; "-" when the
// runs have no latencies (wrk).
func (r *report) micros(name string, f func(pair) time.Duration) string {
	d := r.median(name, func(p pair) float64 { return float64(f(p)) })
	if d == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f", d/float64(time.Microsecond))
}
