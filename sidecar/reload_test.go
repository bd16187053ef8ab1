package sidecar

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sidecard/sidecard/internal/reloadmetrics"
	"github.com/sidecard/sidecard/registry"
)

// configYAML returns a sidecar.yaml whose hot keys all depend on i; the
// control plane at cp is not expected to answer.
func configYAML(cp string, i int) string {
	return fmt.Sprintf(`# edit %d
node: {labels: {edit: "e%d"}}
controlplane: {addresses: [%q]}
subscribe: {selector: {edit: "e%d"}}
log_level: %s
cache: {max_cost_bytes: %d}
proxy: {max_retries: %d}
`, i, i, cp, i, []string{"info", "debug"}[i%2], (i+1)<<20, i%10)
}

// inEffect returns nil when the configuration of configYAML(_, i) is the
// one the sidecar's parts run with.
func (r *reloadRig) inEffect(t testing.TB, i int) error {
	t.Helper()
	if got := r.s.proxy.Options().MaxRetries; got != i%10 {
		return fmt.Errorf("proxy max_retries = %d, want %d", got, i%10)
	}
	if got, want := r.metric(t, "sidecard_cache_rendered_max_bytes", nil), float64((i+1)<<20); got != want {
		return fmt.Errorf("cache max bytes = %v, want %v", got, want)
	}
	if got, want := r.level.Level(), []slog.Level{slog.LevelInfo, slog.LevelDebug}[i%2]; got != want {
		return fmt.Errorf("log level = %v, want %v", got, want)
	}
	return nil
}

// Each way of changing the file puts the new configuration in effect and
// bumps the generation in GET /v1/status.
func TestReloadEditStyles(t *testing.T) {
	cp := deadAddr(t)
	for _, e := range edits {
		t.Run(e.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "sidecar.yaml")
			writeFile(t, path, configYAML(cp, 0))
			r := startReloadRig(t, path)
			if st := r.status(t); st.Config.Generation != 1 || st.Config.Path != path {
				t.Fatalf("status at start: %+v, want generation 1 of %s", st, path)
			}
			must(t, r.inEffect(t, 0))
			for i := 1; i <= 2; i++ {
				e.do(t, path, configYAML(cp, i))
				r.waitGeneration(t, int64(i+1))
				must(t, r.inEffect(t, i))
			}
		})
	}
	t.Run("ConfigMap ..data swap", func(t *testing.T) {
		dir := t.TempDir()
		path := configMap(t, dir, "v0", "sidecar.yaml", configYAML(cp, 0))
		r := startReloadRig(t, path)
		for i := 1; i <= 2; i++ {
			configMapUpdate(t, dir, fmt.Sprintf("v%d", i-1), fmt.Sprintf("v%d", i), "sidecar.yaml", configYAML(cp, i))
			r.waitGeneration(t, int64(i+1))
			must(t, r.inEffect(t, i))
		}
	})
}

// The line of a refused reload's log, and the problem it must name.
var refusedLine = regexp.MustCompile(`"msg":"sidecar configuration reload refused[^\n]*`)

// A broken edit is refused, naming file and line, and the previous
// configuration keeps serving; the next good save recovers.
func TestReloadBrokenEditThenFix(t *testing.T) {
	cp := deadAddr(t)
	tests := []struct {
		name, broken, wantLine string
	}{
		{name: "empty file", broken: "", wantLine: ": the file is empty"},
		{name: "syntax error", broken: "node: {labels: [\n", wantLine: ":1: did not find expected node content"},
		{name: "unknown key", broken: "cache: {max_cost_bytes: 1}\nbogus: 1\n", wantLine: ":2: field bogus not found"},
		{name: "wrong type", broken: "proxy:\n  max_retries: many\n", wantLine: ":2:"},
		{name: "invalid value", broken: "# ok\nsubscribe:\n  selector: {\"Bad Key\": x}\n", wantLine: ":3: subscribe.selector:"},
		{name: "invalid override", broken: "overrides:\n  weather:\n    endpoints: [{url: /relative}]\n",
			wantLine: ":3: overrides.weather.endpoints[0].url:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "sidecar.yaml")
			writeFile(t, path, configYAML(cp, 0))
			r := startReloadRig(t, path)

			renameOver(t, path, tt.broken)
			st := r.waitStatus(t, "the refusal", func(st statusBody) bool { return st.Config.LastError != "" })
			if st.Config.Generation != 1 || !strings.Contains(st.Config.LastError, path+tt.wantLine) {
				t.Errorf("status after a broken edit: %+v, want generation 1 and an error naming %s%s", st.Config, path, tt.wantLine)
			}
			if line := refusedLine.FindString(r.logs.String()); !strings.Contains(line, path+tt.wantLine) {
				t.Errorf("log line of the refusal %q does not name %s%s", line, path, tt.wantLine)
			}
			if got := r.metric(t, "sidecard_config_last_reload_successful", map[string]string{"component": "sidecar"}); got != 0 {
				t.Errorf("last_reload_successful = %v, want 0", got)
			}
			if got := r.reloads(t, reloadmetrics.Failure); got != 1 {
				t.Errorf("failed reloads = %v, want 1", got)
			}
			must(t, r.inEffect(t, 0))

			renameOver(t, path, configYAML(cp, 1))
			st = r.waitGeneration(t, 2)
			if st.Config.LastError != "" {
				t.Errorf("last_error after the fix = %q", st.Config.LastError)
			}
			must(t, r.inEffect(t, 1))
			if got := r.metric(t, "sidecard_config_last_reload_successful", map[string]string{"component": "sidecar"}); got != 1 {
				t.Errorf("last_reload_successful after the fix = %v, want 1", got)
			}
		})
	}
}

// Putting back the configuration in effect after a broken edit clears the
// error without a new generation.
func TestReloadRevertAfterBrokenEdit(t *testing.T) {
	cp := deadAddr(t)
	path := filepath.Join(t.TempDir(), "sidecar.yaml")
	writeFile(t, path, configYAML(cp, 0))
	r := startReloadRig(t, path)
	writeFile(t, path, "bogus: 1\n")
	r.waitStatus(t, "the refusal", func(st statusBody) bool { return st.Config.LastError != "" })
	writeFile(t, path, configYAML(cp, 0))
	st := r.waitStatus(t, "the error cleared", func(st statusBody) bool { return st.Config.LastError == "" })
	if st.Config.Generation != 1 {
		t.Errorf("generation = %d, want 1: the configuration in effect did not change", st.Config.Generation)
	}
	if got := r.metric(t, "sidecard_config_last_reload_successful", map[string]string{"component": "sidecar"}); got != 1 {
		t.Errorf("last_reload_successful = %v, want 1", got)
	}
}

// Saving the same content, or content that means the same configuration,
// is a no-op: no new generation.
func TestReloadUnchangedIsNoop(t *testing.T) {
	cp := deadAddr(t)
	path := filepath.Join(t.TempDir(), "sidecar.yaml")
	writeFile(t, path, configYAML(cp, 0))
	r := startReloadRig(t, path)
	for i, data := range []string{
		configYAML(cp, 0),                         // the same bytes
		configYAML(cp, 0) + "\n# a new comment\n", // the same configuration
	} {
		before := r.reloads(t, reloadmetrics.Unchanged)
		renameOver(t, path, data)
		deadline := time.Now().Add(reloadWait)
		for r.reloads(t, reloadmetrics.Unchanged) == before {
			if time.Now().After(deadline) {
				t.Fatalf("save %d: no reload within %v", i, reloadWait)
			}
			time.Sleep(2 * time.Millisecond) // polling a condition, not synchronising
		}
		if st := r.status(t); st.Config.Generation != 1 || st.Config.LastError != "" {
			t.Errorf("save %d: status %+v, want generation 1 and no error", i, st.Config)
		}
	}
	if got := r.reloads(t, reloadmetrics.Success); got != 0 {
		t.Errorf("successful reloads = %v, want 0", got)
	}
}

// A burst of 100 edits in about a second ends with the last one in
// effect.
func TestReloadBurst(t *testing.T) {
	cp := deadAddr(t)
	path := filepath.Join(t.TempDir(), "sidecar.yaml")
	writeFile(t, path, configYAML(cp, 0))
	r := startReloadRig(t, path)
	const n = 100
	start := time.Now()
	for i := 1; i <= n; i++ {
		if i%2 == 0 {
			writeFile(t, path, configYAML(cp, i))
		} else {
			renameOver(t, path, configYAML(cp, i))
		}
		// Spread the edits over about a second.
		if d := time.Until(start.Add(time.Duration(i) * 10 * time.Millisecond)); d > 0 {
			time.Sleep(d)
		}
	}
	deadline := time.Now().Add(reloadWait)
	for r.inEffect(t, n) != nil {
		if time.Now().After(deadline) {
			t.Fatalf("the last edit is not in effect within %v: %v", reloadWait, r.inEffect(t, n))
		}
		time.Sleep(2 * time.Millisecond) // polling a condition, not synchronising
	}
	st := r.status(t)
	if st.Config.Generation < 2 || st.Config.Generation > n+1 || st.Config.LastError != "" {
		t.Errorf("status after the burst: %+v", st.Config)
	}
	t.Logf("%d edits in %v made %d generations", n, time.Since(start).Round(time.Millisecond), st.Config.Generation-1)
}

// Overrides send the proxy's requests for a name to the local endpoints,
// registered or not, are listed in GET /v1/status, and go when removed
// from the file.
func TestReloadOverrides(t *testing.T) {
	registered := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("registered"))
	}))
	defer registered.Close()
	local := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("local"))
	}))
	defer local.Close()
	cp := deadAddr(t)
	path := filepath.Join(t.TempDir(), "sidecar.yaml")
	base := fmt.Sprintf("controlplane: {addresses: [%q]}\n", cp)
	writeFile(t, path, base)
	r := startReloadRig(t, path)
	e, err := registry.ParseEntry([]byte(`{"name":"weather","card":{"protocolVersion":"0.3.0","name":"Weather",
		"description":"d","url":"`+registered.URL+`","version":"1","capabilities":{},"defaultInputModes":["text/plain"],
		"defaultOutputModes":["text/plain"],"skills":[{"id":"s","name":"s","description":"d","tags":["t"]}]}}`), "")
	must(t, err)
	r.s.Replica().Replace([]*registry.Entry{e}, nil)
	get := func(name string) string {
		t.Helper()
		resp, err := testHTTP.Get(r.base + "/a2a/" + name)
		must(t, err)
		defer resp.Body.Close()
		var b strings.Builder
		_, _ = fmt.Fprintf(&b, "%d ", resp.StatusCode)
		buf := make([]byte, 64)
		n, _ := resp.Body.Read(buf)
		b.Write(buf[:n])
		return b.String()
	}
	if got := get("weather"); got != "200 registered" {
		t.Fatalf("before the override: %q", got)
	}

	writeFile(t, path, base+fmt.Sprintf("overrides:\n  weather: {endpoints: [{url: %q, weight: 1}]}\n  early: {endpoints: [{url: %q}]}\n",
		local.URL, local.URL))
	st := r.waitGeneration(t, 2)
	if got := get("weather"); got != "200 local" {
		t.Errorf("overridden registered agent: %q, want the local endpoint", got)
	}
	if got := get("early"); got != "200 local" {
		t.Errorf("overridden unregistered name: %q, want the local endpoint", got)
	}
	var listed []string
	for _, o := range st.Overrides {
		listed = append(listed, fmt.Sprintf("%s:%v:%s", o.Name, o.Registered, o.Endpoints[0].URL))
	}
	if want := []string{"early:false:" + local.URL, "weather:true:" + local.URL}; !slices.Equal(listed, want) {
		t.Errorf("status overrides = %v, want %v", listed, want)
	}

	writeFile(t, path, base)
	st = r.waitGeneration(t, 3)
	if got := get("weather"); got != "200 registered" {
		t.Errorf("after the override is removed: %q", got)
	}
	if got := get("early"); !strings.HasPrefix(got, "404") {
		t.Errorf("unregistered name once unpinned: %q, want 404", got)
	}
	if len(st.Overrides) != 0 {
		t.Errorf("status still lists overrides: %+v", st.Overrides)
	}
}

// A key that needs a restart is reported in GET /v1/status, a metric and
// the log, while the rest of the edit takes effect; putting it back clears
// the report.
func TestReloadRestartRequired(t *testing.T) {
	cp := deadAddr(t)
	path := filepath.Join(t.TempDir(), "sidecar.yaml")
	writeFile(t, path, configYAML(cp, 0))
	r := startReloadRig(t, path)
	gauge := func() float64 {
		return r.metric(t, "sidecard_config_restart_required", map[string]string{"component": "sidecar"})
	}

	// The rig gives addr as a flag, which wins: log_format is the key left.
	writeFile(t, path, configYAML(cp, 1)+"log_format: text\n")
	st := r.waitGeneration(t, 2)
	if !slices.Equal(st.Config.RestartRequired, []string{"log_format"}) || gauge() != 1 {
		t.Errorf("restart_required = %v, gauge %v; want [log_format] and 1", st.Config.RestartRequired, gauge())
	}
	must(t, r.inEffect(t, 1))
	if !strings.Contains(r.logs.String(), `"restart_required":["log_format"]`) {
		t.Error("no log line names the key that needs a restart")
	}

	writeFile(t, path, configYAML(cp, 2))
	st = r.waitGeneration(t, 3)
	if len(st.Config.RestartRequired) != 0 || gauge() != 0 {
		t.Errorf("after putting log_format back: restart_required = %v, gauge %v", st.Config.RestartRequired, gauge())
	}
}

// restartRequired compares the keys that need a restart, log_level only
// when it cannot change at run time.
func TestRestartRequired(t *testing.T) {
	running := DefaultConfig()
	running.Node.ID = "a"
	next := running
	next.Node.ID, next.Addr, next.DataDir, next.LogFormat, next.LogLevel = "b", "127.0.0.1:1", "/x", "text", "debug"
	if got, want := restartRequired(running, next, true), []string{"node.id", "addr", "data_dir", "log_format"}; !slices.Equal(got, want) {
		t.Errorf("hot level: %v, want %v", got, want)
	}
	if got := restartRequired(running, next, false); !slices.Contains(got, "log_level") {
		t.Errorf("fixed level: %v, want log_level in it", got)
	}
	if got := restartRequired(running, running, false); got == nil || len(got) != 0 {
		t.Errorf("same config: %#v, want an empty list", got)
	}
	for _, k := range []string{"node.id", "addr", "data_dir", "log_format"} {
		if !slices.Contains(RestartKeys(), k) {
			t.Errorf("RestartKeys() = %v, want %s in it", RestartKeys(), k)
		}
	}
}

// Without LoadConfig there is no reload and no reload metric; the status
// says generation 1 and lists overrides of the starting configuration.
func TestNoReloadWithoutLoader(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Node.ID, cfg.Addr, cfg.DataDir = "n", "127.0.0.1:0", t.TempDir()
	cfg.ControlPlane.Addresses = []string{deadAddr(t)}
	cfg.Overrides = map[string]OverrideConfig{"x": {Endpoints: []registry.Endpoint{{URL: "http://127.0.0.1:9"}}}}
	s, err := New(cfg, Deps{})
	must(t, err)
	defer s.lookup.Close()
	defer s.ln.Close()
	st := s.Status()
	if st.Config.Generation != 1 || st.Config.Path != "" || len(st.Overrides) != 1 || st.Overrides[0].Registered {
		t.Errorf("status %+v", st)
	}
	if s.reload.watcher != nil {
		t.Error("a watcher without LoadConfig")
	}
	if _, err := New(cfg, Deps{LoadConfig: func() (Config, error) { return cfg, nil }}); err == nil || !strings.Contains(err.Error(), "ConfigPath") {
		t.Errorf("LoadConfig without ConfigPath: %v", err)
	}
}
