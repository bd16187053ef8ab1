package xds

import (
	"context"
	"errors"
	"log/slog"
	"strconv"

	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discovery "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	serverv3 "github.com/envoyproxy/go-control-plane/pkg/server/v3"
	rpcstatus "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/peer"

	registryv1 "github.com/sidecard/sidecard/registry/v1"
)

// The tracker is the server's callbacks: go-control-plane calls them
// synchronously on each stream's goroutine. They never fail a stream.
var _ serverv3.Callbacks = (*tracker)(nil)

// OnStreamOpen records a new state-of-the-world stream.
func (t *tracker) OnStreamOpen(ctx context.Context, id int64, _ string) error {
	t.open(ctx, modeSotw, id)
	return nil
}

// OnStreamClosed forgets a state-of-the-world stream.
func (t *tracker) OnStreamClosed(id int64, _ *core.Node) { t.close(modeSotw, id) }

// OnDeltaStreamOpen records a new delta stream.
func (t *tracker) OnDeltaStreamOpen(ctx context.Context, id int64, _ string) error {
	t.open(ctx, modeDelta, id)
	return nil
}

// OnDeltaStreamClosed forgets a delta stream.
func (t *tracker) OnDeltaStreamClosed(id int64, _ *core.Node) { t.close(modeDelta, id) }

// OnStreamRequest accounts for a state-of-the-world request.
func (t *tracker) OnStreamRequest(id int64, req *discovery.DiscoveryRequest) error {
	t.request(modeSotw, id, req.GetNode(), req.GetTypeUrl(), req.GetResponseNonce(), req.GetErrorDetail())
	return nil
}

// OnStreamDeltaRequest accounts for a delta request.
func (t *tracker) OnStreamDeltaRequest(id int64, req *discovery.DeltaDiscoveryRequest) error {
	t.request(modeDelta, id, req.GetNode(), req.GetTypeUrl(), req.GetResponseNonce(), req.GetErrorDetail())
	return nil
}

// OnStreamResponse records a state-of-the-world response about to be sent.
func (t *tracker) OnStreamResponse(_ context.Context, id int64, _ *discovery.DiscoveryRequest,
	resp *discovery.DiscoveryResponse) {
	var rev int64
	if resp.GetTypeUrl() == registryv1.TypeURL {
		rev = parseRevision(resp.GetVersionInfo())
	}
	t.response(modeSotw, id, sent{nonce: resp.GetNonce(), typeURL: resp.GetTypeUrl(), revision: rev})
}

// OnStreamDeltaResponse records a delta response about to be sent.
func (t *tracker) OnStreamDeltaResponse(id int64, _ *discovery.DeltaDiscoveryRequest,
	resp *discovery.DeltaDiscoveryResponse) {
	t.response(modeDelta, id, sent{nonce: resp.GetNonce(), typeURL: resp.GetTypeUrl(), revision: deltaRevision(resp)})
}

// errFetch refuses REST xDS, which the server does not serve.
var errFetch = errors.New("xds: REST fetch is not served")

// OnFetchRequest refuses every REST request; the server registers no REST
// service, so it is never called.
func (t *tracker) OnFetchRequest(context.Context, *discovery.DiscoveryRequest) error { return errFetch }

// OnFetchResponse does nothing (see OnFetchRequest).
func (t *tracker) OnFetchResponse(*discovery.DiscoveryRequest, *discovery.DiscoveryResponse) {}

// deltaRevision returns the store revision a registry response brings its
// client to: its system_version_info (the cache's revision), or else the
// highest version of its resources. It is 0 for other types.
func deltaRevision(resp *discovery.DeltaDiscoveryResponse) int64 {
	if resp.GetTypeUrl() != registryv1.TypeURL {
		return 0
	}
	if rev := parseRevision(resp.GetSystemVersionInfo()); rev > 0 {
		return rev
	}
	var rev int64
	for _, r := range resp.GetResources() {
		rev = max(rev, parseRevision(r.GetVersion()))
	}
	return rev
}

// parseRevision parses a version that is a store revision; 0 when it is not.
func parseRevision(v string) int64 {
	rev, err := strconv.ParseInt(v, 10, 64)
	if err != nil || rev < 0 {
		return 0
	}
	return rev
}

// open records a stream opened with ctx.
func (t *tracker) open(ctx context.Context, mode string, id int64) {
	var addr string
	if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
		addr = p.Addr.String()
	}
	s := &tracked{types: make(map[string]struct{}),
		status: StreamStatus{Labels: map[string]string{}, Address: addr, ConnectedSince: t.now(), Mode: mode}}
	t.mu.Lock()
	t.seq++
	s.seq = t.seq
	t.streams[streamKey{mode, id}] = s
	t.mu.Unlock()
	t.metrics.streams.WithLabelValues(mode).Inc()
}

// close forgets a stream.
func (t *tracker) close(mode string, id int64) {
	key := streamKey{mode, id}
	t.mu.Lock()
	s := t.streams[key]
	delete(t.streams, key)
	var node *core.Node
	var st StreamStatus
	if s != nil {
		node, st = s.node, s.status
	}
	t.mu.Unlock()
	if s == nil {
		return
	}
	t.metrics.streams.WithLabelValues(mode).Dec()
	if node != nil {
		t.log.Info("xds stream closed", slog.String("node", node.GetId()), slog.String("mode", mode),
			slog.String("address", st.Address), slog.Int64("acked_revision", st.AckedRevision),
			slog.Duration("connected_for", t.now().Sub(st.ConnectedSince)))
	}
}

// request accounts for a request on a stream: its node, its kind, and for
// an ACK or a NACK the response it answers.
func (t *tracker) request(mode string, id int64, node *core.Node, typeURL, nonce string, nack *rpcstatus.Status) {
	now := t.now()
	t.mu.Lock()
	s := t.streams[streamKey{mode, id}]
	if s == nil {
		t.mu.Unlock()
		return
	}
	first := s.setNode(node)
	s.status.LastRequestAt = now
	kind := s.classify(typeURL, nonce, nack != nil)
	answered, found := sent{}, false
	if kind == kindACK || kind == kindNACK {
		answered, found = s.answered(nonce)
	}
	switch {
	case kind == kindACK && found && answered.typeURL == registryv1.TypeURL:
		s.status.AckedRevision = max(s.status.AckedRevision, answered.revision)
	case kind == kindNACK:
		s.status.NACKs++
		s.status.LastNACKError = truncate(nack.GetMessage(), maxNACKError)
		s.status.LastNACKAt = now
	}
	nodeID, addr := s.node.GetId(), s.status.Address
	t.mu.Unlock()

	t.metrics.requests.WithLabelValues(mode, kind).Inc()
	if first {
		t.log.Info("xds stream connected", slog.String("node", nodeID), slog.String("mode", mode),
			slog.String("address", addr))
	}
	if kind == kindACK && found {
		t.metrics.pushLatency.WithLabelValues(mode).Observe(now.Sub(answered.at).Seconds())
	}
	if kind == kindNACK {
		t.nacked(nodeID, mode, typeURL, nonce, nack.GetMessage())
	}
}

// nacked counts and logs a NACK.
func (t *tracker) nacked(nodeID, mode, typeURL, nonce, msg string) {
	label := typeUnknown
	if _, ok := t.served[typeURL]; ok {
		label = typeURL
	}
	t.metrics.nacks.WithLabelValues(label).Inc()
	t.log.Warn("xds response rejected (NACK)", slog.String("node", nodeID), slog.String("mode", mode),
		slog.String("type", truncate(typeURL, maxNACKError)), slog.String("nonce", truncate(nonce, 64)),
		slog.String("error", truncate(msg, maxNACKError)))
}

// response records a response about to be sent on a stream.
func (t *tracker) response(mode string, id int64, r sent) {
	r.at = t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	if s := t.streams[streamKey{mode, id}]; s != nil {
		s.record(r)
	}
}
