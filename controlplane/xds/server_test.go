package xds

import (
	"context"
	"net"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	discovery "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/sidecard/sidecard/registry"
)

// fakeClock is a clock tests move by hand. Safe for concurrent use.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// serverHarness is a RegistryCache on a fake feed served by a Server on
// 127.0.0.1, with a fake clock and an ADS client connection (in the embedded
// harness) that accepts responses as large as the server sends by default.
type serverHarness struct {
	*harness
	srv    *Server
	clock  *fakeClock
	cancel context.CancelFunc
	served chan error
	stop   func() error // cancels Serve and returns its result, once
}

// newServerHarness starts a cache holding entries and a Server for it with
// opts (its Registerer and Now set by the harness).
func newServerHarness(t *testing.T, opts ServerOptions, entries ...*registry.Entry) *serverHarness {
	t.Helper()
	h := &serverHarness{harness: &harness{t: t, feed: newFakeFeed(), reg: prometheus.NewRegistry()},
		clock: newFakeClock(), served: make(chan error, 1)}
	for _, e := range entries {
		h.feed.put(e)
	}
	var err error
	if h.cache, err = NewRegistryCache(h.feed, RegistryCacheOptions{Registerer: h.reg}); err != nil {
		t.Fatal(err)
	}
	opts.Registerer, opts.Now = h.reg, h.clock.Now
	if h.srv, err = NewServer(h.cache, opts); err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	ran := make(chan error, 1)
	go func() { ran <- h.cache.Run(ctx) }()
	go func() { h.served <- h.srv.Serve(ctx, lis) }()
	h.stop = sync.OnceValue(func() error {
		cancel()
		select {
		case err := <-h.served:
			return err
		case <-time.After(waitFor):
			t.Error("Serve did not return after its context was done")
			return nil
		}
	})
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(DefaultMaxSendMsgSize)))
	if err != nil {
		t.Fatal(err)
	}
	h.client = discovery.NewAggregatedDiscoveryServiceClient(conn)
	t.Cleanup(func() {
		_ = conn.Close()
		if err := h.stop(); err != nil {
			t.Errorf("Serve: %v", err)
		}
		if err := <-ran; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	wctx, wcancel := context.WithTimeout(context.Background(), waitFor)
	defer wcancel()
	if err := h.cache.WaitReady(wctx); err != nil {
		t.Fatal(err)
	}
	return h
}

// histogram returns the sample count and sum of a histogram.
func histogram(o prometheus.Observer) (uint64, float64) {
	var m dto.Metric
	if err := o.(prometheus.Metric).Write(&m); err != nil {
		panic(err)
	}
	return m.GetHistogram().GetSampleCount(), m.GetHistogram().GetSampleSum()
}

func TestServerOptionsValidate(t *testing.T) {
	tests := []struct {
		name    string
		opts    ServerOptions
		wantErr string
	}{
		{name: "zero value", opts: ServerOptions{}},
		{name: "defaults", opts: DefaultServerOptions()},
		{name: "negative receive size", opts: ServerOptions{MaxRecvMsgSize: -1}, wantErr: "message sizes"},
		{name: "negative send size", opts: ServerOptions{MaxSendMsgSize: -1}, wantErr: "message sizes"},
		{name: "negative keepalive", opts: ServerOptions{KeepaliveTime: -time.Second}, wantErr: "timeouts"},
		{name: "negative ping interval", opts: ServerOptions{MinClientPingInterval: -time.Second}, wantErr: "timeouts"},
		{name: "negative shutdown timeout", opts: ServerOptions{ShutdownTimeout: -time.Second}, wantErr: "timeouts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := tt.opts
			err := tt.opts.Validate()
			if tt.wantErr == "" && err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("Validate = %v, want an error containing %q", err, tt.wantErr)
			}
			if !reflect.DeepEqual(tt.opts, before) {
				t.Fatal("Validate modified the options")
			}
		})
	}
}

func TestServerOptionsDefaults(t *testing.T) {
	got := ServerOptions{MaxSendMsgSize: 1 << 20}.withDefaults()
	d := DefaultServerOptions()
	if got.MaxSendMsgSize != 1<<20 || got.MaxRecvMsgSize != d.MaxRecvMsgSize || got.KeepaliveTime != d.KeepaliveTime ||
		got.ShutdownTimeout != d.ShutdownTimeout || got.Logger == nil || got.Now == nil {
		t.Fatalf("withDefaults = %+v", got)
	}
}

func TestNewServerErrors(t *testing.T) {
	cache, err := NewRegistryCache(newFakeFeed(), RegistryCacheOptions{})
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	if _, err := NewServer(cache, ServerOptions{Registerer: reg}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		cache *RegistryCache
		opts  ServerOptions
		want  string
	}{
		{name: "nil cache", opts: ServerOptions{}, want: "nil registry cache"},
		{name: "invalid options", cache: cache, opts: ServerOptions{MaxRecvMsgSize: -1}, want: "message sizes"},
		{name: "metrics registered twice", cache: cache, opts: ServerOptions{Registerer: reg}, want: "register"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewServer(tt.cache, tt.opts); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("NewServer = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestServeEndsStreamsOnContextDone(t *testing.T) {
	// A graceful stop that waited for the streams to end by themselves
	// would hit this timeout: Serve ends them.
	h := newServerHarness(t, ServerOptions{ShutdownTimeout: time.Hour}, entry("a"))
	d := h.delta(sub(node("n", nil), "*"))
	d.next()
	if err := h.stop(); err != nil {
		t.Fatalf("Serve: %v", err)
	}
	select {
	case <-d.ended:
	case <-time.After(waitFor):
		t.Fatal("the stream did not end")
	}
	if n := h.srv.Nodes(); len(n) != 0 {
		t.Fatalf("Nodes after Serve returned = %+v", n)
	}
	if got := value(h.srv.metrics.streams.WithLabelValues(modeDelta)); got != 0 {
		t.Fatalf("streams{delta} = %v after Serve returned", got)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer lis.Close()
	if err := h.srv.Serve(context.Background(), lis); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Fatalf("second Serve = %v, want an error", err)
	}
}

func TestServeUnservedType(t *testing.T) {
	h := newServerHarness(t, ServerOptions{})
	d := h.delta(sub(node("n", nil), "*"))
	d.next()
	if err := d.stream.Send(&discovery.DeltaDiscoveryRequest{TypeUrl: "type.googleapis.com/not.Served"}); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-d.ended:
		if !strings.Contains(err.Error(), "not.Served") {
			t.Fatalf("stream ended with %v, want an error naming the type", err)
		}
	case <-time.After(waitFor):
		t.Fatal("a request of a type not served did not end the stream")
	}
}

// bigEntry returns an entry whose card is about 240 KiB.
func bigEntry(t *testing.T, name string) *registry.Entry {
	t.Helper()
	card, err := registry.ParseCard([]byte(`{"protocolVersion":"0.3.0","name":"Big","description":"` +
		strings.Repeat("x", 240<<10) + `","url":"http://10.0.0.1:9000/a2a","version":"1.0.0","capabilities":{},
		"defaultInputModes":["text/plain"],"defaultOutputModes":["text/plain"],
		"skills":[{"id":"s","name":"S","description":"d","tags":["t"]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	e := entry(name)
	e.Card = card
	return e
}

func TestServeMessageLimits(t *testing.T) {
	// 20 entries of 240 KiB: a cold sync of about 5 MB, over gRPC's default
	// client limit of 4 MiB.
	var entries []*registry.Entry
	for i := range 20 {
		entries = append(entries, bigEntry(t, "big-"+string(rune('a'+i))))
	}
	tests := []struct {
		name     string
		maxSend  int
		wantCode codes.Code // codes.OK: the cold sync arrives
	}{
		{name: "default send limit", wantCode: codes.OK},
		{name: "send limit below the cold sync", maxSend: 1 << 20, wantCode: codes.ResourceExhausted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newServerHarness(t, ServerOptions{MaxSendMsgSize: tt.maxSend}, entries...)
			d := h.delta(sub(node("n", nil), "*"))
			if tt.wantCode == codes.OK {
				if got := d.next(); len(got.versions) != len(entries) {
					t.Fatalf("cold sync carried %d entries, want %d", len(got.versions), len(entries))
				}
				return
			}
			select {
			case err := <-d.ended:
				if status.Code(err) != tt.wantCode {
					t.Fatalf("stream ended with %v, want code %v", err, tt.wantCode)
				}
			case <-time.After(waitFor):
				t.Fatal("the stream did not end")
			}
		})
	}
}
