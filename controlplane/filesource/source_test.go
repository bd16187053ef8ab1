package filesource

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sidecard/sidecard/registry"
)

// harness is a Source over a fake store, with its metrics registry and a
// settable clock.
type harness struct {
	src   *Source
	store *fakeStore
	reg   *prometheus.Registry
	now   time.Time
}

func newHarness(t *testing.T, dirs ...string) *harness {
	t.Helper()
	h := &harness{store: newFakeStore(), reg: prometheus.NewRegistry(), now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	src, err := New(dirs, h.store, Options{Registerer: h.reg, Now: func() time.Time { return h.now }})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	h.src = src
	return h
}

// sync runs a Sync that must not fail.
func (h *harness) sync(t *testing.T) SyncResult {
	t.Helper()
	res, err := h.src.Sync(context.Background())
	if err != nil {
		t.Fatalf("Sync: %v", err)
	}
	return res
}

// status returns the status of the file named base.
func (h *harness) status(t *testing.T, base string) FileStatus {
	t.Helper()
	for _, st := range h.src.Status() {
		if filepath.Base(st.Path) == base {
			return st
		}
	}
	t.Fatalf("no status for %s in %+v", base, h.src.Status())
	return FileStatus{}
}

// metric returns the value of the gauge or counter name (with the given
// result label, if any).
func (h *harness) metric(t *testing.T, name, result string) float64 {
	t.Helper()
	mfs, err := h.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			labelled := false
			for _, lp := range m.GetLabel() {
				labelled = labelled || (lp.GetName() == "result" && lp.GetValue() == result)
			}
			if result == "" || labelled {
				if m.GetCounter() != nil {
					return m.GetCounter().GetValue()
				}
				return m.GetGauge().GetValue()
			}
		}
	}
	t.Fatalf("metric %s{result=%q} not found", name, result)
	return 0
}

// install copies testdata/fixture to dir/as.
func install(t *testing.T, dir, fixture, as string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, as), readFixture(t, fixture), 0o644); err != nil {
		t.Fatal(err)
	}
}

func remove(t *testing.T, dir, name string) {
	t.Helper()
	if err := os.Remove(filepath.Join(dir, name)); err != nil {
		t.Fatal(err)
	}
}

func TestSyncLoadsEveryFormat(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"single.good.yaml", "list.good.yaml", "bare-card.good.yaml", "entries.good.json",
		"snake-case.good.yaml", "documents.good.yaml", "merge.good.yaml", "empty.good.yaml"} {
		install(t, dir, f, strings.Replace(f, ".good", "", 1))
	}
	install(t, dir, "single.good.yaml", ".hidden.yaml")      // hidden: skipped
	install(t, dir, "list.good.yaml", "notes.txt")           // other extension: skipped
	install(t, dir, "syntax.bad.yaml", "registry.yaml.orig") // editor backup: skipped
	if err := os.Mkdir(filepath.Join(dir, "sub.yaml"), 0o755); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, dir)

	res := h.sync(t)

	want := []string{"currency", "doc-one", "doc-two", "echo-agent", "json-one", "json-two", "m-one", "m-two", "snake", "travel", "weather"}
	if got := h.store.names(registry.SourceFile); !reflect.DeepEqual(got, want) {
		t.Fatalf("stored names = %q, want %q", got, want)
	}
	wantRes := SyncResult{Files: 8, Entries: 11, Written: 11, Revision: 11}
	if !reflect.DeepEqual(res, wantRes) {
		t.Errorf("result = %+v, want %+v", res, wantRes)
	}
	statuses := h.src.Status()
	if len(statuses) != 8 {
		t.Fatalf("got %d statuses, want 8: %+v", len(statuses), statuses)
	}
	for _, st := range statuses {
		if st.Error != "" || !st.LoadedAt.Equal(h.now) || st.Entries != len(st.Names) {
			t.Errorf("status %+v: want no error, loaded at %v", st, h.now)
		}
	}
	if st := h.status(t, "list.yaml"); !reflect.DeepEqual(st.Names, []string{"currency", "travel"}) {
		t.Errorf("list.yaml names = %q", st.Names)
	}
	for name, want := range map[string]float64{"sidecard_filesource_files": 8, "sidecard_filesource_file_errors": 0, "sidecard_filesource_last_sync_successful": 1} {
		if got := h.metric(t, name, ""); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	if got := h.metric(t, "sidecard_filesource_syncs_total", resultSuccess); got != 1 {
		t.Errorf("successful syncs = %v, want 1", got)
	}
}

func TestSyncUnchangedWritesNothing(t *testing.T) {
	dir := t.TempDir()
	install(t, dir, "single.good.yaml", "weather.yaml")
	install(t, dir, "list.good.yaml", "list.yaml")
	h := newHarness(t, dir)
	h.sync(t)
	loadedAt := h.now

	h.now = h.now.Add(time.Minute)
	res := h.sync(t)

	if n := len(h.store.calls()); n != 1 {
		t.Errorf("Apply called %d times, want 1 (none for the unchanged sync)", n)
	}
	if res.Written != 0 || res.Deleted != 0 || res.Revision != 3 {
		t.Errorf("result = %+v, want nothing written at revision 3", res)
	}
	if got := h.status(t, "weather.yaml").LoadedAt; !got.Equal(loadedAt) {
		t.Errorf("LoadedAt = %v, want the first load's %v", got, loadedAt)
	}
}

func TestSyncChangedFileWritesOnlyItsEntries(t *testing.T) {
	dir := t.TempDir()
	install(t, dir, "single.good.yaml", "weather.yaml")
	install(t, dir, "list.good.yaml", "list.yaml")
	h := newHarness(t, dir)
	h.sync(t)

	install(t, dir, "single-changed.good.yaml", "weather.yaml")
	h.now = h.now.Add(time.Minute)
	res := h.sync(t)

	calls := h.store.calls()
	if len(calls) != 2 || !reflect.DeepEqual(calls[1].puts, []string{"weather"}) || len(calls[1].deletes) != 0 {
		t.Fatalf("Apply calls = %+v, want a second one putting only weather", calls)
	}
	if res.Written != 1 {
		t.Errorf("Written = %d, want 1", res.Written)
	}
	if got := h.store.get("weather").Labels["zone"]; got != "eu-2" {
		t.Errorf("stored zone = %q, want eu-2", got)
	}
	if got := h.status(t, "weather.yaml").LoadedAt; !got.Equal(h.now) {
		t.Errorf("weather.yaml LoadedAt = %v, want %v", got, h.now)
	}
	if got := h.status(t, "list.yaml").LoadedAt; got.Equal(h.now) {
		t.Errorf("list.yaml LoadedAt moved to %v although it did not change", got)
	}
}

func TestSyncDeletesEntriesOfRemovedFile(t *testing.T) {
	dir := t.TempDir()
	install(t, dir, "single.good.yaml", "weather.yaml")
	install(t, dir, "list.good.yaml", "list.yaml")
	h := newHarness(t, dir)
	h.sync(t)

	remove(t, dir, "list.yaml")
	res := h.sync(t)

	if got := h.store.names(registry.SourceFile); !reflect.DeepEqual(got, []string{"weather"}) {
		t.Errorf("stored names = %q, want [weather]", got)
	}
	if res.Deleted != 2 || res.Files != 1 {
		t.Errorf("result = %+v, want 2 deleted, 1 file", res)
	}
	if len(h.src.Status()) != 1 {
		t.Errorf("statuses = %+v, want only weather.yaml", h.src.Status())
	}
}

func TestSyncBrokenFileKeepsPreviousEntries(t *testing.T) {
	dir := t.TempDir()
	install(t, dir, "single.good.yaml", "weather.yaml")
	install(t, dir, "list.good.yaml", "list.yaml")
	h := newHarness(t, dir)
	h.sync(t)
	loadedAt := h.now

	// Break list.yaml, add a file and remove one: the new file loads, the
	// broken file's entries stay, and nothing is deleted.
	install(t, dir, "skill-missing-id.bad.yaml", "list.yaml")
	install(t, dir, "bare-card.good.yaml", "echo.yaml")
	remove(t, dir, "weather.yaml")
	h.now = h.now.Add(time.Minute)
	res := h.sync(t)

	want := []string{"currency", "echo-agent", "travel", "weather"}
	if got := h.store.names(registry.SourceFile); !reflect.DeepEqual(got, want) {
		t.Fatalf("stored names = %q, want %q", got, want)
	}
	if res.Failed != 1 || res.Deleted != 0 || res.Written != 1 {
		t.Errorf("result = %+v, want 1 failed, 1 written, 0 deleted", res)
	}
	st := h.status(t, "list.yaml")
	if !strings.Contains(st.Error, "list.yaml:24: entry[1]: card.skills[0].id") {
		t.Errorf("list.yaml error = %q", st.Error)
	}
	if !reflect.DeepEqual(st.Names, []string{"currency", "travel"}) || !st.LoadedAt.Equal(loadedAt) {
		t.Errorf("list.yaml status = %+v, want the previous load's names and time", st)
	}
	if got := h.metric(t, "sidecard_filesource_file_errors", ""); got != 1 {
		t.Errorf("file_errors = %v, want 1", got)
	}
	if got := h.metric(t, "sidecard_filesource_last_sync_successful", ""); got != 0 {
		t.Errorf("last_sync_successful = %v, want 0", got)
	}
	if got := h.metric(t, "sidecard_filesource_syncs_total", resultError); got != 1 {
		t.Errorf("failed syncs = %v, want 1", got)
	}

	// Fixing the file deletes what no file defines any more.
	install(t, dir, "list.good.yaml", "list.yaml")
	res = h.sync(t)
	want = []string{"currency", "echo-agent", "travel"}
	if got := h.store.names(registry.SourceFile); !reflect.DeepEqual(got, want) {
		t.Errorf("after the fix, stored names = %q, want %q", got, want)
	}
	if res.Failed != 0 || res.Deleted != 1 || h.status(t, "list.yaml").Error != "" {
		t.Errorf("after the fix, result = %+v, status = %+v", res, h.status(t, "list.yaml"))
	}
	if got := h.metric(t, "sidecard_filesource_last_sync_successful", ""); got != 1 {
		t.Errorf("after the fix, last_sync_successful = %v, want 1", got)
	}
}

func TestSyncDuplicateNameFailsTheLaterFile(t *testing.T) {
	dir := t.TempDir()
	install(t, dir, "single.good.yaml", "a.yaml")
	install(t, dir, "weather-again.good.yaml", "b.yaml")
	h := newHarness(t, dir)

	res := h.sync(t)

	if res.Failed != 1 {
		t.Errorf("Failed = %d, want 1", res.Failed)
	}
	if got := h.store.get("weather"); got == nil || got.Card.Version != "1.0.0" {
		t.Errorf("stored weather = %+v, want a.yaml's (version 1.0.0)", got)
	}
	want := `b.yaml:2: entry[0]: name "weather" already defined at ` + filepath.Join(dir, "a.yaml") + ":2"
	if got := h.status(t, "b.yaml").Error; !strings.Contains(got, want) {
		t.Errorf("b.yaml error = %q, want it to contain %q", got, want)
	}
	if h.status(t, "a.yaml").Error != "" {
		t.Errorf("a.yaml status = %+v, want no error", h.status(t, "a.yaml"))
	}
}

func TestSyncLeavesNamesOwnedByAnotherSource(t *testing.T) {
	dir := t.TempDir()
	install(t, dir, "list.good.yaml", "list.yaml")
	h := newHarness(t, dir)
	h.store.putAPI(&registry.Entry{Name: "travel", Labels: map[string]string{"team": "api"}})

	res := h.sync(t)

	if got := h.store.get("travel"); got.Source != registry.SourceAPI || got.Labels["team"] != "api" {
		t.Errorf("travel = %+v, want the API's entry untouched", got)
	}
	if res.Failed != 0 || !reflect.DeepEqual(res.Skipped, []string{"travel"}) {
		t.Errorf("result = %+v, want travel skipped and nothing failed", res)
	}
	st := h.status(t, "list.yaml")
	if !reflect.DeepEqual(st.Names, []string{"currency"}) || !strings.Contains(st.Error, `name "travel" is owned by another source`) {
		t.Errorf("status = %+v, want currency loaded and travel reported", st)
	}
	if got := h.metric(t, "sidecard_filesource_file_errors", ""); got != 1 {
		t.Errorf("file_errors = %v, want 1", got)
	}
	calls := h.store.calls()
	if len(calls) != 1 || !reflect.DeepEqual(calls[0].puts, []string{"currency"}) {
		t.Errorf("Apply calls = %+v, want one putting currency only", calls)
	}
}

func TestSyncStoreErrorChangesNothing(t *testing.T) {
	dir := t.TempDir()
	install(t, dir, "single.good.yaml", "weather.yaml")
	h := newHarness(t, dir)
	h.store.fail(errStoreDown)

	_, err := h.src.Sync(context.Background())

	if !errors.Is(err, errStoreDown) {
		t.Fatalf("Sync error = %v, want %v", err, errStoreDown)
	}
	if st := h.src.Status(); len(st) != 0 {
		t.Errorf("Status = %+v, want none published", st)
	}
	if got := h.metric(t, "sidecard_filesource_syncs_total", resultError); got != 1 {
		t.Errorf("failed syncs = %v, want 1", got)
	}

	h.store.fail(nil)
	if res := h.sync(t); res.Written != 1 {
		t.Errorf("after recovery, result = %+v, want weather written", res)
	}
}

func TestSetDirs(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	install(t, a, "single.good.yaml", "weather.yaml")
	install(t, b, "list.good.yaml", "list.yaml")
	h := newHarness(t, a)
	h.sync(t)

	h.src.SetDirs([]string{b, "", b})
	res := h.sync(t)

	if got := h.store.names(registry.SourceFile); !reflect.DeepEqual(got, []string{"currency", "travel"}) {
		t.Errorf("stored names = %q, want b's", got)
	}
	if res.Written != 2 || res.Deleted != 1 || res.Files != 1 {
		t.Errorf("result = %+v, want 2 written, 1 deleted, 1 file", res)
	}
}

func TestSyncUnreadableDirectoryDeletesNothing(t *testing.T) {
	dir, missing := t.TempDir(), filepath.Join(t.TempDir(), "missing")
	install(t, dir, "single.good.yaml", "weather.yaml")
	h := newHarness(t, dir, missing)
	h.store.putAPI(&registry.Entry{Name: "api-owned"})
	if _, err := h.store.Apply(context.Background(), registry.SourceFile, []*registry.Entry{{Name: "left-over"}}, nil); err != nil {
		t.Fatal(err)
	}

	res := h.sync(t)

	if got := h.store.names(registry.SourceFile); !reflect.DeepEqual(got, []string{"left-over", "weather"}) {
		t.Errorf("stored names = %q, want left-over kept and weather loaded", got)
	}
	if res.Failed != 1 || res.Files != 1 {
		t.Errorf("result = %+v, want 1 file and 1 failure", res)
	}
	if st := h.status(t, "missing"); !strings.Contains(st.Error, "read registry directory") {
		t.Errorf("status of the missing directory = %+v", st)
	}
}

func TestSyncWaitsForTheRunningSync(t *testing.T) {
	h := newHarness(t, t.TempDir())
	h.src.sem <- struct{}{} // as if a Sync were running
	ctx, cancel := context.WithCancel(context.Background())
	cancel()

	if _, err := h.src.Sync(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Sync error = %v, want context.Canceled", err)
	}
	<-h.src.sem
	if _, err := h.src.Sync(context.Background()); err != nil {
		t.Errorf("Sync after release: %v", err)
	}
}

func TestSyncAndStatusConcurrently(t *testing.T) {
	dir := t.TempDir()
	install(t, dir, "single.good.yaml", "weather.yaml")
	install(t, dir, "list.good.yaml", "list.yaml")
	h := newHarness(t, dir)
	h.src.now = time.Now // the harness clock is not for concurrent use

	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if _, err := h.src.Sync(context.Background()); err != nil {
				t.Errorf("Sync: %v", err)
			}
		})
		wg.Go(func() {
			for _, st := range h.src.Status() {
				st.Names = append(st.Names[:0], "scribble") // the result is the caller's
			}
		})
	}
	wg.Wait()

	if got := h.store.names(registry.SourceFile); len(got) != 3 {
		t.Errorf("stored names = %q, want 3", got)
	}
	if n := len(h.store.calls()); n != 1 {
		t.Errorf("Apply called %d times, want 1", n)
	}
	if st := h.status(t, "weather.yaml"); !reflect.DeepEqual(st.Names, []string{"weather"}) {
		t.Errorf("weather.yaml names = %q: a caller's change leaked into the source", st.Names)
	}
}

func TestNew(t *testing.T) {
	tests := []struct {
		name string
		dirs []string
		w    Writer
		want string
	}{
		{"no writer", []string{"x"}, nil, "a Writer is required"},
		{"empty dir", []string{"x", ""}, newFakeStore(), "empty registry directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.dirs, tt.w, Options{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New error = %v, want one containing %q", err, tt.want)
			}
		})
	}
	t.Run("metrics registered twice", func(t *testing.T) {
		reg := prometheus.NewRegistry()
		if _, err := New(nil, newFakeStore(), Options{Registerer: reg}); err != nil {
			t.Fatal(err)
		}
		if _, err := New(nil, newFakeStore(), Options{Registerer: reg}); err == nil {
			t.Error("second New with the same registerer succeeded, want an error")
		}
	})
}

func TestExampleRegistryLoads(t *testing.T) {
	dir := filepath.Join("..", "..", "examples", "registry")
	h := newHarness(t, dir)

	res := h.sync(t)

	for _, st := range h.src.Status() {
		if st.Error != "" {
			t.Errorf("%s: %s", st.Path, st.Error)
		}
	}
	if res.Failed != 0 || res.Entries < 8 {
		t.Errorf("result = %+v, want at least 8 entries and no failure", res)
	}
	if got := len(h.store.names(registry.SourceFile)); got != res.Entries {
		t.Errorf("stored %d entries, want %d", got, res.Entries)
	}
}
