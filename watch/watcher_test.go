package watch

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/prometheus/client_golang/prometheus"
)

func TestDirectoryChanges(t *testing.T) {
	tests := []struct {
		name  string
		setup []string // files written before watching
		act   func(t *testing.T, dir string)
		want  []string // exactly the changed paths, relative to dir
	}{{
		name:  "write in place",
		setup: []string{"a.yaml"},
		act:   func(t *testing.T, dir string) { write(t, filepath.Join(dir, "a.yaml"), "v2") },
		want:  []string{"a.yaml"},
	}, {
		name:  "write temp then rename over",
		setup: []string{"a.yaml"},
		act:   func(t *testing.T, dir string) { renameOver(t, filepath.Join(dir, "a.yaml"), "v2") },
		want:  []string{"a.yaml"},
	}, {
		name: "mv in",
		act: func(t *testing.T, dir string) {
			src := filepath.Join(t.TempDir(), "b.yaml")
			write(t, src, "v1")
			must(t, os.Rename(src, filepath.Join(dir, "b.yaml")))
		},
		want: []string{"b.yaml"},
	}, {
		name: "cp in",
		act:  func(t *testing.T, dir string) { write(t, filepath.Join(dir, "b.yaml"), "v1") },
		want: []string{"b.yaml"},
	}, {
		name: "create empty",
		act: func(t *testing.T, dir string) {
			f, err := os.Create(filepath.Join(dir, "b.yaml"))
			must(t, err)
			must(t, f.Close())
		},
		want: []string{"b.yaml"},
	}, {
		name:  "delete",
		setup: []string{"a.yaml", "keep.yaml"},
		act:   func(t *testing.T, dir string) { must(t, os.Remove(filepath.Join(dir, "a.yaml"))) },
		want:  []string{"a.yaml"},
	}, {
		name:  "rename inside",
		setup: []string{"a.yaml"},
		act: func(t *testing.T, dir string) {
			must(t, os.Rename(filepath.Join(dir, "a.yaml"), filepath.Join(dir, "b.yaml")))
		},
		want: []string{"a.yaml", "b.yaml"},
	}, {
		name:  "mv out",
		setup: []string{"a.yaml"},
		act: func(t *testing.T, dir string) {
			must(t, os.Rename(filepath.Join(dir, "a.yaml"), filepath.Join(t.TempDir(), "a.yaml")))
		},
		want: []string{"a.yaml"},
	}, {
		name: "filtered files are not reported",
		act: func(t *testing.T, dir string) {
			write(t, filepath.Join(dir, "notes.txt"), "x") // first: its events come first
			write(t, filepath.Join(dir, "b.yaml"), "v1")
		},
		want: []string{"b.yaml"},
	}, {
		name:  "chmod alone is not a change",
		setup: []string{"a.yaml"},
		act: func(t *testing.T, dir string) {
			must(t, os.Chmod(filepath.Join(dir, "a.yaml"), 0o600))
			write(t, filepath.Join(dir, "b.yaml"), "v1")
		},
		want: []string{"b.yaml"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := dir(t)
			for _, name := range tt.setup {
				write(t, filepath.Join(d, name), "v1")
			}
			h := start(t, []string{d}, Options{Filter: yamlOnly})
			tt.act(t, d)
			want := make([]string, len(tt.want))
			for i, name := range tt.want {
				want[i] = filepath.Join(d, name)
			}
			h.expectChanges(want...)
		})
	}
}

func TestSingleFile(t *testing.T) {
	d := dir(t)
	cfg := filepath.Join(d, "sidecar.yaml")
	other := filepath.Join(d, "other.yaml")
	write(t, cfg, "v1")
	h := start(t, []string{cfg}, Options{Filter: func(string) bool { return false }})
	steps := []struct {
		name string
		act  func()
	}{
		{"rename over", func() { renameOver(t, cfg, "v2") }},
		{"rename over again", func() { renameOver(t, cfg, "v3") }},
		{"write in place", func() { write(t, cfg, "v4") }},
		{"delete", func() { must(t, os.Remove(cfg)) }},
		{"create", func() { write(t, cfg, "v5") }},
		{"mv over", func() {
			src := filepath.Join(t.TempDir(), "new.yaml")
			write(t, src, "v6")
			must(t, os.Rename(src, cfg))
		}},
	}
	for _, s := range steps {
		// A sibling changes first: were it reported, it would be seen first.
		write(t, other, s.name)
		s.act()
		h.expectChanges(cfg)
	}
}

func TestMissingFileAppears(t *testing.T) {
	d := dir(t)
	cfg := filepath.Join(d, "sidecar.yaml")
	h := start(t, []string{cfg}, Options{})
	renameOver(t, cfg, "v1")
	h.expectChanges(cfg)
}

func TestConfigMapSwap(t *testing.T) {
	d := dir(t)
	configMap(t, d, "2026_11_26_10_00_00.1", map[string]string{"a.yaml": "a1", "b.yaml": "b1"})
	h := start(t, []string{d}, Options{Filter: yamlOnly})

	configMapUpdate(t, d, "2026_11_26_10_00_00.1", "2026_11_26_10_05_00.2", map[string]string{"a.yaml": "a2", "b.yaml": "b2"})
	want := []string{d, filepath.Join(d, "a.yaml"), filepath.Join(d, "b.yaml")}
	h.expectChanges(want...)
	for _, p := range want[1:] {
		data, err := os.ReadFile(p)
		must(t, err)
		if !strings.HasSuffix(string(data), "2") {
			t.Errorf("%s = %q after the swap, want the new content", p, data)
		}
	}

	// A second swap: the watch survived the first.
	configMapUpdate(t, d, "2026_11_26_10_05_00.2", "2026_11_26_10_10_00.3", map[string]string{"a.yaml": "a3", "b.yaml": "b3"})
	h.expectChanges(want...)
}

func TestConfigMapSingleFile(t *testing.T) {
	d := dir(t)
	configMap(t, d, "2026_11_26_10_00_00.1", map[string]string{"sidecar.yaml": "v1", "other.yaml": "o1"})
	cfg := filepath.Join(d, "sidecar.yaml")
	h := start(t, []string{cfg}, Options{})
	versions := []string{"2026_11_26_10_00_00.1", "2026_11_26_10_05_00.2", "2026_11_26_10_10_00.3"}
	for i := 1; i < len(versions); i++ {
		v := strconv.Itoa(i + 1)
		configMapUpdate(t, d, versions[i-1], versions[i], map[string]string{"sidecar.yaml": "v" + v, "other.yaml": "o" + v})
		h.expectChanges(cfg)
	}
}

func TestBurstCoalesces(t *testing.T) {
	d := dir(t)
	path := filepath.Join(d, "a.yaml")
	const debounce = 50 * time.Millisecond
	h := start(t, []string{d}, Options{Debounce: debounce})

	const writes = 100
	lastWrite := make(chan time.Time, 1)
	go func() {
		tick := time.NewTicker(10 * time.Millisecond) // pacing the writes, not synchronising
		defer tick.Stop()
		for i := 1; i <= writes; i++ {
			<-tick.C
			if err := os.WriteFile(path, []byte(strconv.Itoa(i)), 0o644); err != nil {
				t.Error(err)
			}
		}
		lastWrite <- time.Now()
	}()

	// Read signals until none came for 10 × debounce after the last write.
	var last, lastSignal time.Time
	var quiet <-chan time.Time
	signals := 0
	for done := false; !done; {
		select {
		case ev := <-h.out:
			signals, lastSignal = signals+1, time.Now()
			if !slices.Equal(ev.Paths, []string{path}) {
				t.Fatalf("event paths = %q, want [%s]", ev.Paths, path)
			}
			if !last.IsZero() {
				quiet = time.After(10 * debounce) // bounded wait for an absence
			}
		case last = <-lastWrite:
			quiet = time.After(10 * debounce)
		case <-quiet:
			done = true
		case <-time.After(waitLimit):
			t.Fatalf("no signal within %v (%d signals)", waitLimit, signals)
		}
	}
	if !lastSignal.After(last) {
		t.Errorf("last signal at %v, before the last write at %v", lastSignal, last)
	}
	// The burst lasted about 1 s: with signals at least every 4 × debounce,
	// about 5 of them, never one per write.
	t.Logf("%d writes, %d signals, the last %v after the last write", writes, signals, lastSignal.Sub(last))
	if signals > writes/5 {
		t.Errorf("%d signals for %d writes, want them coalesced", signals, writes)
	}
}

func TestResync(t *testing.T) {
	d := dir(t)
	missing := filepath.Join(d, "missing")
	reg := prometheus.NewRegistry()
	h := start(t, []string{d, missing}, Options{Resync: 20 * time.Millisecond, Registerer: reg})
	ev := h.nextResync()
	if want := []string{d, missing}; !slices.Equal(ev.Paths, want) {
		t.Errorf("resync paths = %q, want %q", ev.Paths, want)
	}
	h.nextResync()
	resyncs := h.w.metrics.signals.WithLabelValues(kindResync)
	eventually(t, func() bool { return counter(t, resyncs) >= 2 }, "resync signals counted")
}

func TestDirectoryRecreated(t *testing.T) {
	parent := dir(t)
	d := filepath.Join(parent, "registry")
	must(t, os.Mkdir(d, 0o755))
	h := start(t, []string{d}, Options{Filter: yamlOnly})

	must(t, os.RemoveAll(d))
	h.changes(d)
	must(t, os.Mkdir(d, 0o755))
	h.changes(d)
	write(t, filepath.Join(d, "a.yaml"), "v1")
	h.changes(filepath.Join(d, "a.yaml"))

	// Replaced by a rename: what the new directory holds is reported, and
	// it is watched.
	next := filepath.Join(parent, "registry.new")
	must(t, os.Mkdir(next, 0o755))
	write(t, filepath.Join(next, "b.yaml"), "v1")
	must(t, os.Rename(d, filepath.Join(parent, "registry.old")))
	must(t, os.Rename(next, d))
	h.changes(d, filepath.Join(d, "b.yaml"))
	write(t, filepath.Join(d, "c.yaml"), "v1")
	h.changes(filepath.Join(d, "c.yaml"))
}

func TestDirectoryAppearsWithItsParent(t *testing.T) {
	base := dir(t)
	d := filepath.Join(base, "etc", "registry")
	h := start(t, []string{d}, Options{Resync: 20 * time.Millisecond})
	must(t, os.MkdirAll(d, 0o755))
	// The first resync may have been gathered before the directory existed;
	// the second was gathered after the first was taken.
	h.nextResync()
	h.nextResync()
	write(t, filepath.Join(d, "a.yaml"), "v1")
	h.changes(filepath.Join(d, "a.yaml"))
}

func TestSetPaths(t *testing.T) {
	a, b := dir(t), dir(t)
	h := start(t, []string{a}, Options{})
	if err := h.w.SetPaths([]string{b, ""}); err == nil {
		t.Fatal("SetPaths with an empty path: no error")
	}
	if got := h.w.Paths(); !slices.Equal(got, []string{a}) {
		t.Fatalf("paths after a failed SetPaths = %q, want %q", got, []string{a})
	}
	must(t, h.w.SetPaths([]string{b}))
	if ev := h.nextResync(); !slices.Equal(ev.Paths, []string{b}) {
		t.Fatalf("resync after SetPaths: paths = %q, want [%s]", ev.Paths, b)
	}
	write(t, filepath.Join(a, "x.yaml"), "v1") // no longer watched
	write(t, filepath.Join(b, "y.yaml"), "v1")
	h.expectChanges(filepath.Join(b, "y.yaml"))
}

func TestRunStops(t *testing.T) {
	before := runtime.NumGoroutine()
	d := dir(t)
	w, err := New([]string{d}, Options{Debounce: testDebounce, Resync: time.Millisecond})
	must(t, err)
	for round := range 2 { // Run may be called again after it returned
		ctx, cancel := context.WithCancel(context.Background())
		out := make(chan Event)
		done := make(chan error, 1)
		go func() { done <- w.Run(ctx, out) }()
		<-out // watching; the consumer is now busy: Run must stop anyway
		if err := w.Run(ctx, out); err == nil {
			t.Errorf("round %d: a second concurrent Run: no error", round)
		}
		write(t, filepath.Join(d, "a.yaml"), strconv.Itoa(round))
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("round %d: Run = %v, want nil", round, err)
			}
		case <-time.After(waitLimit):
			t.Fatalf("round %d: Run did not return after cancel", round)
		}
	}
	deadline := time.Now().Add(waitLimit)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			t.Fatalf("goroutines: %d before, %d after Run returned", before, runtime.NumGoroutine())
		}
		time.Sleep(time.Millisecond) // polling a condition, not synchronising
	}
	if err := w.Run(context.Background(), nil); err == nil {
		t.Error("Run with a nil channel: no error")
	}
}

func TestMetrics(t *testing.T) {
	d := dir(t)
	reg := prometheus.NewRegistry()
	h := start(t, []string{d}, Options{Registerer: reg})
	// A second watcher on the same registry shares the counters.
	if _, err := New([]string{d}, Options{Registerer: reg}); err != nil {
		t.Fatalf("second New on one registry: %v", err)
	}
	write(t, filepath.Join(d, "a.yaml"), "v1")
	h.changes(filepath.Join(d, "a.yaml"))
	m := h.w.metrics
	if n := counter(t, m.events); n < 1 {
		t.Errorf("events = %v, want at least 1", n)
	}
	// Counted once the send is done, after the receiver has the Event.
	eventually(t, func() bool { return counter(t, m.signals.WithLabelValues(kindChange)) >= 1 }, "change signal counted")
	if n := counter(t, m.signals.WithLabelValues(kindResync)); n != 1 {
		t.Errorf("resync signals = %v, want 1", n)
	}
	if n := counter(t, m.errors); n != 0 {
		t.Errorf("errors = %v, want 0", n)
	}

	// A consumer that does not take a due signal: later changes join it.
	deadline := time.Now().Add(waitLimit)
	for i := 0; counter(t, m.merged) == 0; i++ {
		if time.Now().After(deadline) {
			t.Fatal("no change merged into a due signal")
		}
		write(t, filepath.Join(d, "b.yaml"), strconv.Itoa(i))
		time.Sleep(testDebounce / 2) // pacing the writes, not synchronising
	}
	h.changes(filepath.Join(d, "b.yaml"))

	families, err := reg.Gather()
	must(t, err)
	var names []string
	for _, f := range families {
		names = append(names, f.GetName())
	}
	want := []string{"sidecard_watch_errors_total", "sidecard_watch_events_total",
		"sidecard_watch_merged_total", "sidecard_watch_signals_total"}
	if !slices.Equal(names, want) {
		t.Errorf("metrics = %q, want %q", names, want)
	}
}

func TestNew(t *testing.T) {
	tests := []struct {
		name    string
		paths   []string
		opts    Options
		want    []string
		wantErr bool
	}{
		{name: "no paths", want: []string{}},
		{name: "cleaned, sorted, deduplicated", paths: []string{"/b/", "/a/../b", "/a"}, want: []string{"/a", "/b"}},
		{name: "empty path", paths: []string{"/a", ""}, wantErr: true},
		{name: "negative debounce", opts: Options{Debounce: -1}, wantErr: true},
		{name: "negative resync turns it off", opts: Options{Resync: -1}, want: []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := New(tt.paths, tt.opts)
			if (err != nil) != tt.wantErr {
				t.Fatalf("New error = %v, want error %v", err, tt.wantErr)
			}
			if err == nil && !slices.Equal(w.Paths(), tt.want) {
				t.Errorf("paths = %q, want %q", w.Paths(), tt.want)
			}
		})
	}
	if wd, err := os.Getwd(); err == nil {
		w, err := New([]string{"registry"}, Options{})
		must(t, err)
		if got, want := w.Paths(), []string{filepath.Join(wd, "registry")}; !slices.Equal(got, want) {
			t.Errorf("relative path resolved to %q, want %q", got, want)
		}
	}
}

func TestOverflowResyncs(t *testing.T) {
	d := dir(t)
	fw, err := fsnotify.NewWatcher()
	must(t, err)
	defer fw.Close()
	m, err := newMetrics(nil)
	must(t, err)
	l := &loop{opts: Options{}.withDefaults(), metrics: m, fw: fw, errs: fw.Errors, roots: map[string]bool{}}
	l.reload([]string{d}, time.Now())
	l.p.reset()

	l.fsError(fsnotify.ErrEventOverflow, time.Now())
	if ev := l.p.event(); !ev.Resync || !slices.Equal(ev.Paths, []string{d}) {
		t.Errorf("after an overflow: event = %+v, want a resync of %s", ev, d)
	}
	if n := counter(t, m.errors); n != 1 {
		t.Errorf("errors = %v, want 1", n)
	}
	if got := fw.WatchList(); !slices.Contains(got, d) || !slices.Contains(got, filepath.Dir(d)) {
		t.Errorf("watch list = %q, want %s and its parent", got, d)
	}
}
