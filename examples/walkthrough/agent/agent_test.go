package main

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sidecard/sidecard/controlplane"
	"github.com/sidecard/sidecard/sidecar"
)

// TestWalkthrough runs what run.sh runs, in this process: a control plane,
// two sidecars and the two agents, each registering through its own
// sidecar and calling the other by name through it.
func TestWalkthrough(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	start := func(name string, run func(context.Context) error) {
		wg.Go(func() {
			if err := run(ctx); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		})
	}

	cpCfg := controlplane.DefaultConfig()
	cpCfg.DataDir, cpCfg.XDSAddr, cpCfg.HTTPAddr = filepath.Join(dir, "cp"), "127.0.0.1:0", "127.0.0.1:0"
	cp, err := controlplane.New(cpCfg, controlplane.Deps{Registerer: prometheus.NewRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	start("control plane", cp.Run)
	sidecars := map[string]string{}
	for _, host := range []string{"host-a", "host-b"} {
		cfg := sidecar.DefaultConfig()
		cfg.Node.ID, cfg.Addr, cfg.DataDir = host, "127.0.0.1:0", filepath.Join(dir, host)
		cfg.ControlPlane.Addresses = []string{cp.XDSAddr()}
		cfg.ControlPlane.HTTPAddresses = []string{cp.HTTPAddr()}
		sc, err := sidecar.New(cfg, sidecar.Deps{Registerer: prometheus.NewRegistry()})
		if err != nil {
			t.Fatal(err)
		}
		start(host, sc.Run)
		sidecars[host] = sc.Addr()
	}

	var mu sync.Mutex
	var lines []string
	newAgent := func(name, host string) *agent {
		return &agent{name: name, addr: "127.0.0.1:0", sidecar: sidecars[host],
			client: &http.Client{Timeout: 5 * time.Second},
			say: func(format string, args ...any) {
				mu.Lock()
				defer mu.Unlock()
				lines = append(lines, "["+name+"] "+fmt.Sprintf(format, args...))
			}}
	}
	alice, bob := newAgent("alice", "host-a"), newAgent("bob", "host-b")
	start("alice", func(ctx context.Context) error { return run(ctx, alice, "bob", 2, 10*time.Millisecond, 20*time.Second) })
	start("bob", func(ctx context.Context) error { return run(ctx, bob, "alice", 2, 10*time.Millisecond, 20*time.Second) })

	deadline := time.Now().Add(25 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		mu.Lock()
		all := strings.Join(lines, "\n")
		mu.Unlock()
		if strings.Count(all, "done talking to") == 2 {
			for _, want := range []string{
				`[alice] registered through sidecar ` + sidecars["host-a"],
				`[bob] registered through sidecar ` + sidecars["host-b"],
				`[alice] asked bob by name through http://` + sidecars["host-a"] + `/a2a/bob, got "Hello from bob! You said: hi bob, this is alice (message 2 of 2)"`,
				`[bob] asked alice by name through http://` + sidecars["host-b"] + `/a2a/alice, got "Hello from alice! You said: hi alice, this is bob (message 1 of 2)"`,
				`[alice] received "hi alice, this is bob (message 2 of 2)"`,
			} {
				if !strings.Contains(all, want) {
					t.Errorf("walk-through output lacks %q:\n%s", want, all)
				}
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the agents did not finish talking:\n%s", all)
		}
		<-tick.C
	}
}
