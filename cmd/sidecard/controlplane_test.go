package main

import (
	"net/http"
	"os"
	"path/filepath"
	"reflect"
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

// A control plane started with --config reloads its config file and its
// tokens file, and the flags given on the command line keep winning.
func TestControlPlaneReloadsConfigFlagsWin(t *testing.T) {
	dir := t.TempDir()
	for _, d := range []string{"from-flag", "from-file"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	writeReloadedFile(t, filepath.Join(dir, "from-flag", "flagged.json"), strings.Replace(testCard, "Durable", "Flagged", 1))
	writeReloadedFile(t, filepath.Join(dir, "from-file", "filed.json"), strings.Replace(testCard, "Durable", "Filed", 1))
	const tokenA, tokenB = "token-a-0123456789abcdef", "token-b-0123456789abcdef"
	writeReloadedFile(t, filepath.Join(dir, "tokens"), tokenA+"\n")
	config := filepath.Join(dir, "cp.yaml")
	writeReloadedFile(t, config, "registry_dirs: [from-file]\nauth: {tokens_file: tokens}\n")

	c := startChild(t, "controlplane", "--config", config, "--registry-dir", filepath.Join(dir, "from-flag"),
		"--data", t.TempDir(), "--http-addr", "127.0.0.1:0", "--xds-addr", "127.0.0.1:0")
	base := "http://" + c.waitLog(t, "control plane started")["http_addr"].(string)
	waitReady(t, base+"/readyz")
	if code, _ := httpDo(t, http.MethodGet, base+"/v1/agents/flagged", ""); code != http.StatusOK {
		t.Fatalf("GET flagged = %d, want 200: --registry-dir wins over registry_dirs", code)
	}

	writeReloadedFile(t, filepath.Join(dir, "tokens"), tokenB+"\n")
	if changed := c.waitLog(t, "control-plane configuration reloaded")["changed"]; !reflect.DeepEqual(changed, []any{"tokens"}) {
		t.Errorf("first reload changed %v, want [tokens]", changed)
	}
	if code := putWithBearer(t, base+"/v1/agents/written", tokenB); code != http.StatusCreated {
		t.Errorf("PUT with the new token = %d, want 201", code)
	}

	writeReloadedFile(t, config, "registry_dirs: [from-file]\nauth: {tokens_file: tokens}\nlog_level: debug\n")
	if changed := c.waitLog(t, "control-plane configuration reloaded")["changed"]; !reflect.DeepEqual(changed, []any{"log_level"}) {
		t.Errorf("second reload changed %v, want [log_level] (registry_dirs is the flag's)", changed)
	}
	code, body := httpDo(t, http.MethodGet, base+"/v1/config", "")
	if code != http.StatusOK || !strings.Contains(body, `"generation":3`) || !strings.Contains(body, `"path":"`+config+`"`) {
		t.Errorf("GET /v1/config = %d %s, want generation 3 and the config file's path", code, body)
	}
	if code, _ := httpDo(t, http.MethodGet, base+"/v1/agents/flagged", ""); code != http.StatusOK {
		t.Errorf("GET flagged after the reload = %d, want 200", code)
	}
}

func writeReloadedFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}

// putWithBearer PUTs testCard to url with a bearer token and returns the
// status.
func putWithBearer(t *testing.T, url, token string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, url, strings.NewReader(testCard))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
