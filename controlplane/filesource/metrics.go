package filesource

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Values of the result label of sidecard_filesource_syncs_total.
const (
	resultSuccess = "success"
	resultError   = "error"
)

// metrics are the file source's Prometheus metrics.
type metrics struct {
	files       prometheus.Gauge
	fileErrors  prometheus.Gauge
	syncs       *prometheus.CounterVec
	lastSuccess prometheus.Gauge
}

// newMetrics builds the metrics and registers them with reg when reg is
// non-nil: all of them, or none.
func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		files: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "sidecard_filesource_files",
			Help: "Registry files found in the registry directories at the last sync.",
		}),
		fileErrors: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "sidecard_filesource_file_errors",
			Help: "Registry files (and unreadable directories) currently in error: not loaded, or with names owned by another source.",
		}),
		syncs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sidecard_filesource_syncs_total",
			Help: "Syncs of the registry directories, by result (success, error: a file failed to load or the store write failed).",
		}, []string{"result"}),
		lastSuccess: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "sidecard_filesource_last_sync_successful",
			Help: "1 when the last sync loaded every registry file and wrote the store, else 0.",
		}),
	}
	m.syncs.WithLabelValues(resultSuccess)
	m.syncs.WithLabelValues(resultError)
	if reg == nil {
		return m, nil
	}
	collectors := []prometheus.Collector{m.files, m.fileErrors, m.syncs, m.lastSuccess}
	for i, c := range collectors {
		if err := reg.Register(c); err != nil {
			for _, done := range collectors[:i] {
				reg.Unregister(done)
			}
			return nil, fmt.Errorf("register file source metrics: %w", err)
		}
	}
	return m, nil
}

// observeSync records the outcome of a sync: ok when every file loaded and
// the store write succeeded.
func (m *metrics) observeSync(ok bool) {
	if ok {
		m.syncs.WithLabelValues(resultSuccess).Inc()
		m.lastSuccess.Set(1)
		return
	}
	m.syncs.WithLabelValues(resultError).Inc()
	m.lastSuccess.Set(0)
}

// observeFiles records the number of registry files and of those in error.
func (m *metrics) observeFiles(files, inError int) {
	m.files.Set(float64(files))
	m.fileErrors.Set(float64(inError))
}
