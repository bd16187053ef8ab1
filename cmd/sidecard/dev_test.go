package main

import (
	"bufio"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// `sidecard dev` serves the example registry through its sidecar and stops
// cleanly on SIGINT.
func TestDevServesExamplesAndStopsOnSIGINT(t *testing.T) {
	cmd := exec.Command(os.Args[0], "dev", "--registry-dir", "../../examples/registry",
		"--addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0", "--xds-addr", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "SIDECARD_TEST_MAIN=1")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })

	sidecarURL := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if f := strings.Fields(sc.Text()); len(f) == 4 && f[0] == "sidecar" && f[1] == "lookup" {
				sidecarURL <- f[3]
			}
		}
	}()
	var base string
	select {
	case base = <-sidecarURL:
	case <-time.After(20 * time.Second):
		t.Fatal("dev printed no sidecar URL within 20s")
	}
	waitReady(t, base+"/readyz")
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, body := httpDo(t, http.MethodGet, base+"/v1/agents/weather", "")
		if code == http.StatusOK && strings.Contains(body, `"name":"weather"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET weather on the dev sidecar = %d %s", code, body)
		}
		time.Sleep(20 * time.Millisecond)
	}

	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("dev exited with %v after SIGINT, want a clean exit", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("dev did not stop within 15s of SIGINT")
	}
}
