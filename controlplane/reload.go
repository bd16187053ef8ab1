package controlplane

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sidecard/sidecard/controlplane/auth"
	"github.com/sidecard/sidecard/controlplane/filesource"
	"github.com/sidecard/sidecard/internal/reloadmetrics"
	"github.com/sidecard/sidecard/watch"
)

// ConfigStatus is the state of the control plane's configuration, as GET
// /v1/config shows it. It is a value; ControlPlane.ConfigStatus returns a
// copy the caller owns.
type ConfigStatus struct {
	// Path is the config file the control plane was started with, and
	// watches; "" when it runs on the defaults and the flags.
	Path string `json:"path"`
	// Generation counts the configurations put in effect: 1 at start, one
	// more for every reload that changed something.
	Generation int64 `json:"generation"`
	// LoadedAt is when the configuration in effect was loaded.
	LoadedAt time.Time `json:"loaded_at"`
	// LastError says why the last reload was refused, naming the file (and
	// the line, when the file is at fault); "" when it was not refused, and
	// again once the files hold a configuration that loads.
	LastError string `json:"last_error"`
	// RestartRequired lists the keys (see RestartKeys) whose value in the
	// files differs from the running one: they take effect on a restart.
	// Never nil.
	RestartRequired []string `json:"restart_required"`
}

// RestartKeys are the config keys a reload does not apply: a change to one
// of them is reported in ConfigStatus.RestartRequired and in the log, and
// takes effect on a restart. registry_dirs, auth.tokens_file (and the
// content of the tokens file), auth.require_read_token and log_level (given
// Deps.LogLevel) take effect at once. The result is the caller's.
func RestartKeys() []string {
	keys := make([]string, len(restartKeys))
	for i, k := range restartKeys {
		keys[i] = k.key
	}
	return keys
}

// restartKeys are the keys a reload does not apply, and how to read them.
// log_level joins them when Deps.LogLevel is nil.
var restartKeys = []struct {
	key   string
	value func(Config) any
}{
	{"xds_addr", func(c Config) any { return c.XDSAddr }},
	{"http_addr", func(c Config) any { return c.HTTPAddr }},
	{"data_dir", func(c Config) any { return c.DataDir }},
	{"log_format", func(c Config) any { return c.LogFormat }},
	{"http.max_body_bytes", func(c Config) any { return c.HTTP.MaxBodyBytes }},
	{"http.read_timeout", func(c Config) any { return c.HTTP.ReadTimeout }},
	{"http.write_timeout", func(c Config) any { return c.HTTP.WriteTimeout }},
	{"store.history", func(c Config) any { return c.Store.History }},
	{"envoy.enabled", func(c Config) any { return c.Envoy.Enabled }},
	{"envoy.listener_address", func(c Config) any { return c.Envoy.ListenerAddress }},
	{"envoy.listener_port", func(c Config) any { return c.Envoy.ListenerPort }},
	{"envoy.connect_timeout", func(c Config) any { return c.Envoy.ConnectTimeout }},
	{"envoy.request_timeout", func(c Config) any { return c.Envoy.RequestTimeout }},
	{"envoy.upstream_tls", func(c Config) any { return c.Envoy.UpstreamTLS }},
	{"envoy.trusted_ca_file", func(c Config) any { return c.Envoy.TrustedCAFile }},
	{"envoy.max_selectors", func(c Config) any { return c.Envoy.MaxSelectors }},
}

// restartRequired returns the keys that need a restart whose value in next
// differs from the running one; hotLevel says whether log_level changes
// at run time. The result is never nil.
func restartRequired(running, next Config, hotLevel bool) []string {
	keys := []string{}
	for _, k := range restartKeys {
		if k.value(running) != k.value(next) {
			keys = append(keys, k.key)
		}
	}
	if !hotLevel && running.LogLevel != next.LogLevel {
		keys = append(keys, "log_level")
	}
	return keys
}

// candidate is a configuration built and checked, ready to be put in
// effect: whatever a reload can fail on in reading the files happened while
// building it.
type candidate struct {
	cfg       Config
	tokens    *auth.Tokens // nil: writes are open
	level     slog.Level
	tokensSum [sha256.Size]byte // of the tokens file's content
	sum       [sha256.Size]byte // of cfg and the tokens file's content
}

// buildCandidate loads what the valid cfg refers to: the tokens file.
func buildCandidate(cfg Config) (candidate, error) {
	c := candidate{cfg: cfg}
	if err := c.level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		return candidate{}, fmt.Errorf("log_level: %w", err)
	}
	var tokensData []byte
	if path := cfg.Auth.TokensFile; path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return candidate{}, fmt.Errorf("load tokens file %q: %w", path, err)
		}
		if c.tokens, err = auth.ParseTokens(data); err != nil {
			return candidate{}, fmt.Errorf("load tokens file %q: %w", path, err)
		}
		tokensData = data
	}
	enc, err := json.Marshal(cfg)
	if err != nil {
		return candidate{}, fmt.Errorf("hash the configuration: %w", err)
	}
	c.tokensSum = sha256.Sum256(tokensData)
	c.sum = sha256.Sum256(append(append(enc, 0), c.tokensSum[:]...))
	return c, nil
}

// reloader puts a changed configuration in effect, as a transaction: the
// new configuration is loaded and checked completely, then swapped in; when
// a step fails, nothing changes. It runs on the Events of a watcher of the
// config file and the tokens file.
type reloader struct {
	path     string                 // the config file; "" when none
	load     func() (Config, error) // Deps.LoadConfig; nil: reload is off
	level    *slog.LevelVar         // nil: log_level needs a restart
	tokens   *atomic.Pointer[auth.Tokens]
	readAuth *atomic.Bool // auth.require_read_token
	files    *filesource.Source
	registry *watch.Watcher // of the registry directories
	watcher  *watch.Watcher // of the config file and the tokens file; nil when reload is off
	log      *slog.Logger
	metrics  *reloadmetrics.Metrics
	started  Config // the configuration the control plane started with

	current candidate                    // in effect; owned by run
	status  atomic.Pointer[ConfigStatus] // published, never modified
}

// buildReload builds the reloader of the control plane, whose
// configuration in effect is initial (built from cp.cfg). Reloading is on
// when deps.LoadConfig is set.
func (cp *ControlPlane) buildReload(deps Deps, initial candidate) error {
	r := &reloader{
		path: deps.ConfigPath, load: deps.LoadConfig, level: deps.LogLevel, tokens: &cp.tokens, readAuth: &cp.readAuth,
		files: cp.files, registry: cp.registry, log: cp.log, started: cp.cfg, current: initial,
	}
	if r.path != "" {
		abs, err := filepath.Abs(r.path)
		if err != nil {
			return fmt.Errorf("config file %q: %w", r.path, err)
		}
		r.path = abs
	}
	reg := deps.Registerer
	if r.load == nil {
		reg = nil // no reloads: no reload metrics
	}
	var err error
	if r.metrics, err = reloadmetrics.New(reg, "controlplane"); err != nil {
		return err
	}
	if r.load != nil {
		if r.watcher, err = watch.New(r.watchedFiles(cp.cfg), watch.Options{
			Logger: cp.log, Registerer: watchRegisterer(reg, "config"),
		}); err != nil {
			return fmt.Errorf("watch the config file: %w", err)
		}
	}
	if r.level != nil {
		r.level.Set(initial.level)
	}
	r.status.Store(&ConfigStatus{Path: r.path, Generation: 1, LoadedAt: time.Now(), RestartRequired: []string{}})
	cp.reload = r
	return nil
}

// watchRegisterer returns reg with the label watch=name on every metric,
// so that the control plane's watchers (registry, config) are told apart;
// nil when reg is nil.
func watchRegisterer(reg prometheus.Registerer, name string) prometheus.Registerer {
	if reg == nil {
		return nil
	}
	return prometheus.WrapRegistererWith(prometheus.Labels{"watch": name}, reg)
}

// watchedFiles returns the files a reload follows for cfg: the config file
// and the tokens file.
func (r *reloader) watchedFiles(cfg Config) []string {
	var paths []string
	if r.path != "" {
		paths = append(paths, r.path)
	}
	if cfg.Auth.TokensFile != "" {
		paths = append(paths, cfg.Auth.TokensFile)
	}
	return paths
}

// run reloads on every Event until ctx is done. One reload runs at a time;
// Events that arrive meanwhile gather in the watcher into one.
func (r *reloader) run(ctx context.Context, events <-chan watch.Event) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-events:
			r.reload(ctx)
		}
	}
}

// reload loads the configuration and, when it differs from the one in
// effect, puts it in effect or refuses it.
func (r *reloader) reload(ctx context.Context) {
	cfg, err := r.load()
	var c candidate
	if err == nil {
		c, err = buildCandidate(cfg)
	}
	if err == nil && c.sum == r.current.sum {
		r.unchanged()
		return
	}
	if err == nil {
		err = r.swap(ctx, c)
	}
	switch {
	case err != nil && ctx.Err() != nil:
		// shutting down cut the reload short; it was undone
	case err != nil:
		r.refuse(err)
	default:
		r.succeed(c)
	}
}

// swap puts c in effect. The steps that can fail come first (watching the
// new paths, loading the new registry directories into the store) and are
// undone when one fails; the tokens, auth.require_read_token and the log
// level are swapped last.
func (r *reloader) swap(ctx context.Context, c candidate) error {
	prev := r.current.cfg
	var undo []func()
	rollback := func(err error) error {
		for _, u := range slices.Backward(undo) {
			u()
		}
		return err
	}
	restore := func(w *watch.Watcher, paths []string) func() {
		return func() {
			if err := w.SetPaths(paths); err != nil { // accepted before: cannot fail
				r.log.Error("restore the watched paths", "paths", paths, "error", err)
			}
		}
	}
	if files := r.watchedFiles(c.cfg); !slices.Equal(files, r.watchedFiles(prev)) {
		if err := r.watcher.SetPaths(files); err != nil {
			return fmt.Errorf("watch auth.tokens_file: %w", err)
		}
		undo = append(undo, restore(r.watcher, r.watchedFiles(prev)))
	}
	if !slices.Equal(prev.RegistryDirs, c.cfg.RegistryDirs) {
		if err := r.registry.SetPaths(c.cfg.RegistryDirs); err != nil {
			return rollback(fmt.Errorf("watch registry_dirs: %w", err))
		}
		undo = append(undo, restore(r.registry, prev.RegistryDirs))
		r.files.SetDirs(c.cfg.RegistryDirs)
		undo = append(undo, func() { r.files.SetDirs(prev.RegistryDirs) })
		if _, err := r.files.Sync(ctx); err != nil {
			return rollback(fmt.Errorf("load registry_dirs %q: %w", c.cfg.RegistryDirs, err))
		}
	}
	r.tokens.Store(c.tokens)
	r.readAuth.Store(c.cfg.Auth.RequireReadToken)
	if r.level != nil {
		r.level.Set(c.level)
	}
	return nil
}

// succeed publishes c, now in effect.
func (r *reloader) succeed(c candidate) {
	prev, st := r.current, *r.status.Load()
	r.current = c
	restart := restartRequired(r.started, c.cfg, r.level != nil)
	wasRestart := st.RestartRequired
	st.Generation++
	st.LoadedAt, st.LastError, st.RestartRequired = time.Now(), "", restart
	r.status.Store(&st)
	r.metrics.Observe(reloadmetrics.Success, len(restart))
	r.log.Info("control-plane configuration reloaded", "path", r.path, "generation", st.Generation,
		"changed", changedKeys(prev, c, r.level != nil))
	if len(restart) > 0 && !slices.Equal(restart, wasRestart) {
		r.log.Warn("control-plane config keys changed that take effect only on a restart; running with the values it started with",
			"path", r.path, "restart_required", restart)
	}
}

// changedKeys names what differs between prev and next among what a reload
// applies; "tokens" is the content of the tokens file.
func changedKeys(prev, next candidate, hotLevel bool) []string {
	changed := []string{}
	if !slices.Equal(prev.cfg.RegistryDirs, next.cfg.RegistryDirs) {
		changed = append(changed, "registry_dirs")
	}
	if prev.cfg.Auth.TokensFile != next.cfg.Auth.TokensFile {
		changed = append(changed, "auth.tokens_file")
	}
	if prev.tokensSum != next.tokensSum {
		changed = append(changed, "tokens")
	}
	if prev.cfg.Auth.RequireReadToken != next.cfg.Auth.RequireReadToken {
		changed = append(changed, "auth.require_read_token")
	}
	if hotLevel && prev.cfg.LogLevel != next.cfg.LogLevel {
		changed = append(changed, "log_level")
	}
	return changed
}

// refuse records a reload that failed: nothing changed.
func (r *reloader) refuse(err error) {
	st := *r.status.Load()
	st.LastError = err.Error()
	r.status.Store(&st)
	r.metrics.Observe(reloadmetrics.Failure, len(st.RestartRequired))
	r.log.Error("control-plane configuration reload refused; the running configuration is kept",
		"path", r.path, "generation", st.Generation, "error", err)
}

// unchanged records a reload that found the configuration in effect: a
// no-op, which clears the error of a refused reload (the files were put
// back).
func (r *reloader) unchanged() {
	st := *r.status.Load()
	r.metrics.Observe(reloadmetrics.Unchanged, len(st.RestartRequired))
	if st.LastError == "" {
		return
	}
	st.LastError = ""
	r.status.Store(&st)
	r.log.Info("control-plane config files hold the configuration in effect again",
		"path", r.path, "generation", st.Generation)
}

// Status returns the current ConfigStatus; the result is the caller's.
func (r *reloader) Status() ConfigStatus {
	st := *r.status.Load()
	st.RestartRequired = slices.Clone(st.RestartRequired)
	return st
}
