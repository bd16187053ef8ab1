package xdsclient

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	discovery "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/sidecard/sidecard/cache"
	"github.com/sidecard/sidecard/registry"
	registryv1 "github.com/sidecard/sidecard/registry/v1"
)

const syncWithin = 10 * time.Second

func TestInitialSync(t *testing.T) {
	t.Parallel()
	srv := startServer(t, newLinearCache(testAgent("alpha", 1), testAgent("beta", 2)), listen(t))
	cl := startClient(t, []string{srv.addr}, nil)

	waitFor(t, "the initial sync", syncWithin, func() bool { return cl.r.Load().Len() == 2 })
	waitFor(t, "the ACK", syncWithin, func() bool { return cl.c.Status().ACKs >= 1 })

	first := srv.rec.requests()[0]
	if first.GetTypeUrl() != registryv1.TypeURL || !slices.Equal(first.GetResourceNamesSubscribe(), []string{"*"}) ||
		len(first.GetInitialResourceVersions()) != 0 || first.GetResponseNonce() != "" {
		t.Errorf("first request: %v", first)
	}
	checkNode(t, first, map[string]string{"zone": "eu-1"}, map[string]string{"team": "forecast"})

	resp := srv.rec.responses()[0]
	snap := cl.r.Load()
	for _, r := range resp.GetResources() {
		if v, _ := snap.Version(r.GetName()); v != r.GetVersion() {
			t.Errorf("version of %q = %q, the control plane sent %q", r.GetName(), v, r.GetVersion())
		}
	}
	if e, _ := snap.Index().Get("beta"); e == nil || e.Revision != 2 || e.Card.Name != "beta" {
		t.Errorf("beta = %+v", e)
	}
	if snap.Revision() != 2 {
		t.Errorf("revision %d, want 2", snap.Revision())
	}
	var ack *discovery.DeltaDiscoveryRequest
	waitFor(t, "the server to receive the ACK", syncWithin, func() bool {
		ack = srv.rec.findRequest(func(r *discovery.DeltaDiscoveryRequest) bool { return r.GetResponseNonce() == resp.GetNonce() })
		return ack != nil
	})
	if ack.GetErrorDetail() != nil {
		t.Errorf("ACK of nonce %q carries an error: %v", resp.GetNonce(), ack)
	}

	st := cl.c.Status()
	if !st.Connected || st.Address != srv.addr || st.ConnectedSince.IsZero() || st.NACKs != 0 || st.Reconnects != 0 {
		t.Errorf("status %+v", st)
	}
	if v := metricValue(t, cl.reg, "sidecard_sidecar_stream_connected", nil); v != 1 {
		t.Errorf("connected gauge = %v, want 1", v)
	}
	if v := metricValue(t, cl.reg, "sidecard_sidecar_updates_applied_total", map[string]string{"op": opUpsert}); v != 2 {
		t.Errorf("applied upserts = %v, want 2", v)
	}
	if v := metricValue(t, cl.reg, "sidecard_sidecar_update_delay_seconds", nil); v != 0 {
		t.Errorf("update delay observations = %v, want none for the initial sync", v)
	}
}

// checkNode fails t unless req carries the node with labels and selector.
func checkNode(t *testing.T, req *discovery.DeltaDiscoveryRequest, labels, selector map[string]string) {
	t.Helper()
	n := req.GetNode()
	md := n.GetMetadata().GetFields()
	if n.GetId() != "host-a" ||
		!maps.Equal(structStrings(md[metadataLabels]), labels) ||
		!maps.Equal(structStrings(md[metadataSelector]), selector) {
		t.Errorf("node %v, want labels %v selector %v", n, labels, selector)
	}
}

// structStrings returns a Struct value of strings as a map.
func structStrings(v *structpb.Value) map[string]string {
	out := map[string]string{}
	for k, f := range v.GetStructValue().GetFields() {
		out[k] = f.GetStringValue()
	}
	return out
}

func TestUpdateAndRemoval(t *testing.T) {
	t.Parallel()
	lc := newLinearCache(testAgent("alpha", 1), testAgent("beta", 2))
	srv := startServer(t, lc, listen(t))
	now := testUpdatedAt.Add(250 * time.Millisecond)
	cl := startClient(t, []string{srv.addr}, func(o *Options) { o.Now = func() time.Time { return now } })
	waitFor(t, "the initial sync", syncWithin, func() bool { return cl.r.Load().Len() == 2 })

	if err := lc.UpdateResource("alpha", testAgent("alpha", 5)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the update", syncWithin, func() bool { return cl.r.Load().Revision() == 5 })
	if err := lc.DeleteResource("beta"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the removal", syncWithin, func() bool { return cl.r.Load().Len() == 1 })

	snap := cl.r.Load()
	if e, ok := snap.Index().Get("alpha"); !ok || e.Revision != 5 {
		t.Errorf("alpha = %+v", e)
	}
	if got := slices.Sorted(maps.Keys(snap.Versions())); !slices.Equal(got, []string{"alpha"}) {
		t.Errorf("versions for %v, want [alpha]", got)
	}
	for op, want := range map[string]float64{opUpsert: 3, opRemove: 1} {
		if v := metricValue(t, cl.reg, "sidecard_sidecar_updates_applied_total", map[string]string{"op": op}); v != want {
			t.Errorf("applied %s = %v, want %v", op, v, want)
		}
	}
	if v := metricValue(t, cl.reg, "sidecard_sidecar_update_delay_seconds", nil); v != 1 {
		t.Errorf("update delay observations = %v, want 1", v)
	}
}

func TestInvalidResponseIsNACKed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		update  map[string]*registryv1.Agent
		wantMsg string
	}{
		{
			name:    "card JSON that does not parse",
			update:  map[string]*registryv1.Agent{"gamma": testAgent("gamma", 3), "broken": badCardAgent("broken")},
			wantMsg: `resource "broken": card`,
		},
		{
			name:    "an agent named differently from its resource",
			update:  map[string]*registryv1.Agent{"gamma": testAgent("gamma", 3), "delta": testAgent("other", 4)},
			wantMsg: `resource "delta": agent name "other"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			lc := newLinearCache(testAgent("alpha", 1))
			srv := startServer(t, lc, listen(t))
			cl := startClient(t, []string{srv.addr}, nil)
			waitFor(t, "the initial sync", syncWithin, func() bool { return cl.c.Status().ACKs == 1 })
			before := cl.r.Load()

			update := map[string]types.Resource{}
			for name, a := range tt.update {
				update[name] = a
			}
			if err := lc.UpdateResources(update, nil); err != nil {
				t.Fatal(err)
			}
			var nack *discovery.DeltaDiscoveryRequest
			waitFor(t, "the NACK", syncWithin, func() bool {
				nack = srv.rec.findRequest(func(r *discovery.DeltaDiscoveryRequest) bool { return r.GetErrorDetail() != nil })
				return nack != nil
			})
			detail := nack.GetErrorDetail()
			if codes.Code(detail.GetCode()) != codes.InvalidArgument || !strings.Contains(detail.GetMessage(), tt.wantMsg) {
				t.Errorf("error detail %v, want InvalidArgument with %q", detail, tt.wantMsg)
			}
			if nack.GetResponseNonce() != srv.rec.responses()[1].GetNonce() {
				t.Errorf("NACK of nonce %q, want the second response's", nack.GetResponseNonce())
			}
			waitFor(t, "the NACK in the status", syncWithin, func() bool { return cl.c.Status().NACKs == 1 })
			if cl.r.Load() != before {
				t.Error("the replica changed after a NACK")
			}
			if st := cl.c.Status(); st.LastNACK != detail.GetMessage() || st.LastNACKAt.IsZero() || !st.Connected {
				t.Errorf("status %+v", st)
			}
			if v := metricValue(t, cl.reg, "sidecard_sidecar_nacks_total", nil); v != 1 {
				t.Errorf("nacks = %v, want 1", v)
			}

			// The stream goes on: a valid update is applied.
			if err := lc.UpdateResource("after", testAgent("after", 7)); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "an update after the NACK", syncWithin, func() bool {
				_, ok := cl.r.Load().Index().Get("after")
				return ok
			})
			if _, ok := cl.r.Load().Index().Get("gamma"); ok {
				t.Error("a resource of the NACKed response was applied")
			}
		})
	}
}

func TestReconnectToAnotherAddress(t *testing.T) {
	t.Parallel()
	lc := newLinearCache(testAgent("alpha", 1), testAgent("beta", 2), testAgent("gamma", 3))
	srvA := startServer(t, lc, listen(t))
	gate := &gatedListener{Listener: listen(t)}
	srvB := startServer(t, lc, gate)
	cl := startClient(t, []string{srvA.addr, srvB.addr}, nil)
	waitFor(t, "the initial sync", syncWithin, func() bool { return cl.c.Status().ACKs == 1 })

	srvA.grpc.Stop()
	waitFor(t, "the disconnection", syncWithin, func() bool { return !cl.c.Status().Connected })
	waitFor(t, "retries on both addresses", syncWithin, func() bool { return cl.c.Status().Reconnects >= 2 })
	if st := cl.c.Status(); st.Connected || st.LastError == "" || st.DisconnectedAt.IsZero() {
		t.Fatalf("status while both control planes are down: %+v", st)
	}
	if since, down := cl.c.DownSince(); !down || since.IsZero() {
		t.Errorf("DownSince while both control planes are down = %v, %v", since, down)
	}
	if v := metricValue(t, cl.reg, "sidecard_sidecar_stream_connected", nil); v != 0 {
		t.Errorf("connected gauge = %v, want 0", v)
	}

	// While the sidecar is away, one entry changes and one goes.
	if err := lc.UpdateResources(map[string]types.Resource{"alpha": testAgent("alpha", 7)}, []string{"beta"}); err != nil {
		t.Fatal(err)
	}
	held := cl.r.Load().Versions()
	gate.open.Store(true)

	waitFor(t, "the reconnection", syncWithin, func() bool {
		st := cl.c.Status()
		return st.Connected && st.Address == srvB.addr && st.ACKs == 2
	})
	if _, down := cl.c.DownSince(); down {
		t.Error("DownSince reports down on a live stream")
	}
	first := srvB.rec.requests()[0]
	if !maps.Equal(first.GetInitialResourceVersions(), held) || !slices.Equal(first.GetResourceNamesSubscribe(), []string{"*"}) {
		t.Errorf("first request on the new stream: %v, want initial versions %v", first, held)
	}
	resp := srvB.rec.responses()[0]
	var sent []string
	for _, r := range resp.GetResources() {
		sent = append(sent, r.GetName())
	}
	if !slices.Equal(sent, []string{"alpha"}) || !slices.Equal(resp.GetRemovedResources(), []string{"beta"}) {
		t.Errorf("catch-up sent %v and removed %v, want only [alpha] and [beta]", sent, resp.GetRemovedResources())
	}
	snap := cl.r.Load()
	if got := entryNames(snap); !slices.Equal(got, []string{"alpha", "gamma"}) || snap.Revision() != 7 {
		t.Errorf("replica %v at revision %d, want [alpha gamma] at 7", got, snap.Revision())
	}
	if v := metricValue(t, cl.reg, "sidecard_sidecar_reconnects_total", nil); v < 2 {
		t.Errorf("reconnects = %v, want at least 2", v)
	}
}

func TestNodeChangeIsResent(t *testing.T) {
	t.Parallel()
	srv := startServer(t, newLinearCache(testAgent("alpha", 1)), listen(t))
	cl := startClient(t, []string{srv.addr}, nil)
	waitFor(t, "the initial sync", syncWithin, func() bool { return cl.c.Status().ACKs == 1 })

	cl.c.SetSelector(map[string]string{"team": "search"})
	cl.c.SetLabels(map[string]string{"zone": "us-1"})
	var req *discovery.DeltaDiscoveryRequest
	waitFor(t, "the node with the new selector and labels", syncWithin, func() bool {
		req = srv.rec.findRequest(func(r *discovery.DeltaDiscoveryRequest) bool {
			md := r.GetNode().GetMetadata().GetFields()
			return structStrings(md[metadataSelector])["team"] == "search" && structStrings(md[metadataLabels])["zone"] == "us-1"
		})
		return req != nil
	})
	if len(req.GetResourceNamesSubscribe()) != 0 || len(req.GetResourceNamesUnsubscribe()) != 0 ||
		req.GetResponseNonce() != "" || req.GetTypeUrl() != registryv1.TypeURL {
		t.Errorf("node update request %v, want only the node and the type", req)
	}
	checkNode(t, req, map[string]string{"zone": "us-1"}, map[string]string{"team": "search"})
}

func TestRunTwice(t *testing.T) {
	t.Parallel()
	srv := startServer(t, newLinearCache(), listen(t))
	cl := startClient(t, []string{srv.addr}, nil)
	waitFor(t, "the first Run to connect", syncWithin, func() bool { return cl.c.Status().Connected })
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // were the second Run accepted, it would return at once
	if err := cl.c.Run(ctx); err == nil {
		t.Error("a second Run was accepted")
	}
}

func TestStopMarksDisconnected(t *testing.T) {
	t.Parallel()
	srv := startServer(t, newLinearCache(testAgent("alpha", 1)), listen(t))
	cl := startClient(t, []string{srv.addr}, nil)
	waitFor(t, "the initial sync", syncWithin, func() bool { return cl.c.Status().ACKs == 1 })
	cl.stop()
	if st := cl.c.Status(); st.Connected || !st.ConnectedSince.IsZero() {
		t.Errorf("status after Run returned: %+v", st)
	}
	if v := metricValue(t, cl.reg, "sidecard_sidecar_stream_connected", nil); v != 0 {
		t.Errorf("connected gauge = %v, want 0", v)
	}
	if cl.r.Load().Len() != 1 {
		t.Error("stopping the client changed the replica")
	}
}

// entryNames returns the names in s in order.
func entryNames(s *cache.Snapshot) []string {
	var out []string
	s.Index().Range(func(e *registry.Entry) bool {
		out = append(out, e.Name)
		return true
	})
	return out
}

func TestDownSinceBeforeFirstStream(t *testing.T) {
	start := time.Unix(1700000000, 0)
	replica, err := cache.NewReplica(cache.ReplicaOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(Options{
		Addresses: []string{"127.0.0.1:1"}, NodeID: "n", Replica: replica,
		Now: func() time.Time { return start },
	})
	if err != nil {
		t.Fatal(err)
	}
	since, down := c.DownSince()
	if !down || !since.Equal(start) {
		t.Fatalf("DownSince = %v, %v; want %v, true", since, down, start)
	}
}
