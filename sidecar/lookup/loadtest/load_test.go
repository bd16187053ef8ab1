package loadtest_test

import (
	"context"
	"flag"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/sidecard/sidecard/registry"
	"github.com/sidecard/sidecard/sidecar/lookup/loadtest"
)

var (
	loadFlag     = flag.Bool("load", false, "run the BRIEF §8 lookup load scenarios (TestLoad)")
	loadDuration = flag.Duration("load.duration", time.Second, "measured time of each run")
	loadConns    = flag.Int("load.conns", 32, "keep-alive connections of the load generator")
	loadRounds   = flag.Int("load.rounds", 3, "rounds; each round runs every scenario once, paired with a reference run")
	loadOut      = flag.String("load.out", "", "file to write the results table to (markdown)")
	loadWrk      = flag.Bool("load.wrk", false, "also measure GET throughput with wrk, when it is on PATH")
)

// Shape of the scenarios.
const (
	registrySize  = 10_000
	hotNames      = 1000 // names GET during updates
	updatesPerSec = 100
	uncachedRate  = 1000 // req/s of the uncached search latency run
	entryTarget   = "/v1/agents/agent-004242"
	searchTarget  = "/v1/agents?skill=skill-7"
)

// halfLoad marks a scenario run open-loop at half the throughput of a
// closed-loop reference run made just before it.
const halfLoad = -1

// scenario is one measured load on a lookup server.
type scenario struct {
	name     string
	sidecar  *sidecar // nil: a fresh sidecar (empty cache) per round
	requests func(round int) [][]byte
	rate     float64 // 0: closed loop; halfLoad; or req/s
	updating bool    // run while 100 updates/s are applied
}

// TestLoad runs the BRIEF §8 lookup scenarios on loopback. Every run of a
// scenario is paired with a run of a bare fasthttp server returning the
// same bytes (the reference), with the same connections and rate, just
// before it; rounds alternate so that the machine's background load hits
// both alike, and the table reports medians over the rounds. It runs only
// with -load; every run is bounded by -load.duration.
func TestLoad(t *testing.T) {
	if !*loadFlag {
		t.Skip("load scenarios run with -load")
	}
	entries, err := loadtest.Entries(registrySize, 1)
	if err != nil {
		t.Fatal(err)
	}
	s := newSidecar(t, entries)
	body, headers := fetch(t, s.addr, entryTarget)
	refAddr := startServer(t, loadtest.Reference(body, headers...))
	rep := newReport()
	for round := range *loadRounds {
		for _, sc := range scenarios(s) {
			rate := sc.rate
			if rate == halfLoad {
				// Half of what the reference sustains right now.
				rate = measure(t, "reference", refAddr, one(entryTarget), 0).Throughput() / 2
			}
			ref := measure(t, "reference", refAddr, one(entryTarget), rate)
			sub := sc.run(t, entries, round, rate)
			rep.add(sc.name, rate, ref, sub)
		}
	}
	if *loadWrk {
		wrkRows(t, rep, refAddr, s.addr)
	}
	rep.finish(t, len(body))
}

// scenarios returns the scenarios of BRIEF §8 on s.
func scenarios(s *sidecar) []scenario {
	return []scenario{
		{name: "GET /v1/agents/{name}", sidecar: s, requests: fixed(entryTarget)},
		{name: "GET /v1/agents/{name}, half load", sidecar: s, requests: fixed(entryTarget), rate: halfLoad},
		{name: "search ?skill= (cached page)", sidecar: s, requests: fixed(searchTarget)},
		{name: "search ?skill=&limit=10 (cached page)", sidecar: s, requests: fixed(searchTarget + "&limit=10")},
		{name: "search, every query distinct, fresh cache", requests: distinctSearches, rate: uncachedRate},
		{name: "GET 1000 names, 100 updates/s", sidecar: s, requests: hotGets, updating: true},
		{name: "GET 1000 names, 100 updates/s, half load", sidecar: s, requests: hotGets, rate: halfLoad, updating: true},
		{name: "search ?skill= (cached page), 100 updates/s", sidecar: s, requests: fixed(searchTarget), updating: true},
	}
}

// run measures sc once at rate.
func (sc scenario) run(t *testing.T, entries []*registry.Entry, round int, rate float64) loadtest.Result {
	side := sc.sidecar
	if side == nil {
		side = newSidecar(t, entries)
	}
	var res loadtest.Result
	measureIt := func() { res = measure(t, sc.name, side.addr, sc.requests(round), rate) }
	if sc.updating {
		side.whileUpdating(t, measureIt)
	} else {
		measureIt()
	}
	return res
}

// measure runs requests against addr (closed loop, or open loop at rate).
func measure(t *testing.T, name, addr string, requests [][]byte, rate float64) loadtest.Result {
	t.Helper()
	runtime.GC() // start each run from the same heap state
	res, err := loadtest.Run(context.Background(), loadtest.Config{
		Addr: addr, Requests: requests, Conns: *loadConns, Rate: rate,
		Warmup: *loadDuration / 5, Duration: *loadDuration,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Err != nil {
		t.Errorf("%s: %v", name, res.Err)
	}
	return res
}

// fixed returns a request list of one target for every round.
func fixed(target string) func(int) [][]byte {
	reqs := one(target)
	return func(int) [][]byte { return reqs }
}

// one returns the request list of one target.
func one(target string) [][]byte { return [][]byte{loadtest.GET(target)} }

// requestsPerRun bounds the requests one open-loop run at rate can send.
func requestsPerRun(rate float64) int {
	return int(rate*(*loadDuration+*loadDuration/5).Seconds()) + 1
}

// distinctSearches returns skill searches (skill × limit) for round, all
// distinct from each other and from those of other rounds, shuffled.
func distinctSearches(round int) [][]byte {
	n := requestsPerRun(uncachedRate) * 5 / 4
	perm := shuffled(loadtest.SkillPool*100, 5)
	reqs := make([][]byte, 0, n)
	for _, i := range perm[(round*n)%len(perm):][:n] {
		reqs = append(reqs, loadtest.GET(fmt.Sprintf("/v1/agents?skill=skill-%d&limit=%d",
			i%loadtest.SkillPool, 1+i/loadtest.SkillPool)))
	}
	return reqs
}
