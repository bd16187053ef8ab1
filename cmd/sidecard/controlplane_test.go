package main

import (
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
)

const testCard = `{"protocolVersion":"0.3.0","name":"Durable","description":"d","url":"http://127.0.0.1:9100",
"version":"1.0.0","capabilities":{},"defaultInputModes":["text/plain"],"defaultOutputModes":["text/plain"],
"skills":[{"id":"keep","name":"Keep","description":"d","tags":["t"]}]}`

// A write that got its 2xx survives a SIGKILL of the control plane right after.
func TestControlPlaneWriteSurvivesSIGKILL(t *testing.T) {
	dataDir := t.TempDir()
	start := func() (*child, string) {
		c := startChild(t, "controlplane", "--data", dataDir,
			"--http-addr", "127.0.0.1:0", "--xds-addr", "127.0.0.1:0")
		base := "http://" + c.waitLog(t, "control plane started")["http_addr"].(string)
		waitReady(t, base+"/readyz")
		return c, base
	}

	cp, base := start()
	code, body := httpDo(t, http.MethodPut, base+"/v1/agents/durable", testCard)
	if code != http.StatusCreated {
		t.Fatalf("PUT = %d %s, want 201", code, body)
	}
	if err := cp.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cp.cmd.Wait()

	_, base = start()
	code, body = httpDo(t, http.MethodGet, base+"/v1/agents/durable", "")
	if code != http.StatusOK || !strings.Contains(body, `"name":"durable"`) {
		t.Fatalf("GET after SIGKILL and restart = %d %s, want the entry", code, body)
	}
}

func TestVersionCommand(t *testing.T) {
	var out strings.Builder
	root := newRootCommand()
	root.SetOut(&out)
	root.SetArgs([]string{"version"})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "sidecard ") {
		t.Fatalf("version output %q", out.String())
	}
}

func TestControlPlaneRejectsBadConfig(t *testing.T) {
	path := t.TempDir() + "/cp.yaml"
	if err := os.WriteFile(path, []byte("http_addr: 127.0.0.1:0\nbogus_key: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	root := newRootCommand()
	root.SetArgs([]string{"controlplane", "--config", path})
	err := root.Execute()
	if err == nil || !strings.Contains(err.Error(), "bogus_key") {
		t.Fatalf("err = %v, want an error naming the unknown key", err)
	}
}
