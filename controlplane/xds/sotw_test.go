package xds

import (
	"context"
	"maps"
	"strconv"
	"testing"
	"time"

	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discovery "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"

	registryv1 "github.com/sidecard/sidecard/registry/v1"
)

// sotwClient is one state-of-the-world ADS stream of the registry type.
type sotwClient struct {
	t      *testing.T
	stream discovery.AggregatedDiscoveryService_StreamAggregatedResourcesClient
	resps  chan *discovery.DiscoveryResponse
	cancel context.CancelFunc
	names  []string
	last   *discovery.DiscoveryResponse // the last response received
}

// sotw opens a stream for node n asking for names ("*": wildcard).
func (h *harness) sotw(n *core.Node, names ...string) *sotwClient {
	h.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stream, err := h.client.StreamAggregatedResources(ctx)
	if err != nil {
		cancel()
		h.t.Fatal(err)
	}
	s := &sotwClient{t: h.t, stream: stream, resps: make(chan *discovery.DiscoveryResponse, 16), cancel: cancel, names: names}
	go func() {
		defer close(s.resps)
		for {
			resp, err := stream.Recv()
			if err != nil {
				return
			}
			s.resps <- resp
		}
	}()
	h.t.Cleanup(func() {
		cancel()
		for range s.resps {
		}
	})
	s.send(&discovery.DiscoveryRequest{Node: n, ResourceNames: names})
	return s
}

func (s *sotwClient) send(req *discovery.DiscoveryRequest) {
	s.t.Helper()
	req.TypeUrl = registryv1.TypeURL
	if err := s.stream.Send(req); err != nil {
		s.t.Fatalf("send: %v", err)
	}
}

// next returns the next response, ACKed, as name -> revision.
func (s *sotwClient) next() map[string]string {
	s.t.Helper()
	resp := s.recv()
	s.reply(resp.GetVersionInfo(), nil)
	return s.summary(resp)
}

// recv returns the next response without replying.
func (s *sotwClient) recv() *discovery.DiscoveryResponse {
	s.t.Helper()
	select {
	case resp, ok := <-s.resps:
		if !ok {
			s.t.Fatal("stream ended")
		}
		s.last = resp
		return resp
	case <-time.After(waitFor):
		s.t.Fatal("no response")
		return nil
	}
}

// reply answers the last response with version (its own for an ACK, the
// previous one for a NACK) and the current names.
func (s *sotwClient) reply(version string, nack *status.Status) {
	s.send(&discovery.DiscoveryRequest{VersionInfo: version, ResponseNonce: s.last.GetNonce(),
		ResourceNames: s.names, ErrorDetail: nack})
}

// summary returns name -> revision of the agents in resp, checking that its
// version is a revision.
func (s *sotwClient) summary(resp *discovery.DiscoveryResponse) map[string]string {
	s.t.Helper()
	if _, err := strconv.ParseInt(resp.GetVersionInfo(), 10, 64); err != nil {
		s.t.Fatalf("version_info %q: %v", resp.GetVersionInfo(), err)
	}
	out := map[string]string{}
	for _, r := range resp.GetResources() {
		a := decodeAgent(s.t, r.GetTypeUrl(), r.GetValue())
		out[a.GetName()] = strconv.FormatInt(a.GetRevision(), 10)
	}
	return out
}

// state builds name -> revision from "name@rev" strings.
func state(resources ...string) map[string]string {
	return want(resources).versions
}

func expectState(t *testing.T, what string, got, w map[string]string) {
	t.Helper()
	if !maps.Equal(got, w) {
		t.Fatalf("%s: got %v, want %v", what, got, w)
	}
}

func TestSotwWildcard(t *testing.T) {
	h := newHarness(t, entry("a", "team=x"), entry("b", "team=x"), entry("c", "team=y"))
	s := h.sotw(node("n", map[string]string{"team": "x"}), "*")
	expectState(t, "initial", s.next(), state(at("a", 1), at("b", 2)))

	h.feed.put(entry("c", "team=y", "v=2")) // not seen: no response
	ra := h.feed.put(entry("a", "team=x", "v=2"))
	expectState(t, "full state after an update", s.next(), state(at("a", ra), at("b", 2)))

	rb := h.feed.put(entry("b", "team=x", "v=2"))
	s.recv()
	s.reply(strconv.FormatInt(ra, 10), &status.Status{Code: int32(codes.InvalidArgument), Message: "bad"})
	rd := h.feed.put(entry("d", "team=x"))
	expectState(t, "after a NACK, the next change", s.next(), state(at("a", ra), at("b", rb), at("d", rd)))

	h.feed.del("a")
	expectState(t, "after a delete", s.next(), state(at("b", rb), at("d", rd)))

	s.send(&discovery.DiscoveryRequest{Node: node("n", map[string]string{"team": "y"}), VersionInfo: s.last.GetVersionInfo(),
		ResponseNonce: s.last.GetNonce(), ResourceNames: s.names})
	expectState(t, "selector change", s.summary(s.recv()), state(at("c", 4)))
}

func TestSotwNames(t *testing.T) {
	h := newHarness(t, entry("a"), entry("b"), entry("c"))
	s := h.sotw(node("n", nil), "a", "ghost")
	expectState(t, "initial", s.next(), state(at("a", 1)))

	s.names = []string{"a", "b", "ghost"}
	s.reply(s.last.GetVersionInfo(), nil)
	expectState(t, "b added", s.next(), state(at("a", 1), at("b", 2)))

	rg := h.feed.put(entry("ghost"))
	expectState(t, "ghost created", s.next(), state(at("a", 1), at("b", 2), at("ghost", rg)))

	h.feed.put(entry("c", "v=2")) // not named: no response
	ra := h.feed.put(entry("a", "v=2"))
	expectState(t, "update of a", s.next(), state(at("a", ra), at("b", 2), at("ghost", rg)))

	h.feed.del("b")
	expectState(t, "b deleted", s.next(), state(at("a", ra), at("ghost", rg)))
}
