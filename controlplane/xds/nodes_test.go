package xds

import (
	"context"
	"encoding/json"
	"log/slog"
	"maps"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discovery "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/prometheus/client_golang/prometheus"
	rpcstatus "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/peer"

	registryv1 "github.com/sidecard/sidecard/registry/v1"
)

// statusStream drives a delta or a state-of-the-world stream of the
// registry type for node status tests.
type statusStream interface {
	// recv waits for the next response.
	recv()
	// ack and nack answer the last response received.
	ack()
	nack(msg string)
	close()
}

type deltaStatusStream struct {
	d    *deltaClient
	last *discovery.DeltaDiscoveryResponse
}

func (s *deltaStatusStream) recv() { s.last = s.d.recv() }
func (s *deltaStatusStream) ack() {
	s.d.send(&discovery.DeltaDiscoveryRequest{ResponseNonce: s.last.GetNonce()})
}
func (s *deltaStatusStream) nack(msg string) {
	s.d.send(&discovery.DeltaDiscoveryRequest{ResponseNonce: s.last.GetNonce(),
		ErrorDetail: &rpcstatus.Status{Code: int32(codes.InvalidArgument), Message: msg}})
}
func (s *deltaStatusStream) close() { s.d.close() }

type sotwStatusStream struct{ s *sotwClient }

func (s *sotwStatusStream) recv() { s.s.recv() }
func (s *sotwStatusStream) ack()  { s.s.reply(s.s.last.GetVersionInfo(), nil) }
func (s *sotwStatusStream) nack(msg string) {
	s.s.reply("", &rpcstatus.Status{Code: int32(codes.InvalidArgument), Message: msg})
}
func (s *sotwStatusStream) close() {
	s.s.cancel()
	for range s.s.resps {
	}
}

// waitNodes polls Nodes until cond holds and returns them.
func waitNodes(t *testing.T, srv *Server, what string, cond func([]NodeStatus) bool) []NodeStatus {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for {
		nodes := srv.Nodes()
		if cond(nodes) {
			return nodes
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: nodes are %+v", what, nodes)
		}
		time.Sleep(time.Millisecond) // polling a condition, not synchronising
	}
}

// oneNode returns a condition: exactly one node, satisfying cond.
func oneNode(cond func(NodeStatus) bool) func([]NodeStatus) bool {
	return func(n []NodeStatus) bool { return len(n) == 1 && cond(n[0]) }
}

func TestNodeStatusLifecycle(t *testing.T) {
	tests := []struct {
		mode string
		open func(h *serverHarness, n *core.Node) statusStream
	}{
		{mode: modeDelta, open: func(h *serverHarness, n *core.Node) statusStream {
			return &deltaStatusStream{d: h.delta(sub(n, "*"))}
		}},
		{mode: modeSotw, open: func(h *serverHarness, n *core.Node) statusStream {
			return &sotwStatusStream{s: h.sotw(n, "*")}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			h := newServerHarness(t, ServerOptions{}, entry("a", "team=x"), entry("b", "team=x"))
			m := h.srv.metrics
			t0 := h.clock.Now()
			s := tt.open(h, node("host-a", map[string]string{"team": "x"}))
			s.recv() // the request was accounted for before the response was sent
			got := waitNodes(t, h.srv, "connected", oneNode(func(NodeStatus) bool { return true }))[0]
			checkConnected(t, got, tt.mode, t0)
			checkValue(t, "streams", m.streams.WithLabelValues(tt.mode), 1)
			checkValue(t, "initial requests", m.requests.WithLabelValues(tt.mode, kindInitial), 1)

			h.clock.Advance(250 * time.Millisecond)
			s.ack()
			got = waitNodes(t, h.srv, "ACK", oneNode(func(n NodeStatus) bool { return n.AckedRevision == 2 }))[0]
			if !got.LastRequestAt.Equal(t0.Add(250 * time.Millisecond)) {
				t.Errorf("last_request_at = %v, want %v", got.LastRequestAt, t0.Add(250*time.Millisecond))
			}
			if n, sum := histogram(m.pushLatency.WithLabelValues(tt.mode)); n != 1 || sum != 0.25 {
				t.Errorf("push latency: %d samples summing to %v, want 1 of 0.25", n, sum)
			}
			checkValue(t, "ACKs", m.requests.WithLabelValues(tt.mode, kindACK), 1)

			h.feed.put(entry("c", "team=x"))
			s.recv()
			s.nack("c: bad card")
			got = waitNodes(t, h.srv, "NACK", oneNode(func(n NodeStatus) bool { return n.NACKs == 1 }))[0]
			if got.LastNACKError != "c: bad card" || !got.LastNACKAt.Equal(t0.Add(250*time.Millisecond)) ||
				got.AckedRevision != 2 {
				t.Errorf("after a NACK: %+v", got.StreamStatus)
			}
			checkValue(t, "NACKs", m.requests.WithLabelValues(tt.mode, kindNACK), 1)
			checkValue(t, "NACKs of the registry type", m.nacks.WithLabelValues(registryv1.TypeURL), 1)

			s.close()
			waitNodes(t, h.srv, "disconnected", func(n []NodeStatus) bool { return len(n) == 0 })
			checkValue(t, "streams after close", m.streams.WithLabelValues(tt.mode), 0)
		})
	}
}

// checkConnected checks the status of host-a just connected at t0 with
// mode.
func checkConnected(t *testing.T, got NodeStatus, mode string, t0 time.Time) {
	t.Helper()
	host, _, err := net.SplitHostPort(got.Address)
	if got.ID != "host-a" || got.Mode != mode || err != nil || host != "127.0.0.1" || !got.ConnectedSince.Equal(t0) {
		t.Errorf("connected node: %+v", got)
	}
	if !maps.Equal(got.Labels, map[string]string{"zone": "eu-1"}) || !maps.Equal(got.Selector, map[string]string{"team": "x"}) {
		t.Errorf("labels %v, selector %v", got.Labels, got.Selector)
	}
	if got.AckedRevision != 0 || got.NACKs != 0 || len(got.Streams) != 1 || got.Streams[0].Mode != mode {
		t.Errorf("connected node: %+v", got)
	}
}

func checkValue(t *testing.T, what string, c prometheus.Collector, want float64) {
	t.Helper()
	if got := value(c); got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func TestNodesGroupStreamsByNode(t *testing.T) {
	h := newServerHarness(t, ServerOptions{}, entry("a"))
	first := h.delta(sub(node("host-a", nil), "*"))
	first.next()
	h.clock.Advance(time.Second)
	second := h.sotw(node("host-a", nil), "*")
	second.recv()
	h.clock.Advance(time.Second)
	other := h.delta(sub(node("host-b", nil), "*"))
	other.next()

	nodes := waitNodes(t, h.srv, "three streams", func(n []NodeStatus) bool { return len(n) == 2 })
	a, b := nodes[0], nodes[1]
	if a.ID != "host-a" || b.ID != "host-b" {
		t.Fatalf("nodes %q, %q: want host-a, host-b", a.ID, b.ID)
	}
	if len(a.Streams) != 2 || a.Streams[0].Mode != modeSotw || a.Streams[1].Mode != modeDelta || a.Mode != modeSotw ||
		!a.ConnectedSince.Equal(a.Streams[0].ConnectedSince) {
		t.Fatalf("host-a: want its sotw stream inlined, then both streams newest first: %+v", a)
	}
	if len(b.Streams) != 1 || b.Mode != modeDelta {
		t.Fatalf("host-b: %+v", b)
	}

	second.cancel()
	for range second.resps {
	}
	waitNodes(t, h.srv, "sotw stream closed", func(n []NodeStatus) bool {
		return len(n) == 2 && n[0].Mode == modeDelta && len(n[0].Streams) == 1
	})
}

// trackerStep is a callback of go-control-plane on delta stream 1.
type trackerStep func(tr *tracker, clock *fakeClock)

func deltaResponse(nonce, typeURL, version string) trackerStep {
	return func(tr *tracker, _ *fakeClock) {
		tr.OnStreamDeltaResponse(1, nil, &discovery.DeltaDiscoveryResponse{Nonce: nonce, TypeUrl: typeURL,
			SystemVersionInfo: version})
	}
}

func deltaRequest(nonce, nackMsg string) trackerStep {
	return func(tr *tracker, _ *fakeClock) {
		req := &discovery.DeltaDiscoveryRequest{TypeUrl: registryv1.TypeURL, ResponseNonce: nonce}
		if nackMsg != "" {
			req.ErrorDetail = &rpcstatus.Status{Code: int32(codes.InvalidArgument), Message: nackMsg}
		}
		if err := tr.OnStreamDeltaRequest(1, req); err != nil {
			panic(err)
		}
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

func advance(d time.Duration) trackerStep {
	return func(_ *tracker, clock *fakeClock) { clock.Advance(d) }
}

func TestTrackerRequests(t *testing.T) {
	const clusterType = "type.googleapis.com/envoy.config.cluster.v3.Cluster"
	first := func(tr *tracker, _ *fakeClock) {
		req := sub(node("n", nil), "*")
		req.TypeUrl = registryv1.TypeURL
		if err := tr.OnStreamDeltaRequest(1, req); err != nil {
			panic(err)
		}
	}
	long := strings.Repeat("é", maxNACKError) // 2 bytes per rune
	tests := []struct {
		name        string
		steps       []trackerStep
		wantKinds   map[string]float64
		wantAcked   int64
		wantNACKs   int64
		wantNACKErr string
		wantPending int
		wantPushes  uint64
	}{
		{
			name:      "first request",
			steps:     []trackerStep{first},
			wantKinds: map[string]float64{kindInitial: 1},
		},
		{
			name:      "ACK of a response",
			steps:     []trackerStep{first, deltaResponse("1", registryv1.TypeURL, "7"), advance(time.Second), deltaRequest("1", "")},
			wantKinds: map[string]float64{kindInitial: 1, kindACK: 1}, wantAcked: 7, wantPushes: 1,
		},
		{
			name:      "ACK of an unknown nonce",
			steps:     []trackerStep{first, deltaRequest("9", "")},
			wantKinds: map[string]float64{kindInitial: 1, kindACK: 1},
		},
		{
			name:      "subscription change",
			steps:     []trackerStep{first, deltaRequest("", "")},
			wantKinds: map[string]float64{kindInitial: 1, kindSubscribe: 1},
		},
		{
			name: "NACK keeps the ACKed revision",
			steps: []trackerStep{first, deltaResponse("1", registryv1.TypeURL, "7"), deltaRequest("1", ""),
				deltaResponse("2", registryv1.TypeURL, "8"), deltaRequest("2", "bad card")},
			wantKinds: map[string]float64{kindInitial: 1, kindACK: 1, kindNACK: 1},
			wantAcked: 7, wantNACKs: 1, wantNACKErr: "bad card", wantPushes: 1,
		},
		{
			name:      "NACK error cut on a rune boundary",
			steps:     []trackerStep{first, deltaResponse("1", registryv1.TypeURL, "7"), deltaRequest("1", "x"+long)},
			wantKinds: map[string]float64{kindInitial: 1, kindNACK: 1},
			wantNACKs: 1, wantNACKErr: "x" + long[:maxNACKError-2],
		},
		{
			name: "ACK of a later response forgets the earlier ones",
			steps: []trackerStep{first, deltaResponse("1", registryv1.TypeURL, "7"),
				deltaResponse("2", clusterType, "3"), deltaResponse("3", registryv1.TypeURL, "8"), deltaRequest("3", "")},
			wantKinds: map[string]float64{kindInitial: 1, kindACK: 1}, wantAcked: 8, wantPending: 1, wantPushes: 1,
		},
		{
			name:      "other types leave the ACKed revision",
			steps:     []trackerStep{first, deltaResponse("1", clusterType, "9"), deltaRequest("1", "")},
			wantKinds: map[string]float64{kindInitial: 1, kindACK: 1}, wantPushes: 1,
		},
		{
			name:        "unanswered responses are bounded",
			steps:       append([]trackerStep{first}, responses(maxPending+5)...),
			wantKinds:   map[string]float64{kindInitial: 1},
			wantPending: maxPending,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			m, err := newServerMetrics(nil, []string{registryv1.TypeURL})
			if err != nil {
				t.Fatal(err)
			}
			tr := newTracker(discardLogger(), clock.Now, m, []string{registryv1.TypeURL})
			ctx := peer.NewContext(context.Background(), &peer.Peer{Addr: &net.TCPAddr{IP: net.IPv4(10, 0, 0, 9), Port: 4242}})
			if err := tr.OnDeltaStreamOpen(ctx, 1, ""); err != nil {
				t.Fatal(err)
			}
			for _, step := range tt.steps {
				step(tr, clock)
			}
			checkTracked(t, tr, tt.wantAcked, tt.wantNACKs, tt.wantNACKErr, tt.wantPending)
			for _, kind := range []string{kindInitial, kindACK, kindNACK, kindSubscribe} {
				checkValue(t, "requests{"+kind+"}", m.requests.WithLabelValues(modeDelta, kind), tt.wantKinds[kind])
			}
			if n, _ := histogram(m.pushLatency.WithLabelValues(modeDelta)); n != tt.wantPushes {
				t.Errorf("push latency samples = %d, want %d", n, tt.wantPushes)
			}
			tr.OnDeltaStreamClosed(1, nil)
			if len(tr.streams) != 0 || value(m.streams.WithLabelValues(modeDelta)) != 0 {
				t.Error("closed stream still tracked")
			}
		})
	}
}

// responses returns n registry responses with nonces 1 to n.
func responses(n int) []trackerStep {
	out := make([]trackerStep, n)
	for i := range out {
		out[i] = deltaResponse(strconv.Itoa(i+1), registryv1.TypeURL, strconv.Itoa(i+1))
	}
	return out
}

func checkTracked(t *testing.T, tr *tracker, acked, nacks int64, nackErr string, pending int) {
	t.Helper()
	nodes := tr.nodes()
	if len(nodes) != 1 || nodes[0].Address != "10.0.0.9:4242" {
		t.Fatalf("nodes = %+v", nodes)
	}
	got := nodes[0]
	if got.AckedRevision != acked || got.NACKs != nacks || got.LastNACKError != nackErr {
		t.Errorf("status: acked %d, nacks %d, last error %q (%d bytes); want %d, %d, %q",
			got.AckedRevision, got.NACKs, got.LastNACKError, len(got.LastNACKError), acked, nacks, nackErr)
	}
	if !utf8.ValidString(got.LastNACKError) {
		t.Errorf("last NACK error is not valid UTF-8")
	}
	if n := len(tr.streams[streamKey{modeDelta, 1}].pending); n != pending {
		t.Errorf("%d responses pending, want %d", n, pending)
	}
}

func TestNodeStatusJSON(t *testing.T) {
	at := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	st := StreamStatus{Labels: map[string]string{"zone": "eu-1"}, Address: "10.0.0.9:4242",
		ConnectedSince: at, Mode: modeDelta, AckedRevision: 42, LastRequestAt: at}
	nacked := st
	nacked.NACKs, nacked.LastNACKError, nacked.LastNACKAt = 1, "bad card", at
	const stream = `"labels":{"zone":"eu-1"},"address":"10.0.0.9:4242","connected_since":"2026-11-22T12:00:00Z",` +
		`"mode":"delta","acked_revision":42,"nacks":0,"last_request_at":"2026-11-22T12:00:00Z"`
	const nackedStream = `"labels":{"zone":"eu-1"},"address":"10.0.0.9:4242","connected_since":"2026-11-22T12:00:00Z",` +
		`"mode":"delta","acked_revision":42,"nacks":1,"last_nack_error":"bad card",` +
		`"last_nack_at":"2026-11-22T12:00:00Z","last_request_at":"2026-11-22T12:00:00Z"`
	tests := []struct {
		name string
		node NodeStatus
		want string
	}{
		{
			name: "no NACK", node: NodeStatus{ID: "host-a", StreamStatus: st, Streams: []StreamStatus{st}},
			want: `{"id":"host-a",` + stream + `,"streams":[{` + stream + `}]}`,
		},
		{
			name: "NACKed", node: NodeStatus{ID: "host-a", StreamStatus: nacked, Streams: []StreamStatus{nacked}},
			want: `{"id":"host-a",` + nackedStream + `,"streams":[{` + nackedStream + `}]}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := json.Marshal(tt.node)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Fatalf("JSON:\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}
