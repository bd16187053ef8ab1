package main

// End-to-end tests of the registry's delta xDS (BRIEF §6, §9): a control
// plane and three sidecars (nodes a, b and c) in this process, over real
// gRPC and HTTP on loopback, each with its own data directory and
// Prometheus registry.

import (
	"context"
	"errors"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sidecard/sidecard/cache"
	"github.com/sidecard/sidecard/controlplane/api"
	"github.com/sidecard/sidecard/controlplane/store"
	"github.com/sidecard/sidecard/controlplane/view"
	"github.com/sidecard/sidecard/controlplane/xds"
	"github.com/sidecard/sidecard/registry"
	"github.com/sidecard/sidecard/sidecar"
)

// A write through the control plane's API reaches every sidecar with its
// revision as ETag, and so does a later update of the same entry; a live
// sidecar's lookups carry no staleness header.
func TestE2EWriteReachesEverySidecar(t *testing.T) {
	cp, scs := startFleet(t, nil)

	rev := putAgent(t, cp.base, "weather", "v1", labels("team", "forecast"))
	waitEntry(t, scs, "weather", rev)
	rev2 := putAgent(t, cp.base, "weather", "v2", labels("team", "forecast"))
	if rev2 <= rev {
		t.Fatalf("update got revision %d, not above %d", rev2, rev)
	}
	waitEntry(t, scs, "weather", rev2)

	for _, sc := range scs {
		_, h, body, err := httpGet(sc.base + "/v1/agents/weather")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(body), `"description":"v2"`) {
			t.Errorf("sidecar %s serves %s, want the updated card", sc.id, body)
		}
		if v := h.Get(staleHeader); v != "" {
			t.Errorf("sidecar %s is connected but answers %s: %s", sc.id, staleHeader, v)
		}
	}
}

// A delete through the control plane's API removes the entry from every
// sidecar, and only that entry.
func TestE2EDeleteReachesEverySidecar(t *testing.T) {
	cp, scs := startFleet(t, nil)
	keep := putAgent(t, cp.base, "keep", "k", nil)
	putAgent(t, cp.base, "doomed", "d", nil)
	waitEntry(t, scs, "keep", keep)

	deleteAgent(t, cp.base, "doomed")
	waitAbsent(t, scs, "doomed")
	for _, sc := range scs {
		if err := sc.entryAt("keep", keep); err != nil {
			t.Error(err)
		}
	}
}

// A sidecar sees only the entries its selector matches; changing the
// selector on the live stream removes those that no longer match and adds
// those that now do, and later writes follow the new selector. Sidecars
// without a selector see everything throughout.
func TestE2ESelectorChangeMovesEntries(t *testing.T) {
	cp, scs := startFleet(t, map[string]map[string]string{"a": labels("team", "a")})
	a, others := scs[0], scs[1:]

	// The stream delivers changes in revision order: once a sidecar has an
	// entry, every earlier write was either sent to it or filtered out.
	b1 := putAgent(t, cp.base, "beta-1", "", labels("team", "b"))
	n1 := putAgent(t, cp.base, "none-1", "", nil)
	a1 := putAgent(t, cp.base, "alpha-1", "", labels("team", "a"))
	a2 := putAgent(t, cp.base, "alpha-2", "", labels("team", "a", "zone", "eu"))
	waitEntry(t, scs, "alpha-1", a1)
	waitEntry(t, scs, "alpha-2", a2)
	waitEntry(t, others, "beta-1", b1)
	waitEntry(t, others, "none-1", n1)
	for _, name := range []string{"beta-1", "none-1"} {
		if err := a.absent(name); err != nil {
			t.Errorf("with selector team=a: %v", err)
		}
	}

	a.s.SetSelector(labels("team", "b"))
	waitEntry(t, []*e2eSidecar{a}, "beta-1", b1)
	waitAbsent(t, []*e2eSidecar{a}, "alpha-1")
	waitAbsent(t, []*e2eSidecar{a}, "alpha-2")
	if err := a.absent("none-1"); err != nil {
		t.Errorf("with selector team=b: %v", err)
	}

	// Later writes follow the new selector: once beta-2 is there, alpha-3
	// (written before) was filtered out.
	a3 := putAgent(t, cp.base, "alpha-3", "", labels("team", "a"))
	b2 := putAgent(t, cp.base, "beta-2", "", labels("team", "b"))
	waitEntry(t, scs, "beta-2", b2)
	if err := a.absent("alpha-3"); err != nil {
		t.Errorf("with selector team=b: %v", err)
	}
	waitEntry(t, others, "alpha-3", a3)
	if st, err := a.status(); err != nil || st.Agents != 2 {
		t.Errorf("sidecar a: status %+v (%v), want 2 agents (beta-1, beta-2)", st, err)
	}
}

// A response carrying an invalid resource is NACKed: every sidecar keeps
// the entry at its previous revision, the control plane's GET /v1/sidecars
// shows the NACK naming the resource, and the stream keeps working (a
// valid update of the same entry is applied).
//
// The control plane validates everything it stores, so a real one never
// streams an invalid entry. This test serves the registry with the control
// plane's own parts (store, view, xds.RegistryCache, xds.Server, api) and
// corrupts entries on the way from the store to the xDS cache, through the
// cache's Feed: corruptingFeed hands the cache an endpoint URL the sidecar's
// validation rejects for every entry labelled corrupt=true.
func TestE2ENACKKeepsPreviousState(t *testing.T) {
	base, xdsAddr := startCorruptingControlPlane(t)
	scs := startSidecars(t, xdsAddr, nil)

	good := putAgent(t, base, "broken", "good", nil)
	other := putAgent(t, base, "other", "", nil)
	waitEntry(t, scs, "broken", good)
	waitAcked(t, base, scs, other)

	bad := putAgent(t, base, "broken", "bad", labels("corrupt", "true"))
	eventually(t, "every sidecar NACKed broken", func() error {
		nodes, err := sidecars(base)
		if err != nil {
			return err
		}
		for _, sc := range scs {
			n := nodes[sc.id]
			if n.NACKs < 1 || !strings.Contains(n.LastNACKError, `"broken"`) {
				return errors.New("node " + sc.id + ": no NACK naming \"broken\" yet: " + n.LastNACKError)
			}
		}
		return nil
	})
	nodes, err := sidecars(base)
	if err != nil {
		t.Fatal(err)
	}
	for _, sc := range scs {
		if err := sc.entryAt("broken", good); err != nil {
			t.Errorf("after the NACK of revision %d: %v", bad, err)
		}
		if n := nodes[sc.id]; n.AckedRevision != other {
			t.Errorf("node %s: acked revision %d after the NACK, want %d", sc.id, n.AckedRevision, other)
		}
		if !strings.Contains(nodes[sc.id].LastNACKError, "endpoints[0].url") {
			t.Errorf("node %s: NACK error %q does not name the field", sc.id, nodes[sc.id].LastNACKError)
		}
		if got := counter(t, sc.reg, "sidecard_sidecar_nacks_total", nil); got < 1 {
			t.Errorf("sidecar %s: sidecard_sidecar_nacks_total = %v, want >= 1", sc.id, got)
		}
	}

	fixed := putAgent(t, base, "broken", "fixed", nil)
	waitEntry(t, scs, "broken", fixed)
	waitAcked(t, base, scs, fixed)
}

// While the control plane is down every sidecar keeps answering from its
// replica, marked stale. A control plane restarted on the same data
// directory and xDS address, after entries changed while it was down,
// streams each reconnecting sidecar only what changed (the sidecars send
// the versions they hold), and the replicas match the store again.
func TestE2EControlPlaneRestartSendsOnlyChanges(t *testing.T) {
	dataDir := t.TempDir()
	cp1 := startControlPlane(t, dataDir, "127.0.0.1:0")
	scs := startSidecars(t, cp1.xdsAddr, nil)
	revs := make(map[string]int64)
	for _, name := range []string{"e1", "e2", "e3", "e4", "e5"} {
		revs[name] = putAgent(t, cp1.base, name, "before", nil)
	}
	for name, rev := range revs {
		waitEntry(t, scs, name, rev)
	}

	cp1.stop()
	for _, sc := range scs {
		eventually(t, "sidecar "+sc.id+" stale", func() error { return sc.staleEntry("e1") })
	}
	e2 := revs["e2"]
	var last int64
	revs["e1"], revs["e6"], last = changeWhileDown(t, dataDir)
	delete(revs, "e2")
	before := make(map[string][2]float64)
	for _, sc := range scs {
		if err := sc.entryAt("e2", e2); err != nil { // still the old replica
			t.Errorf("while the control plane is down: %v", err)
		}
		before[sc.id] = appliedCounts(t, sc)
	}

	cp2 := startControlPlane(t, dataDir, cp1.xdsAddr)
	waitConnected(t, scs, true)
	waitAcked(t, cp2.base, scs, last)
	for name, rev := range revs {
		waitEntry(t, scs, name, rev)
	}
	waitAbsent(t, scs, "e2")

	// Each sidecar was sent e1 and e6, and told to remove e2; nothing else.
	if got, want := counter(t, cp2.reg, "sidecard_xds_registry_resources_sent_total", nil), float64(2*len(scs)); got != want {
		t.Errorf("restarted control plane sent %v resources, want %v (e1 and e6 to each sidecar)", got, want)
	}
	for _, sc := range scs {
		after := appliedCounts(t, sc)
		if upserts, removes := after[0]-before[sc.id][0], after[1]-before[sc.id][1]; upserts != 2 || removes != 1 {
			t.Errorf("sidecar %s applied %v upserts and %v removals on reconnecting, want 2 and 1", sc.id, upserts, removes)
		}
		// /v1/status reports the store revision the sidecar is in sync with
		// (the delete's), as /v1/sidecars does, not just the highest entry
		// revision it holds (e6's).
		st, err := sc.status()
		if err != nil || st.Agents != len(revs) || st.Revision != last {
			t.Errorf("sidecar %s: status %+v (%v), want %d agents at revision %d", sc.id, st, err, len(revs), last)
		}
	}
}

// changeWhileDown opens the store of a stopped control plane in dataDir and
// changes e1, adds e6 and deletes e2, returning the revisions of e1, e6 and
// of the deletion.
func changeWhileDown(t *testing.T, dataDir string) (e1, e6, deleted int64) {
	t.Helper()
	st, err := store.Open(filepath.Join(dataDir, "registry.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
	}()
	e1 = storePut(t, st, "e1", "changed while down")
	e6 = storePut(t, st, "e6", "added while down")
	if deleted, err = st.Delete(context.Background(), "e2", store.Precondition{}); err != nil {
		t.Fatal(err)
	}
	return e1, e6, deleted
}

// appliedCounts returns the upserts and removals the sidecar has applied.
func appliedCounts(t *testing.T, sc *e2eSidecar) [2]float64 {
	t.Helper()
	const name = "sidecard_sidecar_updates_applied_total"
	return [2]float64{counter(t, sc.reg, name, labels("op", "upsert")), counter(t, sc.reg, name, labels("op", "remove"))}
}

// storePut writes an entry straight into st and returns its revision.
func storePut(t *testing.T, st *store.Bolt, name, description string) int64 {
	t.Helper()
	e, err := registry.ParseEntry([]byte(agentJSON(name, description, nil)), name)
	if err != nil {
		t.Fatal(err)
	}
	stored, _, err := st.Put(context.Background(), e, store.Precondition{})
	if err != nil {
		t.Fatal(err)
	}
	return stored.Revision
}

// A sidecar restarted while the control plane is down is ready at once and
// serves, marked stale, the replica it wrote to its data directory; a
// sidecar without a replica on disk is not ready.
func TestE2ESidecarRestartsWarmWhileControlPlaneDown(t *testing.T) {
	cp := startControlPlane(t, t.TempDir(), "127.0.0.1:0")
	dataDir := t.TempDir()
	sc := startSidecar(t, "a", dataDir, cp.xdsAddr, nil)
	waitConnected(t, []*e2eSidecar{sc}, true)
	r1 := putAgent(t, cp.base, "first", "", nil)
	r2 := putAgent(t, cp.base, "second", "", nil)
	waitEntry(t, []*e2eSidecar{sc}, "first", r1)
	waitEntry(t, []*e2eSidecar{sc}, "second", r2)

	cp.stop()
	sc.stop()
	snap, err := cache.LoadFile(filepath.Join(dataDir, sidecar.ReplicaFile))
	if err != nil {
		t.Fatalf("replica file after the sidecar stopped: %v", err)
	}
	if snap.Len() != 2 || snap.Revision() != r2 {
		t.Fatalf("replica file holds %d entries at revision %d, want 2 at %d", snap.Len(), snap.Revision(), r2)
	}

	warm := startSidecar(t, "a", dataDir, cp.xdsAddr, nil)
	if !warm.s.Ready() {
		t.Error("sidecar restarted from its replica file is not Ready")
	}
	if err := wantStatus(warm.base+"/readyz", http.StatusOK); err != nil {
		t.Error(err)
	}
	for name, rev := range map[string]int64{"first": r1, "second": r2} {
		if err := warm.entryAt(name, rev); err != nil {
			t.Error(err)
		}
		if err := warm.staleEntry(name); err != nil {
			t.Error(err)
		}
	}
	if st, err := warm.status(); err != nil || st.Agents != 2 || st.Revision != r2 || st.Connected {
		t.Errorf("warm sidecar: status %+v (%v), want 2 agents at revision %d, disconnected", st, err, r2)
	}

	cold := startSidecar(t, "b", t.TempDir(), cp.xdsAddr, nil)
	if err := wantStatus(cold.base+"/readyz", http.StatusServiceUnavailable); err != nil {
		t.Errorf("sidecar without a replica, control plane down: %v", err)
	}
}

// corruptingFeed is the store as the xDS cache sees it, except that every
// entry labelled corrupt=true gets an endpoint URL no sidecar accepts.
type corruptingFeed struct{ *store.Bolt }

var _ xds.Feed = corruptingFeed{}

func (f corruptingFeed) List() ([]*registry.Entry, int64, error) {
	entries, rev, err := f.Bolt.List()
	for i, e := range entries {
		entries[i] = corrupt(e)
	}
	return entries, rev, err
}

func (f corruptingFeed) Changes(after int64, limit int) ([]store.Change, error) {
	changes, err := f.Bolt.Changes(after, limit)
	for i := range changes {
		changes[i].Entry = corrupt(changes[i].Entry)
	}
	return changes, err
}

func corrupt(e *registry.Entry) *registry.Entry {
	if e == nil || e.Labels["corrupt"] != "true" {
		return e
	}
	c := e.Clone()
	c.Endpoints = []registry.Endpoint{{URL: "ftp://corrupt.invalid/", Weight: 1}}
	return c
}

// startCorruptingControlPlane serves a store in a temporary directory as
// controlplane.ControlPlane does (HTTP API and xDS on loopback), with the
// registry xDS cache reading the store through corruptingFeed. It returns
// the HTTP base URL and the xDS address.
func startCorruptingControlPlane(t *testing.T) (base, xdsAddr string) {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "registry.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() }) // after the parts below stopped (cleanups run last-in first-out)
	reg := prometheus.NewRegistry()
	v, err := view.New(st, view.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rc, err := xds.NewRegistryCache(corruptingFeed{st}, xds.RegistryCacheOptions{Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := xds.NewServer(rc, xds.ServerOptions{Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	a, err := api.New(api.Options{Store: st, View: v, Ready: rc.Ready,
		Nodes: api.NodesFunc(func() any { return srv.Nodes() }), Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	xdsLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	httpLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := api.NewServer(httpLn.Addr().String(), a.Handler(), api.Timeouts{})
	runPart(t, "corrupting control plane", func(ctx context.Context) error {
		var wg sync.WaitGroup
		errs := make([]error, 4)
		wg.Go(func() { errs[0] = v.Run(ctx) })
		wg.Go(func() { errs[1] = rc.Run(ctx) })
		wg.Go(func() { errs[2] = srv.Serve(ctx, xdsLn) })
		wg.Go(func() {
			if err := hs.Serve(httpLn); !errors.Is(err, http.ErrServerClosed) {
				errs[3] = err
			}
		})
		<-ctx.Done()
		shutdownCtx, done := context.WithTimeout(context.WithoutCancel(ctx), e2eWait)
		defer done()
		shutdownErr := hs.Shutdown(shutdownCtx)
		wg.Wait()
		return errors.Join(append(errs, shutdownErr)...)
	})
	base = "http://" + httpLn.Addr().String()
	eventually(t, "corrupting control plane ready", func() error { return wantStatus(base+"/readyz", http.StatusOK) })
	return base, xdsLn.Addr().String()
}
