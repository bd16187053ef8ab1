package sidecar

// Helpers of the reload tests: a sidecar run from a config file it
// watches, with no reachable control plane, and the ways editors, shells
// and Kubernetes change a file.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// reloadWait bounds every wait for a reload; BRIEF §8 wants edits in
// effect within 3 s at worst.
const reloadWait = 10 * time.Second

// reloadRig is a running sidecar whose config file is path.
type reloadRig struct {
	path  string
	s     *Sidecar
	reg   *prometheus.Registry
	level *slog.LevelVar
	logs  *lockedBuffer
	base  string // http://<lookup API address>
}

// lockedBuffer is a bytes.Buffer safe for the logger and the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// deadAddr returns a loopback address nothing listens on.
func deadAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// startReloadRig runs a sidecar on the config file at path, which must
// exist, with node.id, addr and data_dir given as flags would, until the
// test ends.
func startReloadRig(t *testing.T, path string) *reloadRig {
	t.Helper()
	dataDir := t.TempDir()
	load := func() (Config, error) {
		cfg, err := LoadConfig(path)
		if err != nil {
			return cfg, err
		}
		cfg.Node.ID, cfg.Addr, cfg.DataDir = "n", "127.0.0.1:0", dataDir
		return cfg, nil
	}
	cfg, err := load()
	if err != nil {
		t.Fatal(err)
	}
	r := &reloadRig{path: path, reg: prometheus.NewRegistry(), level: new(slog.LevelVar), logs: &lockedBuffer{}}
	log := slog.New(slog.NewJSONHandler(r.logs, &slog.HandlerOptions{Level: r.level}))
	r.s, err = New(cfg, Deps{
		Logger: log, Registerer: r.reg, Gatherer: r.reg, LogLevel: r.level, ConfigPath: path, LoadConfig: load,
	})
	if err != nil {
		t.Fatal(err)
	}
	r.base = "http://" + r.s.Addr()
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- r.s.Run(ctx) }()
	t.Cleanup(func() {
		testHTTP.CloseIdleConnections()
		cancel()
		if err := <-ran; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return r
}

// testHTTP is the HTTP client of the tests: every call has a deadline.
var testHTTP = &http.Client{Timeout: 5 * time.Second}

// statusBody is what the tests read of GET /v1/status.
type statusBody struct {
	Config struct {
		Path            string   `json:"path"`
		Generation      int64    `json:"generation"`
		LastError       string   `json:"last_error"`
		RestartRequired []string `json:"restart_required"`
	} `json:"config"`
	Overrides []struct {
		Name       string `json:"name"`
		Registered bool   `json:"registered"`
		Endpoints  []struct {
			URL string `json:"url"`
		} `json:"endpoints"`
	} `json:"overrides"`
}

// status returns GET /v1/status.
func (r *reloadRig) status(t testing.TB) statusBody {
	t.Helper()
	resp, err := testHTTP.Get(r.base + "/v1/status")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /v1/status = %d %s %v", resp.StatusCode, body, err)
	}
	var st statusBody
	if err := json.Unmarshal(body, &st); err != nil {
		t.Fatalf("GET /v1/status: %s: %v", body, err)
	}
	return st
}

// waitStatus polls GET /v1/status until cond holds and returns it.
func (r *reloadRig) waitStatus(t testing.TB, what string, cond func(statusBody) bool) statusBody {
	t.Helper()
	deadline := time.Now().Add(reloadWait)
	for {
		st := r.status(t)
		if cond(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v; status %+v", what, reloadWait, st)
		}
		time.Sleep(2 * time.Millisecond) // polling a condition, not synchronising
	}
}

// waitGeneration waits until /v1/status shows generation gen.
func (r *reloadRig) waitGeneration(t testing.TB, gen int64) statusBody {
	t.Helper()
	return r.waitStatus(t, fmt.Sprintf("generation %d", gen), func(st statusBody) bool { return st.Config.Generation == gen })
}

// metric returns the value of the counter or gauge name whose labels
// include labels, -1 when there is none.
func (r *reloadRig) metric(t testing.TB, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := r.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			got := map[string]string{}
			for _, lp := range m.GetLabel() {
				got[lp.GetName()] = lp.GetValue()
			}
			for k, v := range labels {
				if got[k] != v {
					continue next
				}
			}
			if m.GetCounter() != nil {
				return m.GetCounter().GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	return -1
}

// reloads returns sidecard_config_reloads_total{component="sidecar",result}.
func (r *reloadRig) reloads(t testing.TB, result string) float64 {
	t.Helper()
	return r.metric(t, "sidecard_config_reloads_total", map[string]string{"component": "sidecar", "result": result})
}

// edit is one way of changing a file's content.
type edit struct {
	name string
	do   func(t testing.TB, path, data string)
}

// edits are the ways editors, shells and kubelet change a file.
var edits = []edit{
	{"written in place", writeFile},
	{"renamed over", renameOver},
	{"deleted then created", func(t testing.TB, path, data string) {
		must(t, os.Remove(path))
		writeFile(t, path, data)
	}},
	{"copied over", func(t testing.TB, path, data string) {
		src := filepath.Join(t.TempDir(), "new.yaml")
		writeFile(t, src, data)
		in, err := os.Open(src)
		must(t, err)
		defer in.Close()
		out, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
		must(t, err)
		_, err = io.Copy(out, in)
		must(t, err)
		must(t, out.Close())
	}},
}

// writeFile writes data to path in place (truncate, then write).
func writeFile(t testing.TB, path, data string) {
	t.Helper()
	must(t, os.WriteFile(path, []byte(data), 0o644))
}

// renameOver writes data to a temporary file next to path and renames it
// over path, as most editors save.
func renameOver(t testing.TB, path, data string) {
	t.Helper()
	tmp := path + ".tmp"
	writeFile(t, tmp, data)
	must(t, os.Rename(tmp, path))
}

// configMap lays out dir as a Kubernetes ConfigMap volume holding name
// with data (name -> ..data/name, ..data -> ..ts) and returns the path of
// name.
func configMap(t testing.TB, dir, ts, name, data string) string {
	t.Helper()
	must(t, os.Mkdir(filepath.Join(dir, ".."+ts), 0o755))
	writeFile(t, filepath.Join(dir, ".."+ts, name), data)
	must(t, os.Symlink(filepath.Join("..data", name), filepath.Join(dir, name)))
	must(t, os.Symlink(".."+ts, filepath.Join(dir, "..data")))
	return filepath.Join(dir, name)
}

// configMapUpdate swaps the ConfigMap volume dir (at oldTS) to hold name
// with data, as the kubelet does: a new timestamped directory, a
// ..data_tmp link renamed over ..data, the old directory removed.
func configMapUpdate(t testing.TB, dir, oldTS, ts, name, data string) {
	t.Helper()
	must(t, os.Mkdir(filepath.Join(dir, ".."+ts), 0o755))
	writeFile(t, filepath.Join(dir, ".."+ts, name), data)
	tmp := filepath.Join(dir, "..data_tmp")
	must(t, os.Symlink(".."+ts, tmp))
	must(t, os.Rename(tmp, filepath.Join(dir, "..data")))
	must(t, os.RemoveAll(filepath.Join(dir, ".."+oldTS)))
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
