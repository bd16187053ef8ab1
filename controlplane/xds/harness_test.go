package xds

import (
	"context"
	"errors"
	"maps"
	"net"
	"slices"
	"strconv"
	"testing"
	"time"

	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discovery "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/server/config"
	serverv3 "github.com/envoyproxy/go-control-plane/pkg/server/v3"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/sidecard/sidecard/registry"
	registryv1 "github.com/sidecard/sidecard/registry/v1"
)

// waitFor is how long a test waits for something that should happen.
const waitFor = 10 * time.Second

// harness is a RegistryCache on a fake feed, served by go-control-plane's
// server over real gRPC on 127.0.0.1, with an ADS client connection.
type harness struct {
	t      *testing.T
	feed   *fakeFeed
	cache  *RegistryCache
	reg    *prometheus.Registry
	client discovery.AggregatedDiscoveryServiceClient
}

// newHarness starts a cache holding entries and a server for it.
func newHarness(t *testing.T, entries ...*registry.Entry) *harness {
	t.Helper()
	h := &harness{t: t, feed: newFakeFeed(), reg: prometheus.NewRegistry()}
	for _, e := range entries {
		h.feed.put(e)
	}
	var err error
	if h.cache, err = NewRegistryCache(h.feed, RegistryCacheOptions{Registerer: h.reg}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- h.cache.Run(ctx) }()

	srv := serverv3.NewServer(ctx, h.cache, &serverv3.CallbackFuncs{}, config.DeactivateLegacyWildcard())
	gs := grpc.NewServer()
	discovery.RegisterAggregatedDiscoveryServiceServer(gs, srv)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- gs.Serve(lis) }()
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	h.client = discovery.NewAggregatedDiscoveryServiceClient(conn)
	t.Cleanup(func() {
		_ = conn.Close()
		cancel()
		gs.Stop()
		if err := <-served; err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			t.Errorf("serve: %v", err)
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

// waitRevision waits until the cache has applied revision rev.
func (h *harness) waitRevision(rev int64) {
	h.t.Helper()
	deadline := time.Now().Add(waitFor)
	for h.cache.Revision() < rev {
		if time.Now().After(deadline) {
			h.t.Fatalf("cache at revision %d, want %d", h.cache.Revision(), rev)
		}
		time.Sleep(time.Millisecond) // polling a condition, not synchronising
	}
}

// value returns the value of a counter or gauge.
func value(c prometheus.Collector) float64 {
	ch := make(chan prometheus.Metric, 1)
	c.Collect(ch)
	var m dto.Metric
	if err := (<-ch).Write(&m); err != nil {
		panic(err)
	}
	if m.GetCounter() != nil {
		return m.GetCounter().GetValue()
	}
	return m.GetGauge().GetValue()
}

// node returns a node with id and, unless sel is empty, a label selector.
func node(id string, sel map[string]string) *core.Node {
	n := &core.Node{Id: id}
	if len(sel) > 0 {
		fields := make(map[string]any, len(sel))
		for k, v := range sel {
			fields[k] = v
		}
		md, err := structpb.NewStruct(map[string]any{"labels": map[string]any{"zone": "eu-1"}, "selector": fields})
		if err != nil {
			panic(err)
		}
		n.Metadata = md
	}
	return n
}

// deltaClient is one delta ADS stream of the registry type.
type deltaClient struct {
	t      *testing.T
	stream discovery.AggregatedDiscoveryService_DeltaAggregatedResourcesClient
	resps  chan *discovery.DeltaDiscoveryResponse
	ended  chan error // receives the stream's error once it ends
	cancel context.CancelFunc
}

// delta opens a delta stream and sends first (its type URL filled in).
func (h *harness) delta(first *discovery.DeltaDiscoveryRequest) *deltaClient {
	h.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stream, err := h.client.DeltaAggregatedResources(ctx)
	if err != nil {
		cancel()
		h.t.Fatal(err)
	}
	d := &deltaClient{t: h.t, stream: stream, resps: make(chan *discovery.DeltaDiscoveryResponse, 64),
		ended: make(chan error, 1), cancel: cancel}
	go func() {
		for {
			resp, err := stream.Recv()
			if err != nil {
				d.ended <- err
				close(d.resps)
				return
			}
			d.resps <- resp
		}
	}()
	h.t.Cleanup(d.close)
	d.send(first)
	return d
}

// close ends the stream and waits for its receiver.
func (d *deltaClient) close() {
	d.cancel()
	for range d.resps {
	}
}

func (d *deltaClient) send(req *discovery.DeltaDiscoveryRequest) {
	d.t.Helper()
	req.TypeUrl = registryv1.TypeURL
	if err := d.stream.Send(req); err != nil {
		d.t.Fatalf("send: %v", err)
	}
}

// recv returns the next response without acknowledging it.
func (d *deltaClient) recv() *discovery.DeltaDiscoveryResponse {
	d.t.Helper()
	select {
	case resp, ok := <-d.resps:
		if !ok {
			d.t.Fatalf("stream ended: %v", <-d.ended)
		}
		return resp
	case <-time.After(waitFor):
		d.t.Fatal("no response")
		return nil
	}
}

// next returns the next response and ACKs it, which re-arms the watch.
func (d *deltaClient) next() deltaGot {
	d.t.Helper()
	resp := d.recv()
	d.send(&discovery.DeltaDiscoveryRequest{ResponseNonce: resp.GetNonce()})
	return gotDelta(d.t, resp)
}

// deltaGot summarises a delta response: name -> version of the resources
// (checked to decode as Agents of that name and revision), and the sorted
// removed names.
type deltaGot struct {
	versions map[string]string
	removed  []string
}

func gotDelta(t testing.TB, resp *discovery.DeltaDiscoveryResponse) deltaGot {
	t.Helper()
	g := deltaGot{versions: map[string]string{}, removed: slices.Sorted(slices.Values(resp.GetRemovedResources()))}
	for _, r := range resp.GetResources() {
		a := decodeAgent(t, r.GetResource().GetTypeUrl(), r.GetResource().GetValue())
		if a.GetName() != r.GetName() || strconv.FormatInt(a.GetRevision(), 10) != r.GetVersion() {
			t.Fatalf("resource %s@%s holds agent %s@%d", r.GetName(), r.GetVersion(), a.GetName(), a.GetRevision())
		}
		g.versions[r.GetName()] = r.GetVersion()
	}
	return g
}

// decodeAgent decodes an Agent resource and checks it is a valid entry.
func decodeAgent(t testing.TB, typeURL string, value []byte) *registryv1.Agent {
	t.Helper()
	if typeURL != registryv1.TypeURL {
		t.Fatalf("resource type %q", typeURL)
	}
	var a registryv1.Agent
	if err := proto.Unmarshal(value, &a); err != nil {
		t.Fatal(err)
	}
	if _, err := registry.FromProto(&a); err != nil {
		t.Fatalf("agent %s: %v", a.GetName(), err)
	}
	return &a
}

// want builds the expected summary: "name@rev" resources and removed names.
func want(resources []string, removed ...string) deltaGot {
	g := deltaGot{versions: map[string]string{}, removed: slices.Sorted(slices.Values(removed))}
	for _, r := range resources {
		name, rev, _ := cutAt(r)
		g.versions[name] = rev
	}
	return g
}

func cutAt(s string) (string, string, bool) {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '@' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

// at formats name@rev.
func at(name string, rev int64) string { return name + "@" + strconv.FormatInt(rev, 10) }

func (g deltaGot) equal(o deltaGot) bool {
	return maps.Equal(g.versions, o.versions) && slices.Equal(g.removed, o.removed)
}

// expect fails the test unless got equals w.
func expect(t *testing.T, what string, got, w deltaGot) {
	t.Helper()
	if !got.equal(w) {
		t.Fatalf("%s:\n got resources %v removed %v\nwant resources %v removed %v",
			what, got.versions, got.removed, w.versions, w.removed)
	}
}

// until reads responses (ACKing each) until one at cache revision rev or
// later, and returns what they carried together: the latest version of each
// resource and the names whose last news was a removal.
func (d *deltaClient) until(rev int64) deltaGot {
	d.t.Helper()
	merged := deltaGot{versions: map[string]string{}}
	removed := map[string]bool{}
	for {
		resp := d.recv()
		d.send(&discovery.DeltaDiscoveryRequest{ResponseNonce: resp.GetNonce()})
		g := gotDelta(d.t, resp)
		for name, v := range g.versions {
			merged.versions[name] = v
			delete(removed, name)
		}
		for _, name := range g.removed {
			delete(merged.versions, name)
			removed[name] = true
		}
		got, err := strconv.ParseInt(resp.GetSystemVersionInfo(), 10, 64)
		if err != nil {
			d.t.Fatalf("system_version_info %q: %v", resp.GetSystemVersionInfo(), err)
		}
		if got >= rev {
			merged.removed = slices.Sorted(maps.Keys(removed))
			return merged
		}
	}
}

// sub builds a request subscribing to names (and, with a node, the first
// request of a stream).
func sub(n *core.Node, names ...string) *discovery.DeltaDiscoveryRequest {
	return &discovery.DeltaDiscoveryRequest{Node: n, ResourceNamesSubscribe: names}
}
