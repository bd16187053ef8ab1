package controlplane

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sidecard/sidecard/controlplane/filesource"
	"github.com/sidecard/sidecard/internal/reloadmetrics"
)

// Every way of changing a registry directory reaches the API: the steps
// run in order on one control plane.
func TestRegistryEditsTakeEffect(t *testing.T) {
	dir, versions := t.TempDir(), t.TempDir() // versions: symbolic link targets, outside dir
	write(t, filepath.Join(dir, "a.yaml"), agentYAML("alpha", "v1"))
	for _, v := range []string{"v1", "v2"} {
		write(t, filepath.Join(versions, "gamma-"+v+".yaml"), agentYAML("gamma", v))
	}
	cfg := DefaultConfig()
	cfg.RegistryDirs = []string{dir}
	r := startControlPlane(t, cfg, Deps{})
	eventually(t, r.serves(t, "alpha", "v1"))

	path := func(name string) string { return filepath.Join(dir, name) }
	steps := []struct {
		name       string
		edit       func(t *testing.T)
		agent, des string // the entry to check, and its description ("" for absent)
	}{
		{"write in place", func(t *testing.T) { write(t, path("a.yaml"), agentYAML("alpha", "v2")) }, "alpha", "v2"},
		{"write a temporary file and rename it over", func(t *testing.T) {
			renameOver(t, path("a.yaml"), agentYAML("alpha", "v3"))
		}, "alpha", "v3"},
		{"create a file", func(t *testing.T) { write(t, path("b.yaml"), agentYAML("beta", "v1")) }, "beta", "v1"},
		{"create a JSON file", func(t *testing.T) {
			write(t, path("d.json"), `{"name":"delta","card":`+strings.ReplaceAll(apiCard, `"d"`, `"v1"`)+`}`)
		}, "delta", "v1"},
		{"create a symbolic link", func(t *testing.T) {
			if err := os.Symlink(filepath.Join(versions, "gamma-v1.yaml"), path("c.yaml")); err != nil {
				t.Fatal(err)
			}
		}, "gamma", "v1"},
		{"swap a symbolic link", func(t *testing.T) {
			if err := os.Symlink(filepath.Join(versions, "gamma-v2.yaml"), path(".c.yaml.new")); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(path(".c.yaml.new"), path("c.yaml")); err != nil {
				t.Fatal(err)
			}
		}, "gamma", "v2"},
		{"rename to a name that is not a registry file", func(t *testing.T) {
			if err := os.Rename(path("b.yaml"), path("b.yaml.off")); err != nil {
				t.Fatal(err)
			}
		}, "beta", ""},
		{"rename to a registry file name", func(t *testing.T) {
			if err := os.Rename(path("b.yaml.off"), path("beta.yml")); err != nil {
				t.Fatal(err)
			}
		}, "beta", "v1"},
		{"delete a file", func(t *testing.T) {
			if err := os.Remove(path("a.yaml")); err != nil {
				t.Fatal(err)
			}
		}, "alpha", ""},
	}
	for _, s := range steps {
		if !t.Run(s.name, func(t *testing.T) {
			s.edit(t)
			eventually(t, r.serves(t, s.agent, s.des))
		}) {
			return
		}
	}
	for name, want := range map[string]string{"alpha": "", "beta": "v1", "gamma": "v2", "delta": "v1"} {
		if code, got := r.description(t, name); (want == "") != (code == 404) || got != want {
			t.Errorf("at the end, GET %s = %d %q, want %q", name, code, got, want)
		}
	}
}

// A broken edit is refused with a log line naming the file and line, the
// file's previous entries keep serving, and fixing the file recovers.
func TestRegistryBrokenEditKeepsServing(t *testing.T) {
	tests := []struct {
		name   string
		broken string // replaces the file's content
		where  string // the position the error names, after the path
	}{
		{"YAML syntax", strings.Replace(agentYAML("alpha", "v2"), "description: v2", "description: v2: x", 1),
			":5: mapping values are not allowed"},
		{"invalid card", strings.Replace(agentYAML("alpha", "v2"), "{id: s, ", "{", 1), ":12: entry[0]: card.skills[0].id"},
		{"a lease in a file", "ttl_seconds: 30\n" + agentYAML("alpha", "v2"), ":1: entry[0]: ttl_seconds: not allowed"},
	}
	dir := t.TempDir()
	cfg := DefaultConfig()
	cfg.RegistryDirs = []string{dir}
	r := startControlPlane(t, cfg, Deps{})
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, fmt.Sprintf("agent-%d.yaml", i))
			name := fmt.Sprintf("agent-%d", i)
			write(t, path, agentYAML(name, "v1"))
			eventually(t, r.serves(t, name, "v1"))

			write(t, path, strings.ReplaceAll(tt.broken, "alpha", name))
			eventually(t, r.logs.logged("registry file not loaded", "error", path+tt.where))
			if code, got := r.description(t, name); code != 200 || got != "v1" {
				t.Errorf("after the broken edit GET %s = %d %q, want the previous entry (v1)", name, code, got)
			}
			eventually(t, func() (bool, string) { // published just after the log line
				got := sourceError(t, r, path)
				return strings.Contains(got, path+tt.where), fmt.Sprintf("GET /v1/sources error = %q, want %q", got, path+tt.where)
			})

			write(t, path, agentYAML(name, "v3"))
			eventually(t, r.serves(t, name, "v3"))
			eventually(t, func() (bool, string) { // published just after the store write
				got := sourceError(t, r, path)
				return got == "", fmt.Sprintf("after the fix, GET /v1/sources error = %q, want none", got)
			})
		})
	}
}

// sourceError returns the error GET /v1/sources shows for the file at path.
func sourceError(t *testing.T, r *running, path string) string {
	t.Helper()
	resp, err := http.Get(r.base + "/v1/sources")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Sources []filesource.FileStatus `json:"sources"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	for _, st := range body.Sources {
		if st.Path == path {
			return st.Error
		}
	}
	t.Fatalf("GET /v1/sources has no status for %s", path)
	return ""
}

// A burst of 100 edits within a second (in place and renamed over, to four
// files) ends in the state of the last edit of each file, with far fewer
// syncs than edits.
func TestRegistryBurstOfEdits(t *testing.T) {
	dir := t.TempDir()
	names := []string{"alpha", "beta", "gamma", "delta"}
	cfg := DefaultConfig()
	cfg.RegistryDirs = []string{dir}
	r := startControlPlane(t, cfg, Deps{})
	syncsBefore := r.metric(t, "sidecard_filesource_syncs_total", map[string]string{"result": "success"})

	last := map[string]string{}
	tick := time.NewTicker(8 * time.Millisecond) // paces the edits: 100 within about 0.8 s
	defer tick.Stop()
	start := time.Now()
	for i := range 100 {
		<-tick.C
		name := names[i%len(names)]
		desc := fmt.Sprintf("edit-%d", i)
		path := filepath.Join(dir, name+".yaml")
		if i%2 == 0 {
			write(t, path, agentYAML(name, desc))
		} else {
			renameOver(t, path, agentYAML(name, desc))
		}
		last[name] = desc
	}
	if d := time.Since(start); d > time.Second {
		t.Logf("the burst took %v, more than 1 s (a busy machine)", d)
	}
	for _, name := range names {
		eventually(t, r.serves(t, name, last[name]))
	}
	syncs := r.metric(t, "sidecard_filesource_syncs_total", map[string]string{"result": "success"}) - syncsBefore
	if syncs >= 50 {
		t.Errorf("%v syncs for 100 edits, want the edits coalesced", syncs)
	}
}

// The config file's reloads, in order on one control plane: the tokens
// file, the keys that take effect at once, refused edits that change
// nothing, a key that needs a restart, and a flag that keeps winning.
func TestConfigReload(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "cp.yaml")
	for _, d := range []string{"r1", "r2"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	write(t, filepath.Join(dir, "r1", "a.yaml"), agentYAML("alpha", "v1"))
	write(t, filepath.Join(dir, "r2", "b.yaml"), agentYAML("beta", "v1"))
	const (
		tokenA = "token-a-0123456789abcdef"
		tokenB = "token-b-0123456789abcdef"
		tokenC = "token-c-0123456789abcdef"
		tokenD = "token-d-0123456789abcdef"
		tokenE = "token-e-0123456789abcdef"
	)
	tokens, tokens2 := filepath.Join(dir, "tokens"), filepath.Join(dir, "tokens2")
	// Unnamed tokens: every one may change the entry the others wrote,
	// since none of them registers it (see the last steps for named ones).
	write(t, tokens, tokenA+"\n")
	write(t, tokens2, tokenD+"\n")
	// http_addr stands for a key a flag overrides: the file's value never wins.
	config := func(tokensFile, dirs, level, more string) string {
		return fmt.Sprintf("http_addr: 127.0.0.1:1\nregistry_dirs: [%s]\nauth: {tokens_file: %s}\nlog_level: %s\n%s",
			dirs, tokensFile, level, more)
	}
	write(t, path, config("tokens", "r1", "info", ""))
	dataDir := t.TempDir()
	load := func() (Config, error) { // the flags: --data, --xds-addr, --http-addr
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
	level := new(slog.LevelVar)
	r := startControlPlane(t, cfg, Deps{ConfigPath: path, LoadConfig: load, LogLevel: level})
	eventually(t, func() (bool, string) { // the first resync of the watcher: nothing changed
		return r.reloads(t, reloadmetrics.Unchanged) >= 1, "no reload at start"
	})
	eventually(t, r.accepts(t, tokenA, true))
	generation := func(want int64) func() (bool, string) {
		return func() (bool, string) {
			st := r.configStatus(t)
			return st.Generation == want && st.LastError == "", fmt.Sprintf("config status %+v, want generation %d", st, want)
		}
	}
	refused := func(sub string) func() (bool, string) {
		return func() (bool, string) {
			st := r.configStatus(t)
			return strings.Contains(st.LastError, sub), fmt.Sprintf("config status %+v, want last_error with %q", st, sub)
		}
	}
	var unchanged float64 // reloads that found nothing new, before a step

	steps := []struct {
		name  string
		edit  func(t *testing.T)
		until []func() (bool, string)
		check func(t *testing.T)
	}{
		{name: "tokens file edited", edit: func(t *testing.T) { write(t, tokens, tokenB+"\n") },
			until: []func() (bool, string){r.accepts(t, tokenB, true), r.accepts(t, tokenA, false), generation(2)}},
		{name: "tokens file renamed over", edit: func(t *testing.T) { renameOver(t, tokens, tokenC+"\n") },
			until: []func() (bool, string){r.accepts(t, tokenC, true), r.accepts(t, tokenB, false), generation(3)}},
		{name: "auth.tokens_file changed", edit: func(t *testing.T) { write(t, path, config("tokens2", "r1", "info", "")) },
			until: []func() (bool, string){r.accepts(t, tokenD, true), r.accepts(t, tokenC, false), generation(4)}},
		{name: "the new tokens file is watched", edit: func(t *testing.T) { write(t, tokens2, tokenE+"\n") },
			until: []func() (bool, string){r.accepts(t, tokenE, true), r.accepts(t, tokenD, false), generation(5)}},
		{name: "registry_dirs changed", edit: func(t *testing.T) { write(t, path, config("tokens2", "r2", "info", "")) },
			until: []func() (bool, string){r.serves(t, "beta", "v1"), r.serves(t, "alpha", ""), generation(6)}},
		{name: "a file of the new registry dir edited",
			edit:  func(t *testing.T) { write(t, filepath.Join(dir, "r2", "b.yaml"), agentYAML("beta", "v2")) },
			until: []func() (bool, string){r.serves(t, "beta", "v2")}},
		{name: "log_level changed", edit: func(t *testing.T) { write(t, path, config("tokens2", "r2", "debug", "")) },
			until: []func() (bool, string){generation(7)},
			check: func(t *testing.T) {
				if level.Level() != slog.LevelDebug {
					t.Errorf("log level %v, want debug", level.Level())
				}
			}},
		{name: "an unknown key is refused",
			edit:  func(t *testing.T) { write(t, path, config("tokens2", "r2", "error", "bogus_key: 1\n")) },
			until: []func() (bool, string){refused(path + ":5: field bogus_key not found")},
			check: func(t *testing.T) { checkRefused(t, r, path+":5: field bogus_key not found", 7, level, tokenE) }},
		{name: "putting the file back is a no-op that clears the error",
			edit:  func(t *testing.T) { write(t, path, config("tokens2", "r2", "debug", "")) },
			until: []func() (bool, string){generation(7)},
			check: func(t *testing.T) {
				if got := r.metric(t, "sidecard_config_last_reload_successful", nil); got != 1 {
					t.Errorf("sidecard_config_last_reload_successful = %v, want 1", got)
				}
			}},
		{name: "an invalid value is refused",
			edit:  func(t *testing.T) { write(t, path, config("tokens2", "r1", "loud", "")) },
			until: []func() (bool, string){refused(path + `:4: log_level: "loud": want one of`)},
			check: func(t *testing.T) {
				checkRefused(t, r, path+`:4: log_level: "loud"`, 7, level, tokenE)
				if code, _ := r.description(t, "alpha"); code != 404 { // registry_dirs: [r1] was not applied either
					t.Errorf("GET alpha = %d, want 404", code)
				}
			}},
		{name: "a broken tokens file is refused", edit: func(t *testing.T) {
			write(t, tokens2, "short\n")
			write(t, path, config("tokens2", "r2", "debug", ""))
		}, until: []func() (bool, string){refused(`load tokens file "` + tokens2 + `": line 1: token shorter than 16`)},
			check: func(t *testing.T) { checkRefused(t, r, tokens2, 7, level, tokenE) }},
		{name: "the tokens file fixed", edit: func(t *testing.T) { write(t, tokens2, tokenA+"\n") },
			until: []func() (bool, string){r.accepts(t, tokenA, true), generation(8)}},
		{name: "a key that needs a restart",
			edit:  func(t *testing.T) { write(t, path, config("tokens2", "r2", "debug", "store: {history: 10}\n")) },
			until: []func() (bool, string){generation(9)},
			check: func(t *testing.T) {
				if got := r.configStatus(t).RestartRequired; !reflect.DeepEqual(got, []string{"store.history"}) {
					t.Errorf("restart_required = %q, want [store.history]", got)
				}
				if got := r.metric(t, "sidecard_config_restart_required", nil); got != 1 {
					t.Errorf("sidecard_config_restart_required = %v, want 1", got)
				}
				eventually(t, r.logs.logged(
					"control-plane config keys changed that take effect only on a restart; running with the values it started with",
					"path", path))
			}},
		{name: "a key a flag overrides keeps the flag's value", edit: func(t *testing.T) {
			unchanged = r.reloads(t, reloadmetrics.Unchanged)
			write(t, path, strings.Replace(config("tokens2", "r2", "debug", "store: {history: 10}\n"), ":1\n", ":2\n", 1))
		}, until: []func() (bool, string){func() (bool, string) {
			return r.reloads(t, reloadmetrics.Unchanged) > unchanged, "no unchanged reload after the edit"
		}}, check: func(t *testing.T) {
			if st := r.configStatus(t); st.Generation != 9 || !reflect.DeepEqual(st.RestartRequired, []string{"store.history"}) {
				t.Errorf("config status %+v, want generation 9 and only store.history waiting for a restart", st)
			}
		}},
		{name: "a token's scopes changed", edit: func(t *testing.T) { write(t, tokens2, tokenA+" ci read\n") },
			until: []func() (bool, string){r.status(t, tokenA, http.StatusForbidden), generation(10)}},
		{name: "auth.require_read_token turned on", edit: func(t *testing.T) {
			write(t, path, strings.Replace(config("tokens2", "r2", "debug", "store: {history: 10}\n"),
				"tokens_file: tokens2}", "tokens_file: tokens2, require_read_token: true}", 1))
		}, until: []func() (bool, string){r.reads(t, "", http.StatusUnauthorized), r.reads(t, tokenA, http.StatusOK)}},
		// GET /v1/config, a read, answers again: two reloads since the last look.
		{name: "auth.require_read_token turned off", edit: func(t *testing.T) {
			write(t, path, config("tokens2", "r2", "debug", "store: {history: 10}\n"))
		}, until: []func() (bool, string){r.reads(t, "", http.StatusOK), generation(12)}},
	}
	for _, s := range steps {
		if !t.Run(s.name, func(t *testing.T) {
			s.edit(t)
			for _, cond := range s.until {
				eventually(t, cond)
			}
			if s.check != nil {
				s.check(t)
			}
		}) {
			return
		}
	}
}

// checkRefused checks the state after a refused reload: the error is shown,
// logged and counted, and nothing changed.
func checkRefused(t *testing.T, r *running, where string, generation int64, level *slog.LevelVar, token string) {
	t.Helper()
	if st := r.configStatus(t); st.Generation != generation {
		t.Errorf("generation %d after a refused reload, want %d", st.Generation, generation)
	}
	if got := r.metric(t, "sidecard_config_last_reload_successful", nil); got != 0 {
		t.Errorf("sidecard_config_last_reload_successful = %v, want 0", got)
	}
	if r.reloads(t, reloadmetrics.Failure) < 1 {
		t.Error("no failed reload counted")
	}
	eventually(t, r.logs.logged("control-plane configuration reload refused; the running configuration is kept", "error", where))
	if level.Level() != slog.LevelDebug {
		t.Errorf("log level %v, want debug still", level.Level())
	}
	if code := r.put(t, token, "written"); code != 200 {
		t.Errorf("PUT with the token in effect = %d, want 200", code)
	}
}

// Without LoadConfig, the configuration never changes: GET /v1/config shows
// it, and no reload metrics exist.
func TestConfigStatusWithoutReload(t *testing.T) {
	r := startControlPlane(t, DefaultConfig(), Deps{})
	st := r.configStatus(t)
	if st.Generation != 1 || st.Path != "" || st.LastError != "" || st.RestartRequired == nil || st.LoadedAt.IsZero() {
		t.Errorf("config status %+v, want generation 1, no path, no error, an empty restart list", st)
	}
	if got := r.metric(t, "sidecard_config_last_reload_successful", nil); got != -1 {
		t.Errorf("sidecard_config_last_reload_successful = %v without reloads, want none", got)
	}
}

// Every key of Config either takes effect at a reload or is one of the
// RestartKeys: no key is silently ignored.
func TestEveryConfigKeyReloadsOrNeedsARestart(t *testing.T) {
	hot := []string{"registry_dirs", "auth.tokens_file", "auth.require_read_token", "log_level"}
	known := append(RestartKeys(), hot...)
	var keys []string
	var walk func(prefix string, typ reflect.Type)
	walk = func(prefix string, typ reflect.Type) {
		for f := range typ.Fields() {
			key := prefix + strings.Split(f.Tag.Get("yaml"), ",")[0]
			if f.Type.Kind() == reflect.Struct {
				walk(key+".", f.Type)
				continue
			}
			keys = append(keys, key)
		}
	}
	walk("", reflect.TypeFor[Config]())
	for _, k := range keys {
		if !slices.Contains(known, k) {
			t.Errorf("config key %s neither reloads nor is listed in RestartKeys", k)
		}
	}
	for _, k := range known {
		if !slices.Contains(keys, k) {
			t.Errorf("%s is not a config key", k)
		}
	}
	running := DefaultConfig()
	next := running
	next.Store.History, next.Envoy.ListenerPort, next.LogLevel = 1, 1, "debug"
	if got, want := restartRequired(running, next, true), []string{"store.history", "envoy.listener_port"}; !reflect.DeepEqual(got, want) {
		t.Errorf("restartRequired = %q, want %q", got, want)
	}
	if got := restartRequired(running, next, false); !slices.Contains(got, "log_level") {
		t.Errorf("restartRequired without a LevelVar = %q, want log_level in it", got)
	}
}
