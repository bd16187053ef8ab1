package loadtest_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sidecard/sidecard/sidecar/lookup/loadtest"
)

// wrkRows measures GET entry throughput with wrk (one thread, the same
// connections and duration), the reference first, and adds the rows.
func wrkRows(t *testing.T, rep *report, refAddr, addr string) {
	t.Helper()
	if _, err := exec.LookPath("wrk"); err != nil {
		t.Logf("wrk not on PATH: %v", err)
		return
	}
	for range *loadRounds {
		ref := wrk(t, refAddr, entryTarget)
		rep.add("GET /v1/agents/{name} (wrk -t1)", 0, ref, wrk(t, addr, entryTarget))
	}
}

// wrk runs wrk against http://addr+target and returns a Result holding
// its request count, duration and non-2xx count (no latencies).
func wrk(t *testing.T, addr, target string) loadtest.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), *loadDuration+30*time.Second)
	defer cancel()
	secs := max(int(loadDuration.Seconds()), 1)
	out, err := exec.CommandContext(ctx, "wrk", "-t1", fmt.Sprintf("-c%d", *loadConns), fmt.Sprintf("-d%ds", secs),
		"http://"+addr+target).CombinedOutput()
	if err != nil {
		t.Fatalf("wrk: %v\n%s", err, out)
	}
	res, err := parseWrk(out)
	if err != nil {
		t.Fatalf("wrk output: %v\n%s", err, out)
	}
	return res
}

// parseWrk reads "N requests in Xs" and "Non-2xx or 3xx responses: M"
// from wrk's output.
func parseWrk(out []byte) (loadtest.Result, error) {
	res := loadtest.Result{Statuses: map[int]int{}}
	found := false
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) >= 4 && f[1] == "requests" && f[2] == "in":
			n, err := strconv.Atoi(f[0])
			if err != nil {
				return res, err
			}
			d, err := time.ParseDuration(strings.TrimSuffix(f[3], ","))
			if err != nil {
				return res, err
			}
			res.Requests, res.Elapsed, found = n, d, true
		case len(f) == 5 && f[0] == "Non-2xx":
			n, err := strconv.Atoi(f[4])
			if err != nil {
				return res, err
			}
			res.Statuses[0] = n
		}
	}
	if !found {
		return res, fmt.Errorf("no request count")
	}
	res.Statuses[200] = res.Requests - res.Statuses[0]
	return res, nil
}
