package compat_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sidecard/sidecard/controlplane"
)

// Flags of the load report (TestLoadReport), off by default.
var (
	loadReport = flag.Bool("compat-load", false,
		"run the A2A Registry compatibility load report against a control plane on 127.0.0.1")
	loadAgents = flag.Int("compat-load-agents", 1000, "agents registered by the load report, the registry size of its reads")
	loadN      = flag.Int("compat-load-n", 5000, "requests per read operation of the load report")
	loadC      = flag.Int("compat-load-c", 50, "concurrent clients of the load report")
	loadTime   = flag.Duration("compat-load-time", 10*time.Second, "bound on the time of each operation of the load report, and of its reference")
)

// TestRegisterLoad is A2A Registry's published load test against a control
// plane: 1000 agents registered through POST /agents by 50 concurrent
// clients, every answer a 201, and then all 1000 listed.
func TestRegisterLoad(t *testing.T) {
	base := startControlPlane(t)
	client := newLoadClient(50)
	res := runLoad(client, 1000, 50, time.Minute, registerRequest(base))
	if res.statuses[http.StatusCreated] != 1000 {
		t.Fatalf("statuses %v, want 1000 × 201 (first failure: %s)", res.statuses, res.firstFailure)
	}
	t.Logf("registered 1000 agents in %v (%.0f req/s, p95 %v)", res.elapsed.Round(time.Millisecond),
		res.throughput(), res.percentile(95))
	resp, err := client.Get(base + "/agents")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || !bytes.HasSuffix(bytes.TrimSpace(body), []byte(`],"count":1000}`)) {
		t.Fatalf("list: status %d, body ends %q; want the 1000 agents", resp.StatusCode, tail(body, 40))
	}
}

// TestLoadReport measures throughput and latency of register, get, list,
// search and health against a control plane on 127.0.0.1, each next to a
// reference measured in alternating rounds of the same run: PUT
// /v1/agents/{name} for register, a bare net/http server answering the same
// bytes for get, list and health. It runs only with -compat-load:
//
//	go test -count=1 -run TestLoadReport -v ./controlplane/compat -compat-load
func TestLoadReport(t *testing.T) {
	if !*loadReport {
		t.Skip("run with -compat-load")
	}
	base := startControlPlane(t)
	client := newLoadClient(*loadC)
	n, agents := *loadN, *loadAgents
	run := func(n int, request func(int) *http.Request) loadResult {
		return runLoad(client, n, *loadC, *loadTime/loadRounds, request)
	}
	reg, refPut := inRounds(agents, run, registerRequest(base), func(i int) *http.Request {
		return newRequest("PUT", base+"/v1/agents/ref-agent-"+strconv.Itoa(i), completeCard(i))
	})
	if reg.statuses[http.StatusCreated] != agents {
		t.Fatalf("register: statuses %v (%s)", reg.statuses, reg.firstFailure)
	}
	ref := startBareServer(t, map[string][]byte{
		"/get":    fetch(t, client, base+"/agents/test-agent-42"),
		"/list":   fetch(t, client, base+"/agents"),
		"/health": fetch(t, client, base+"/health"),
	})
	get := func(url string) func(int) *http.Request {
		return func(int) *http.Request { return newRequest("GET", url, "") }
	}
	getOne, refGet := inRounds(n, run, func(i int) *http.Request {
		return newRequest("GET", base+"/agents/test-agent-"+strconv.Itoa(i%agents), "")
	}, get(ref+"/get"))
	list, refList := inRounds(n, run, get(base+"/agents"), get(ref+"/list"))
	search, _ := inRounds(n, run, func(i int) *http.Request {
		return newRequest("POST", base+"/agents/search", `{"query":"test-agent-`+strconv.Itoa(10+i%90)+`"}`)
	}, nil)
	health, refHealth := inRounds(n, run, get(base+"/health"), get(ref+"/health"))

	var report strings.Builder
	fmt.Fprintf(&report, "\n%d agents, %d clients, %d requests per read, %d alternating rounds, each operation "+
		"bounded to %v\n\n| operation | requests | non-2xx | req/s | p50 | p95 | p99 | reference req/s | ratio |\n"+
		"|---|---|---|---|---|---|---|---|---|\n", agents, *loadC, n, loadRounds, *loadTime)
	rows := []struct {
		name     string
		res, ref loadResult
	}{
		{"register (POST /agents) vs PUT /v1/agents/{name}", reg, refPut},
		{"get (GET /agents/{id}) vs bare net/http", getOne, refGet},
		{"list (GET /agents) vs bare net/http", list, refList},
		{"search (POST /agents/search)", search, loadResult{}},
		{"health (GET /health) vs bare net/http", health, refHealth},
	}
	for _, row := range rows {
		report.WriteString(row.res.row(row.name, row.ref))
		for _, r := range []loadResult{row.res, row.ref} {
			if r.statuses[http.StatusOK]+r.statuses[http.StatusCreated] != r.n {
				t.Errorf("%s: statuses %v (%s)", row.name, r.statuses, r.firstFailure)
			}
		}
	}
	t.Log(report.String())
}

// loadRounds is how many alternating rounds inRounds runs, so that the
// noise of a shared machine hits an operation and its reference alike.
const loadRounds = 5

// inRounds makes n requests of a and, when ref is not nil, n of ref, in
// alternating rounds, each round with the next slice of request indexes.
func inRounds(n int, run func(int, func(int) *http.Request) loadResult,
	a, ref func(int) *http.Request) (loadResult, loadResult) {
	var resA, resRef loadResult
	for round := range loadRounds {
		from, to := n*round/loadRounds, n*(round+1)/loadRounds
		offset := func(request func(int) *http.Request) func(int) *http.Request {
			return func(i int) *http.Request { return request(from + i) }
		}
		resA = resA.add(run(to-from, offset(a)))
		if ref != nil {
			resRef = resRef.add(run(to-from, offset(ref)))
		}
	}
	return resA, resRef
}

// startControlPlane runs a control plane with an empty registry on
// 127.0.0.1 until the test ends and returns its HTTP base URL once
// /health answers 200.
func startControlPlane(t *testing.T) string {
	t.Helper()
	cfg := controlplane.DefaultConfig()
	cfg.DataDir = t.TempDir()
	cfg.XDSAddr, cfg.HTTPAddr = "127.0.0.1:0", "127.0.0.1:0"
	cp, err := controlplane.New(cfg, controlplane.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- cp.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("control plane Run: %v", err)
		}
	})
	base := "http://" + cp.HTTPAddr()
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(base + "/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("control plane not healthy after 10s: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// startBareServer serves each body at its path from a plain net/http server
// on 127.0.0.1, the reference of the load report.
func startBareServer(t *testing.T, bodies map[string][]byte) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	serve := func(body []byte) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			_, _ = w.Write(body)
		}
	}
	mux := http.NewServeMux()
	for path, body := range bodies {
		mux.Handle(path, serve(body))
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		_ = srv.Close()
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("bare server: %v", err)
		}
	})
	return "http://" + ln.Addr().String()
}

// registerRequest returns the i-th registration of A2A Registry's load
// test script: agent test-agent-i.
func registerRequest(base string) func(int) *http.Request {
	return func(i int) *http.Request {
		card := fmt.Sprintf(`{"agent_card":{"name":"test-agent-%d","description":"Load test agent %d",`+
			`"url":"http://localhost:300%d","version":"1.0.0","protocol_version":"1.0.0",`+
			`"skills":[{"id":"test","description":"Test skill"}]}}`, i, i, i%10)
		return newRequest("POST", base+"/agents", card)
	}
}

// completeCard is the i-th load-test card completed as the sidecard API
// requires it, camelCase.
func completeCard(i int) string {
	return fmt.Sprintf(`{"name":"ref-agent-%d","description":"Load test agent %d","url":"http://localhost:300%d",`+
		`"version":"1.0.0","protocolVersion":"1.0.0","capabilities":{},"defaultInputModes":["text/plain"],`+
		`"defaultOutputModes":["text/plain"],"skills":[{"id":"test","name":"test","description":"Test skill","tags":[]}]}`,
		i, i, i%10)
}

func newRequest(method, url, body string) *http.Request {
	r, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		panic(err) // the URLs above are well-formed
	}
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	return r
}

func newLoadClient(conns int) *http.Client {
	return &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			MaxIdleConns: conns, MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns,
			DisableCompression: true, IdleConnTimeout: 30 * time.Second,
		},
	}
}

func fetch(t *testing.T, client *http.Client, url string) []byte {
	t.Helper()
	resp, err := client.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status %d, %v", url, resp.StatusCode, err)
	}
	return body
}

// loadResult is what runLoad measured.
type loadResult struct {
	n            int // requests made
	elapsed      time.Duration
	latencies    []time.Duration // sorted
	statuses     map[int]int     // 0: transport error
	firstFailure string
}

// runLoad makes up to n requests, request(i) for i in [0, n), from c
// concurrent clients, stopping early once maxTime has passed, and reads
// every body to the end.
func runLoad(client *http.Client, n, c int, maxTime time.Duration, request func(int) *http.Request) loadResult {
	var (
		next     atomic.Int64
		mu       sync.Mutex
		wg       sync.WaitGroup
		res      = loadResult{statuses: map[int]int{}}
		deadline = time.Now().Add(maxTime)
	)
	start := time.Now()
	for range c {
		wg.Go(func() {
			var lat []time.Duration
			statuses := map[int]int{}
			var failure string
			for {
				i := int(next.Add(1) - 1)
				if i >= n || time.Now().After(deadline) {
					break
				}
				t0 := time.Now()
				status, msg := doRequest(client, request(i))
				lat = append(lat, time.Since(t0))
				statuses[status]++
				if failure == "" && (status < 200 || status > 299) {
					failure = msg
				}
			}
			mu.Lock()
			defer mu.Unlock()
			res.latencies = append(res.latencies, lat...)
			for s, k := range statuses {
				res.statuses[s] += k
			}
			if res.firstFailure == "" {
				res.firstFailure = failure
			}
		})
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	res.n = len(res.latencies)
	slices.Sort(res.latencies)
	return res
}

// doRequest makes r and returns its status (0 for a transport error) and,
// for a failure, a description.
func doRequest(client *http.Client, r *http.Request) (int, string) {
	resp, err := client.Do(r)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err.Error()
	}
	return resp.StatusCode, fmt.Sprintf("%d %s", resp.StatusCode, tail(body, 200))
}

func (r loadResult) throughput() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.n) / r.elapsed.Seconds()
}

// percentile returns the p-th percentile latency (nearest rank).
func (r loadResult) percentile(p int) time.Duration {
	if len(r.latencies) == 0 {
		return 0
	}
	i := (len(r.latencies)*p + 99) / 100
	return r.latencies[max(i-1, 0)]
}

// row formats r as a row of the report table, with its reference's
// throughput and the ratio when ref has any requests.
func (r loadResult) row(name string, ref loadResult) string {
	failed := r.n - r.statuses[http.StatusOK] - r.statuses[http.StatusCreated]
	refRate, ratio := "", ""
	if ref.n > 0 {
		refRate = fmt.Sprintf("%.0f", ref.throughput())
		ratio = fmt.Sprintf("%.2f", r.throughput()/ref.throughput())
	}
	return fmt.Sprintf("| %s | %d | %d | %.0f | %v | %v | %v | %s | %s |\n", name, r.n, failed, r.throughput(),
		r.percentile(50).Round(10*time.Microsecond), r.percentile(95).Round(10*time.Microsecond),
		r.percentile(99).Round(10*time.Microsecond), refRate, ratio)
}

// add returns r and o merged: requests, time, latencies and statuses.
func (r loadResult) add(o loadResult) loadResult {
	out := loadResult{n: r.n + o.n, elapsed: r.elapsed + o.elapsed, statuses: map[int]int{},
		firstFailure: r.firstFailure}
	if out.firstFailure == "" {
		out.firstFailure = o.firstFailure
	}
	out.latencies = append(slices.Clone(r.latencies), o.latencies...)
	slices.Sort(out.latencies)
	for _, m := range []map[int]int{r.statuses, o.statuses} {
		for s, k := range m {
			out.statuses[s] += k
		}
	}
	return out
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
