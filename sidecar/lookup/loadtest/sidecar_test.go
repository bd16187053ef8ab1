package loadtest_test

import (
	"context"
	"math/rand/v2"
	"net"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/valyala/fasthttp"

	"github.com/sidecard/sidecard/cache"
	"github.com/sidecard/sidecard/registry"
	"github.com/sidecard/sidecard/sidecar/lookup"
	"github.com/sidecard/sidecard/sidecar/lookup/loadtest"
)

// sidecar is a lookup server on a replica of the generated registry.
type sidecar struct {
	replica *cache.Replica
	entries []*registry.Entry // the replica's entries, updated by whileUpdating
	addr    string
}

// newSidecar starts a lookup server on 127.0.0.1 holding a copy of entries.
func newSidecar(t *testing.T, entries []*registry.Entry) *sidecar {
	t.Helper()
	r, err := cache.NewReplica(cache.ReplicaOptions{})
	if err != nil {
		t.Fatal(err)
	}
	entries = append([]*registry.Entry(nil), entries...)
	r.Replace(entries, nil)
	reg := prometheus.NewRegistry()
	h, err := lookup.New(lookup.Options{
		Source: r, Status: status{}, Ready: func() bool { return true },
		Gatherer: reg, Registerer: reg,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close) // cleanups run last-in first-out: after the server's shutdown
	addr := startFastHTTP(t, lookup.NewServer(h, lookup.ServerOptions{}))
	return &sidecar{replica: r, entries: entries, addr: addr}
}

// status is a StatusSource for the load test.
type status struct{}

func (status) Status() lookup.Status { return lookup.Status{NodeID: "load", Connected: true} }

// startServer starts a bare fasthttp server with handler on 127.0.0.1.
func startServer(t *testing.T, handler fasthttp.RequestHandler) string {
	return startFastHTTP(t, &fasthttp.Server{Handler: handler})
}

// startFastHTTP serves srv on a fresh loopback port until the test ends.
func startFastHTTP(t *testing.T, srv *fasthttp.Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		if err := srv.Shutdown(); err != nil {
			t.Error(err)
		}
		<-done
	})
	return ln.Addr().String()
}

// fetch GETs target from addr and returns the body and the headers a
// reference must repeat to send the same bytes.
func fetch(t *testing.T, addr, target string) ([]byte, [][2]string) {
	t.Helper()
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI("http://" + addr + target)
	if err := fasthttp.DoTimeout(req, resp, 5*time.Second); err != nil || resp.StatusCode() != 200 {
		t.Fatalf("GET %s: %v %d", target, err, resp.StatusCode())
	}
	var headers [][2]string
	for _, k := range []string{"Content-Type", "Etag", "X-Content-Type-Options"} {
		headers = append(headers, [2]string{k, string(resp.Header.Peek(k))})
	}
	return append([]byte(nil), resp.Body()...), headers
}

// whileUpdating runs fn while 100 updates/s are applied to s's replica,
// each renewing one of the hot names at the next revision, and logs the
// rate achieved.
func (s *sidecar) whileUpdating(t *testing.T, fn func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	applied := make(chan int)
	go func() {
		n := 0
		rev := s.replica.Load().Revision()
		rng := rand.New(rand.NewPCG(uint64(rev), 7))
		tick := time.NewTicker(time.Second / updatesPerSec) // pacing the updates
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				applied <- n
				return
			case <-tick.C:
				rev++
				i := rng.IntN(hotNames)
				s.entries[i] = loadtest.Renewed(s.entries[i], rev)
				s.replica.Apply([]*registry.Entry{s.entries[i]}, nil, nil)
				n++
			}
		}
	}()
	start := time.Now()
	fn()
	cancel()
	n := <-applied
	if rate := float64(n) / time.Since(start).Seconds(); rate < updatesPerSec*0.9 {
		t.Logf("only %.0f updates/s applied", rate)
	}
}

// hotGets returns GETs of the hot names in a shuffled order.
func hotGets(int) [][]byte {
	reqs := make([][]byte, hotNames)
	for i, j := range shuffled(hotNames, 3) {
		reqs[i] = loadtest.GET("/v1/agents/" + loadtest.Name(j))
	}
	return reqs
}

// shuffled returns a permutation of 0..n-1 fixed by seed.
func shuffled(n int, seed uint64) []int { return rand.New(rand.NewPCG(seed, seed)).Perm(n) }
