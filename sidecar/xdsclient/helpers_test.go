package xdsclient

import (
	"context"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	discovery "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"github.com/envoyproxy/go-control-plane/pkg/server/config"
	serverv3 "github.com/envoyproxy/go-control-plane/pkg/server/v3"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/sidecard/sidecard/cache"
	registryv1 "github.com/sidecard/sidecard/registry/v1"
)

// testUpdatedAt is the updated_at of test agents.
var testUpdatedAt = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

// testAgent returns a valid Agent resource named name at revision rev.
func testAgent(name string, rev int64) *registryv1.Agent {
	card := fmt.Sprintf(`{"protocolVersion": "0.3.0", "name": %q, "description": "Forecasts",
	  "url": "http://10.0.0.7:9001", "version": "1.0.%d", "capabilities": {},
	  "defaultInputModes": ["text/plain"], "defaultOutputModes": ["text/plain"],
	  "skills": [{"id": "forecast", "name": "Forecast", "description": "Gives forecasts", "tags": ["weather"]}]}`,
		name, rev)
	return &registryv1.Agent{
		Name:      name,
		Labels:    map[string]string{"team": "forecast"},
		Endpoints: []*registryv1.Endpoint{{Url: "http://10.0.0.7:9001", Weight: 1}},
		CardJson:  []byte(card),
		Revision:  rev,
		UpdatedAt: timestamppb.New(testUpdatedAt),
		Source:    "api",
	}
}

// badCardAgent returns an Agent whose card is not JSON.
func badCardAgent(name string) *registryv1.Agent {
	a := testAgent(name, 99)
	a.CardJson = []byte(`{"name": "broken"`)
	return a
}

// newLinearCache returns a registry-type linear cache holding agents.
func newLinearCache(agents ...*registryv1.Agent) *cachev3.LinearCache {
	lc := cachev3.NewLinearCache(registryv1.TypeURL)
	for _, a := range agents {
		if err := lc.UpdateResource(a.GetName(), a); err != nil {
			panic(err)
		}
	}
	return lc
}

// recorder keeps copies of what a test server received and sent.
type recorder struct {
	mu    sync.Mutex
	reqs  []*discovery.DeltaDiscoveryRequest
	resps []*discovery.DeltaDiscoveryResponse
}

func (r *recorder) callbacks() serverv3.CallbackFuncs {
	return serverv3.CallbackFuncs{
		StreamDeltaRequestFunc: func(_ int64, req *discovery.DeltaDiscoveryRequest) error {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.reqs = append(r.reqs, proto.Clone(req).(*discovery.DeltaDiscoveryRequest))
			return nil
		},
		StreamDeltaResponseFunc: func(_ int64, _ *discovery.DeltaDiscoveryRequest, resp *discovery.DeltaDiscoveryResponse) {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.resps = append(r.resps, proto.Clone(resp).(*discovery.DeltaDiscoveryResponse))
		},
	}
}

// requests returns the requests received so far.
func (r *recorder) requests() []*discovery.DeltaDiscoveryRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*discovery.DeltaDiscoveryRequest(nil), r.reqs...)
}

// responses returns the responses sent so far.
func (r *recorder) responses() []*discovery.DeltaDiscoveryResponse {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*discovery.DeltaDiscoveryResponse(nil), r.resps...)
}

// findRequest returns the first request matching ok, or nil.
func (r *recorder) findRequest(ok func(*discovery.DeltaDiscoveryRequest) bool) *discovery.DeltaDiscoveryRequest {
	for _, req := range r.requests() {
		if ok(req) {
			return req
		}
	}
	return nil
}

// testServer is go-control-plane's xDS server over a linear cache with
// legacy wildcard off, on a real listener.
type testServer struct {
	addr string
	grpc *grpc.Server
	rec  *recorder
}

// startServer serves lc on lis until the test ends (or Stop).
func startServer(t *testing.T, lc *cachev3.LinearCache, lis net.Listener) *testServer {
	t.Helper()
	rec := &recorder{}
	ctx, cancel := context.WithCancel(context.Background())
	xds := serverv3.NewServer(ctx, lc, rec.callbacks(), config.DeactivateLegacyWildcard())
	gs := grpc.NewServer(grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{
		MinTime: 5 * time.Second, PermitWithoutStream: true,
	}))
	discovery.RegisterAggregatedDiscoveryServiceServer(gs, xds)
	done := make(chan struct{})
	go func() {
		defer close(done)
		gs.Serve(lis)
	}()
	t.Cleanup(func() {
		cancel()
		gs.Stop()
		<-done
	})
	return &testServer{addr: lis.Addr().String(), grpc: gs, rec: rec}
}

// listen returns a listener on a free loopback port.
func listen(t *testing.T) net.Listener {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return lis
}

// gatedListener closes every connection it accepts while shut, like a
// control plane that is down.
type gatedListener struct {
	net.Listener
	open atomic.Bool
}

func (l *gatedListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil || l.open.Load() {
			return c, err
		}
		c.Close()
	}
}

// clientRig is a running client with its own replica and registry.
type clientRig struct {
	c    *Client
	r    *cache.Replica
	reg  *prometheus.Registry
	stop func() // cancels Run and waits for it; idempotent
}

// fastBackoff keeps reconnections quick in tests.
var fastBackoff = BackoffOptions{Initial: 10 * time.Millisecond, Max: 50 * time.Millisecond, ResetAfter: time.Second}

// startClient runs a client of addrs until the test ends; mod, when not
// nil, adjusts the options first.
func startClient(t *testing.T, addrs []string, mod func(*Options)) *clientRig {
	t.Helper()
	r, err := cache.NewReplica(cache.ReplicaOptions{})
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	opts := Options{
		Addresses:   addrs,
		NodeID:      "host-a",
		Labels:      map[string]string{"zone": "eu-1"},
		Selector:    map[string]string{"team": "forecast"},
		Replica:     r,
		Registerer:  reg,
		Backoff:     fastBackoff,
		DialTimeout: time.Second,
	}
	if mod != nil {
		mod(&opts)
	}
	c, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(5 * time.Second):
				t.Error("Run did not return after cancel")
			}
		})
	}
	t.Cleanup(stop)
	return &clientRig{c: c, r: opts.Replica, reg: reg, stop: stop}
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", within, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// metricValue returns the value of counter, gauge or histogram count name
// with labels in reg, or -1 when there is none.
func metricValue(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metric:
		for _, m := range mf.GetMetric() {
			if len(m.GetLabel()) != len(labels) {
				continue
			}
			for _, l := range m.GetLabel() {
				if labels[l.GetName()] != l.GetValue() {
					continue metric
				}
			}
			switch {
			case m.GetCounter() != nil:
				return m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				return m.GetGauge().GetValue()
			case m.GetHistogram() != nil:
				return float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return -1
}
