package watch

import (
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"
)

// BenchmarkEditToSignal measures the time from an edit of a watched file
// to the Event that names it, with the default debounce: one edit per
// iteration, p50, p99 and max reported in milliseconds. Run it with
// -benchtime=100x for 100 edits:
//
//	go test -run '^$' -bench EditToSignal -benchtime=100x ./watch
func BenchmarkEditToSignal(b *testing.B) {
	edits := []struct {
		name string
		edit func(b *testing.B, path, data string)
	}{
		{"write-in-place", func(b *testing.B, path, data string) { write(b, path, data) }},
		{"rename-over", func(b *testing.B, path, data string) { renameOver(b, path, data) }},
	}
	for _, e := range edits {
		b.Run(e.name, func(b *testing.B) {
			d := dir(b)
			path := filepath.Join(d, "a.yaml")
			write(b, path, "0")
			h := start(b, []string{d}, Options{Debounce: DefaultDebounce, Filter: yamlOnly})
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := range b.N {
				t0 := time.Now()
				e.edit(b, path, strconv.Itoa(i))
				h.changes(path)
				lat = append(lat, time.Since(t0))
			}
			b.StopTimer()
			slices.Sort(lat)
			ms := func(q float64) float64 {
				return float64(lat[int(q*float64(len(lat)-1))]) / float64(time.Millisecond)
			}
			b.ReportMetric(ms(0.50), "p50-ms")
			b.ReportMetric(ms(0.99), "p99-ms")
			b.ReportMetric(ms(1), "max-ms")
		})
	}
}
