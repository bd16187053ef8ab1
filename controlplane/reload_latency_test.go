package controlplane

import (
	"flag"
	"fmt"
	"math"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sidecard/sidecard/internal/reloadmetrics"
)

var reloadLatency = flag.Bool("reload-latency", false,
	"run TestReloadLatency, the edit → in-effect measurement of registry, tokens and config edits")

// Latency targets of BRIEF §8 (config or registry-file edit → in effect).
const (
	targetP99 = 250 * time.Millisecond
	targetMax = 3 * time.Second
)

// TestReloadLatency measures, on a control plane with the default watch
// debounce, the time from an edit to its effect in the HTTP API: 100
// registry-file edits (GET /v1/agents/{name} shows the new content), 100
// tokens-file edits and 100 config-file edits (the new token is accepted).
// It reports p50, p99 and max, and fails when the max exceeds 3 s or the
// p99 250 ms:
//
//	go test -count=1 -run TestReloadLatency -v ./controlplane -reload-latency
func TestReloadLatency(t *testing.T) {
	if !*reloadLatency {
		t.Skip("a measurement: run with -reload-latency")
	}
	for _, tt := range []struct {
		name    string
		entries int // in the registry besides the edited one, 10 per file
		edit    func(t testing.TB, path, data string)
	}{
		{"registry file written in place, 10 entries", 10, write},
		{"registry file written in place, 1000 entries", 1000, write},
		{"registry file renamed over, 1000 entries", 1000, renameOver},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for f := range tt.entries / 10 {
				var b strings.Builder
				for e := range 10 {
					b.WriteString("---\n" + agentYAML(fmt.Sprintf("bg-%d-%d", f, e), "background"))
				}
				write(t, filepath.Join(dir, fmt.Sprintf("bg-%d.yaml", f)), b.String())
			}
			path := filepath.Join(dir, "edited.yaml")
			write(t, path, agentYAML("edited", "edit-0"))
			cfg := DefaultConfig()
			cfg.RegistryDirs = []string{dir}
			r := startControlPlane(t, cfg, Deps{})
			eventually(t, r.serves(t, "edited", "edit-0"))
			report(t, measure(t, func(i int) { tt.edit(t, path, agentYAML("edited", fmt.Sprintf("edit-%d", i))) },
				func(i int) bool {
					code, desc := r.description(t, "edited")
					return code == http.StatusOK && desc == fmt.Sprintf("edit-%d", i)
				}))
		})
	}
	t.Run("tokens file written in place", func(t *testing.T) {
		r, dir := startWithTokens(t)
		tokens := filepath.Join(dir, "tokens")
		report(t, measure(t, func(i int) { write(t, tokens, latencyToken(i)+"\n") },
			func(i int) bool { return r.authorized(t, latencyToken(i)) }))
	})
	t.Run("config file written in place: auth.tokens_file switched", func(t *testing.T) {
		r, dir := startWithTokens(t)
		files := [2]string{"tokens-even", "tokens-odd"} // edit i names files[i%2], of token -1-i%2
		for k, f := range files {
			write(t, filepath.Join(dir, f), latencyToken(-1-k)+"\n")
		}
		var unchanged float64
		report(t, measure(t, func(i int) {
			unchanged = r.reloads(t, reloadmetrics.Unchanged)
			write(t, filepath.Join(dir, "cp.yaml"), "auth: {tokens_file: "+files[i%2]+"}\n")
		}, func(i int) bool {
			// Watching another tokens file makes the watcher resync, at
			// once: wait for that reload too, or it would read the next
			// edit without its debounce.
			return r.authorized(t, latencyToken(-1-i%2)) && r.reloads(t, reloadmetrics.Unchanged) > unchanged
		}))
	})
}

// startWithTokens runs a control plane whose config file (cp.yaml) sets a
// tokens file (tokens), both in the returned directory, and reloads them.
func startWithTokens(t *testing.T) (*running, string) {
	dir := t.TempDir()
	path := filepath.Join(dir, "cp.yaml")
	write(t, path, "auth: {tokens_file: tokens}\n")
	write(t, filepath.Join(dir, "tokens"), latencyToken(0)+"\n")
	dataDir := t.TempDir()
	load := func() (Config, error) {
		cfg, err := LoadConfig(path)
		if err != nil {
			return cfg, err
		}
		cfg.DataDir, cfg.XDSAddr, cfg.HTTPAddr = dataDir, "127.0.0.1:0", "127.0.0.1:0"
		return cfg, cfg.Validate()
	}
	cfg, err := load()
	if err != nil {
		t.Fatal(err)
	}
	return startControlPlane(t, cfg, Deps{ConfigPath: path, LoadConfig: load}), dir
}

// latencyToken is the token of edit i.
func latencyToken(i int) string { return fmt.Sprintf("latency-token-%08d", i+100) }

// authorized reports whether token passes authentication, with a write that
// changes nothing: DELETE of an absent entry answers 404 once authenticated.
func (r *running) authorized(t testing.TB, token string) bool {
	req, err := http.NewRequest(http.MethodDelete, r.base+"/v1/agents/absent", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusNotFound
}

// measure makes edits 1 to 100 and returns, for each, the time from the
// edit to the first poll (every millisecond) that sees it in effect.
func measure(t *testing.T, edit func(i int), inEffect func(i int) bool) []time.Duration {
	lat := make([]time.Duration, 0, 100)
	for i := 1; i <= 100; i++ {
		start := time.Now()
		edit(i)
		for !inEffect(i) {
			if time.Since(start) > 2*targetMax {
				t.Fatalf("edit %d not in effect after %v", i, 2*targetMax)
			}
			time.Sleep(time.Millisecond) // polling a condition
		}
		lat = append(lat, time.Since(start))
	}
	return lat
}

// report logs p50, p99 and max of lat and checks them against the targets.
func report(t *testing.T, lat []time.Duration) {
	slices.Sort(lat)
	q := func(p float64) time.Duration { return lat[int(math.Ceil(p*float64(len(lat))))-1] }
	p50, p99, worst := q(0.50), q(0.99), lat[len(lat)-1]
	t.Logf("%s: %d edits: p50 %v, p99 %v, max %v", t.Name(), len(lat),
		p50.Round(100*time.Microsecond), p99.Round(100*time.Microsecond), worst.Round(100*time.Microsecond))
	if worst > targetMax {
		t.Errorf("max %v, BRIEF target: never more than %v", worst, targetMax)
	}
	if p99 > targetP99 {
		t.Errorf("p99 %v, BRIEF target: under %v", p99, targetP99)
	}
}
