package view

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sidecard/sidecard/registry"
)

// waitTimeout bounds every wait of these tests; a pass takes milliseconds.
const waitTimeout = 5 * time.Second

// startView runs a View over feed until the test ends.
func startView(t *testing.T, feed Feed, opts Options) *View {
	t.Helper()
	v, err := New(feed, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- v.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run returned %v after cancel, want nil", err)
		}
	})
	return v
}

// waitFor waits until v has reached rev.
func waitFor(t *testing.T, v *View, rev int64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := v.WaitFor(ctx, rev); err != nil {
		t.Fatalf("WaitFor(%d): %v", rev, err)
	}
}

// names returns the names in ix, in order.
func names(ix *registry.Index) []string {
	var out []string
	ix.Range(func(e *registry.Entry) bool {
		out = append(out, e.Name)
		return true
	})
	return out
}

func TestViewFollowsFeed(t *testing.T) {
	tests := []struct {
		name      string
		initial   []op   // committed before Run
		batches   [][]op // committed one batch at a time after the view loaded
		batchSize int
		compact   bool // drop the history with the last batch
		want      []string
		wantLoads map[string]float64
	}{
		{
			name:      "initial list only",
			initial:   []op{put("a"), put("b")},
			want:      []string{"a", "b"},
			wantLoads: map[string]float64{loadInitial: 1, loadCompacted: 0},
		},
		{
			name:      "empty store",
			wantLoads: map[string]float64{loadInitial: 1, loadCompacted: 0},
		},
		{
			name:      "puts and deletes after load",
			initial:   []op{put("a"), put("b")},
			batches:   [][]op{{put("c")}, {del("a")}, {put("b")}},
			want:      []string{"b", "c"},
			wantLoads: map[string]float64{loadInitial: 1, loadCompacted: 0},
		},
		{
			name:      "put then delete in one batch",
			initial:   []op{put("a")},
			batches:   [][]op{{put("x"), put("y"), del("x")}},
			want:      []string{"a", "y"},
			wantLoads: map[string]float64{loadInitial: 1, loadCompacted: 0},
		},
		{
			name:      "delete then put in one batch",
			initial:   []op{put("a")},
			batches:   [][]op{{del("a"), put("a")}},
			want:      []string{"a"},
			wantLoads: map[string]float64{loadInitial: 1, loadCompacted: 0},
		},
		{
			name:      "more changes than a batch",
			batchSize: 2,
			batches:   [][]op{{put("a"), put("b"), put("c"), put("d"), del("b")}},
			want:      []string{"a", "c", "d"},
			wantLoads: map[string]float64{loadInitial: 1, loadCompacted: 0},
		},
		{
			name:      "history compacted: reload",
			initial:   []op{put("a"), put("b")},
			batches:   [][]op{{put("c"), del("a")}},
			compact:   true,
			want:      []string{"b", "c"},
			wantLoads: map[string]float64{loadInitial: 1, loadCompacted: 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			feed := newFakeFeed()
			rev := int64(0)
			if len(tt.initial) > 0 {
				rev = feed.commit(false, tt.initial...)
			}
			reg := prometheus.NewRegistry()
			v := startView(t, feed, Options{BatchSize: tt.batchSize, Registerer: reg})
			waitFor(t, v, rev)
			for i, b := range tt.batches {
				rev = feed.commit(tt.compact && i == len(tt.batches)-1, b...)
				waitFor(t, v, rev)
			}

			ix, gotRev := v.Snapshot()
			if got := names(ix); !slices.Equal(got, tt.want) {
				t.Errorf("names = %v, want %v", got, tt.want)
			}
			if gotRev != rev || v.Revision() != rev || !v.Loaded() {
				t.Errorf("Snapshot revision %d, Revision() %d, Loaded() %v; want %d, %d, true",
					gotRev, v.Revision(), v.Loaded(), rev, rev)
			}
			for _, name := range tt.want {
				if e, ok := v.Index().Get(name); !ok || e.Revision == 0 {
					t.Errorf("Index().Get(%q) = %v, %v", name, e, ok)
				}
			}
			for reason, want := range tt.wantLoads {
				if got := metricValue(t, v.metrics.loads.WithLabelValues(reason)); got != want {
					t.Errorf("loads{reason=%q} = %v, want %v", reason, got, want)
				}
			}
			if got := metricValue(t, v.metrics.revision); got != float64(rev) {
				t.Errorf("revision gauge = %v, want %d", got, rev)
			}
			if got := metricValue(t, v.metrics.entries); got != float64(len(tt.want)) {
				t.Errorf("entries gauge = %v, want %d", got, len(tt.want))
			}
		})
	}
}

func TestWaitFor(t *testing.T) {
	tests := []struct {
		name    string
		run     bool  // start Run
		rev     int64 // revision waited for
		wantErr error
	}{
		{name: "reached", run: true, rev: 2},
		{name: "already past", run: true, rev: 1},
		{name: "ahead of the store", run: true, rev: 3, wantErr: context.DeadlineExceeded},
		{name: "revision 0 before load", run: false, rev: 0, wantErr: context.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			feed := newFakeFeed()
			feed.commit(false, put("a"), put("b"))
			var v *View
			if tt.run {
				v = startView(t, feed, Options{})
			} else {
				var err error
				if v, err = New(feed, Options{}); err != nil {
					t.Fatal(err)
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			if tt.wantErr == nil {
				ctx = context.Background()
			}
			err := v.WaitFor(ctx, tt.rev)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("WaitFor(%d) = %v, want %v", tt.rev, err, tt.wantErr)
			}
		})
	}
}

func TestWaitForWakesOnCommit(t *testing.T) {
	feed := newFakeFeed()
	v := startView(t, feed, Options{})
	waitFor(t, v, 0)
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		done <- v.WaitFor(ctx, 1)
	}()
	feed.commit(false, put("late"))
	if err := <-done; err != nil {
		t.Fatalf("WaitFor: %v", err)
	}
	if _, ok := v.Index().Get("late"); !ok {
		t.Fatal("entry committed at the awaited revision is not in the index")
	}
}

func TestRunErrors(t *testing.T) {
	listErr := errors.New("disk on fire")
	tests := []struct {
		name    string
		setup   func(*fakeFeed, *View) context.Context
		wantErr error // nil: Run returns nil
	}{
		{
			name: "list fails",
			setup: func(f *fakeFeed, _ *View) context.Context {
				f.listErr = listErr
				return context.Background()
			},
			wantErr: listErr,
		},
		{
			name: "cancelled before start",
			setup: func(*fakeFeed, *View) context.Context {
				ctx, cancel := context.WithCancel(context.Background())
				cancel()
				return ctx
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			feed := newFakeFeed()
			v, err := New(feed, Options{})
			if err != nil {
				t.Fatal(err)
			}
			err = v.Run(tt.setup(feed, v))
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("Run = %v, want %v", err, tt.wantErr)
			}
			if v.Loaded() {
				t.Fatal("view is loaded after a failed or cancelled Run")
			}
		})
	}
}

func TestRunTwice(t *testing.T) {
	feed := newFakeFeed()
	v := startView(t, feed, Options{})
	waitFor(t, v, 0)
	if err := v.Run(context.Background()); err == nil {
		t.Fatal("second Run returned nil, want an error")
	}
	if n := feed.listCalls(); n != 1 {
		t.Fatalf("feed listed %d times, want 1", n)
	}
}

func TestNew(t *testing.T) {
	reg := prometheus.NewRegistry()
	tests := []struct {
		name    string
		feed    Feed
		opts    Options
		wantErr bool
	}{
		{name: "defaults", feed: newFakeFeed()},
		{name: "registers metrics", feed: newFakeFeed(), opts: Options{Registerer: reg}},
		{name: "metrics registered twice", feed: newFakeFeed(), opts: Options{Registerer: reg}, wantErr: true},
		{name: "nil feed", wantErr: true},
		{name: "negative batch", feed: newFakeFeed(), opts: Options{BatchSize: -1}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := New(tt.feed, tt.opts)
			if (err != nil) != tt.wantErr {
				t.Fatalf("New error = %v, wantErr %v", err, tt.wantErr)
			}
			if err == nil && (v.Loaded() || v.Revision() != 0 || v.Index().Len() != 0) {
				t.Fatal("a new view is not empty and unloaded")
			}
		})
	}
}
