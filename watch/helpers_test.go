package watch

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// waitLimit bounds every wait of the tests; it is reached only on failure.
const waitLimit = 5 * time.Second

// testDebounce is the debounce of most tests: short, to keep them fast.
const testDebounce = 10 * time.Millisecond

// harness runs a Watcher for one test.
type harness struct {
	t    testing.TB
	w    *Watcher
	out  chan Event
	stop context.CancelFunc
	done chan error // Run's result
}

// start runs a Watcher of paths with opts (Resync off unless set) and waits
// for its first Event, the resync that says the watches are in place. The
// watcher stops when the test ends.
func start(t testing.TB, paths []string, opts Options) *harness {
	t.Helper()
	if opts.Debounce == 0 {
		opts.Debounce = testDebounce
	}
	if opts.Resync == 0 {
		opts.Resync = -1
	}
	w, err := New(paths, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	h := run(t, w)
	ev := h.next()
	if !ev.Resync {
		t.Fatalf("first event = %+v, want a resync", ev)
	}
	return h
}

// run runs w until the test ends.
func run(t testing.TB, w *Watcher) *harness {
	ctx, cancel := context.WithCancel(context.Background())
	h := &harness{t: t, w: w, out: make(chan Event), stop: cancel, done: make(chan error, 1)}
	go func() { h.done <- w.Run(ctx, h.out) }()
	t.Cleanup(func() {
		cancel()
		if err := h.wait(); err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return h
}

// wait waits for Run to return and returns its result.
func (h *harness) wait() error {
	h.t.Helper()
	select {
	case err := <-h.done:
		h.done <- err // for the next caller
		return err
	case <-time.After(waitLimit):
		h.t.Fatalf("Run did not return within %v", waitLimit)
		return nil
	}
}

// next returns the next Event.
func (h *harness) next() Event {
	h.t.Helper()
	select {
	case ev := <-h.out:
		return ev
	case <-time.After(waitLimit):
		h.t.Fatalf("no event within %v", waitLimit)
		return Event{}
	}
}

// nextResync returns the next Resync Event, skipping change Events.
func (h *harness) nextResync() Event {
	h.t.Helper()
	for {
		if ev := h.next(); ev.Resync {
			return ev
		}
	}
}

// changes reads change Events until their paths include every path of
// want, and returns the union of their paths, sorted. Resync Events are
// skipped.
func (h *harness) changes(want ...string) []string {
	h.t.Helper()
	seen := map[string]bool{}
	for !hasAll(seen, want) {
		ev := h.next()
		if ev.Resync {
			continue
		}
		if !slices.IsSorted(ev.Paths) || len(slices.Compact(slices.Clone(ev.Paths))) != len(ev.Paths) {
			h.t.Fatalf("event paths %q are not sorted and unique", ev.Paths)
		}
		for _, p := range ev.Paths {
			seen[p] = true
		}
	}
	var got []string
	for p := range seen {
		got = append(got, p)
	}
	slices.Sort(got)
	return got
}

func hasAll(seen map[string]bool, want []string) bool {
	for _, p := range want {
		if !seen[p] {
			return false
		}
	}
	return true
}

// expectChanges reads change Events until their paths include want and
// fails unless their union is exactly want.
func (h *harness) expectChanges(want ...string) {
	h.t.Helper()
	slices.Sort(want)
	if got := h.changes(want...); !slices.Equal(got, want) {
		h.t.Fatalf("changed paths = %q, want %q", got, want)
	}
}

// yamlOnly is a Filter accepting *.yaml files.
func yamlOnly(path string) bool { return strings.HasSuffix(path, ".yaml") }

// dir returns a new directory with its symbolic links resolved, so that
// event paths compare equal to the paths the test builds.
func dir(t testing.TB) string {
	t.Helper()
	d, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// write writes data to path in place.
func write(t testing.TB, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// renameOver writes data to a temporary file next to path and renames it
// over path, as editors and atomic writers do.
func renameOver(t testing.TB, path, data string) {
	t.Helper()
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	write(t, tmp, data)
	must(t, os.Rename(tmp, path))
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// configMap lays out dir as a Kubernetes ConfigMap volume holding files:
// a timestamped directory ..<ts> with the files, ..data -> ..<ts>, and
// name -> ..data/name for each file.
func configMap(t testing.TB, dir, ts string, files map[string]string) {
	t.Helper()
	must(t, os.Mkdir(filepath.Join(dir, ".."+ts), 0o755))
	for name, data := range files {
		write(t, filepath.Join(dir, ".."+ts, name), data)
		must(t, os.Symlink(filepath.Join(configMapData, name), filepath.Join(dir, name)))
	}
	must(t, os.Symlink(".."+ts, filepath.Join(dir, configMapData)))
}

// configMapUpdate replaces the content of the ConfigMap volume dir (laid
// out by configMap at oldTS) with files, the way the kubelet does: a new
// timestamped directory, a ..data_tmp link renamed over ..data, then the
// old directory removed.
func configMapUpdate(t testing.TB, dir, oldTS, ts string, files map[string]string) {
	t.Helper()
	must(t, os.Mkdir(filepath.Join(dir, ".."+ts), 0o755))
	for name, data := range files {
		write(t, filepath.Join(dir, ".."+ts, name), data)
	}
	tmp := filepath.Join(dir, configMapDataTmp)
	must(t, os.Symlink(".."+ts, tmp))
	must(t, os.Rename(tmp, filepath.Join(dir, configMapData)))
	must(t, os.RemoveAll(filepath.Join(dir, ".."+oldTS)))
}

// eventually polls cond until it holds, failing the test after waitLimit.
func eventually(t testing.TB, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", waitLimit, what)
		}
		time.Sleep(time.Millisecond) // polling a condition, not synchronising
	}
}

// counter returns the value of counter c.
func counter(t testing.TB, c prometheus.Collector) float64 {
	t.Helper()
	ch := make(chan prometheus.Metric, 1)
	c.Collect(ch)
	var m dto.Metric
	if err := (<-ch).Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}
