package sidecar

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync/atomic"
	"time"

	"github.com/sidecard/sidecard/internal/reloadmetrics"
	"github.com/sidecard/sidecard/sidecar/lookup"
	"github.com/sidecard/sidecard/sidecar/proxy"
	"github.com/sidecard/sidecard/sidecar/xdsclient"
	"github.com/sidecard/sidecard/watch"
)

// candidate is a configuration checked and built, ready to be put in
// effect: whatever a reload can fail on in reading the file happened while
// building it.
type candidate struct {
	cfg       Config
	level     slog.Level
	overrides *proxy.Overrides
	sum       [sha256.Size]byte // of cfg
}

// buildCandidate validates cfg and builds what the reload swaps in.
func buildCandidate(cfg Config) (candidate, error) {
	if err := cfg.Validate(); err != nil {
		return candidate{}, fmt.Errorf("sidecar config: %w", err)
	}
	c := candidate{cfg: cfg}
	if err := c.level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		return candidate{}, fmt.Errorf("log_level: %w", err)
	}
	var err error
	if c.overrides, err = proxy.NewOverrides(cfg.overridePins()); err != nil {
		return candidate{}, fmt.Errorf("overrides: %w", err)
	}
	enc, err := json.Marshal(cfg)
	if err != nil {
		return candidate{}, fmt.Errorf("hash the configuration: %w", err)
	}
	c.sum = sha256.Sum256(enc)
	return c, nil
}

// configState is what GET /v1/status shows of the configuration. It is
// published through an atomic pointer and never modified.
type configState struct {
	status    lookup.ConfigStatus
	overrides []lookup.Override // by name; Registered is filled in by Status
}

// newConfigState returns the state of c in effect, with st's fields.
func newConfigState(st lookup.ConfigStatus, c Config) *configState {
	s := &configState{status: st}
	for _, name := range slices.Sorted(maps.Keys(c.Overrides)) {
		s.overrides = append(s.overrides, lookup.Override{Name: name, Endpoints: c.Overrides[name].Endpoints})
	}
	return s
}

// reloader puts edits of the config file in effect, as a transaction: the
// new configuration is loaded and checked completely, then swapped in;
// when a step fails, the steps done are undone and nothing changes. It
// runs on the Events of a watcher of the config file.
type reloader struct {
	path    string                 // the config file, absolute; "" when none
	load    func() (Config, error) // Deps.LoadConfig; nil: reload is off
	level   *slog.LevelVar         // nil: log_level needs a restart
	proxy   *proxy.Proxy
	client  *xdsclient.Client
	lookup  *lookup.Handler
	watcher *watch.Watcher // of the config file; nil when reload is off
	log     *slog.Logger
	now     func() time.Time
	metrics *reloadmetrics.Metrics
	started Config // the configuration the sidecar started with

	current candidate                   // in effect; owned by Run
	state   atomic.Pointer[configState] // published, never modified
}

// start puts the initial candidate's overrides and log level in effect
// (the constructors of the parts took the rest) and publishes generation 1.
func (r *reloader) start(c candidate) {
	r.current = c
	r.proxy.SetOverrides(c.overrides)
	if r.level != nil {
		r.level.Set(c.level)
	}
	r.state.Store(newConfigState(lookup.ConfigStatus{Path: r.path, Generation: 1, LoadedAt: r.now()}, c.cfg))
}

// Run reloads on every Event of the watcher until ctx is done, then
// returns nil; it returns an error when the watcher fails. One reload runs
// at a time; edits made meanwhile gather in the watcher into one Event.
func (r *reloader) Run(ctx context.Context) error {
	events := make(chan watch.Event) // never closed; the watcher sends
	errc := make(chan error, 1)
	go func() { errc <- r.watcher.Run(ctx, events) }()
	for {
		select {
		case err := <-errc: // the watcher has returned: ctx is done, or it failed
			if err != nil {
				return fmt.Errorf("watch the config file %s: %w", r.path, err)
			}
			return nil
		case <-events:
			r.reload()
		}
	}
}

// reload loads the configuration and, when it differs from the one in
// effect, puts it in effect or refuses it.
func (r *reloader) reload() {
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
		err = r.swap(c)
	}
	if err != nil {
		r.refuse(err)
		return
	}
	r.succeed(c)
}

// swap puts c in effect. The steps that can fail come first, the one that
// may reconnect the stream last, and what was done is undone when one
// fails; the overrides and the log level, which cannot fail, are swapped
// last.
func (r *reloader) swap(c candidate) error {
	prev := r.current.cfg
	var undo []func()
	rollback := func(err error) error {
		for _, u := range slices.Backward(undo) {
			u()
		}
		return err
	}
	if err := r.proxy.SetOptions(c.cfg.Proxy); err != nil {
		return err
	}
	undo = append(undo, func() { r.restore("proxy", r.proxy.SetOptions(prev.Proxy)) })
	if err := r.lookup.SetCacheMaxCost(c.cfg.Cache.MaxCostBytes); err != nil {
		return rollback(fmt.Errorf("cache.max_cost_bytes: %w", err))
	}
	undo = append(undo, func() { r.restore("cache", r.lookup.SetCacheMaxCost(prev.Cache.MaxCostBytes)) })
	// The node before the addresses, so that a stream they restart starts
	// with the new node.
	r.client.SetLabels(c.cfg.Node.Labels)
	r.client.SetSelector(c.cfg.Subscribe.Selector)
	undo = append(undo, func() {
		r.client.SetLabels(prev.Node.Labels)
		r.client.SetSelector(prev.Subscribe.Selector)
	})
	if err := r.client.SetAddresses(c.cfg.ControlPlane.Addresses); err != nil {
		return rollback(fmt.Errorf("controlplane.addresses: %w", err))
	}
	r.proxy.SetOverrides(c.overrides)
	if r.level != nil {
		r.level.Set(c.level)
	}
	return nil
}

// restore logs the failure of an undo step, which put back a value that
// was in effect and so cannot fail.
func (r *reloader) restore(what string, err error) {
	if err != nil {
		r.log.Error("restore the sidecar configuration in effect", "part", what, "error", err)
	}
}

// succeed publishes c, now in effect.
func (r *reloader) succeed(c candidate) {
	prev, st := r.current, r.state.Load().status
	r.current = c
	restart := restartRequired(r.started, c.cfg, r.level != nil)
	wasRestart := st.RestartRequired
	st.Generation++
	st.LoadedAt, st.LastError, st.RestartRequired = r.now(), "", restart
	// Logged before it is published: whoever sees the new generation can
	// find its log lines.
	r.log.Info("sidecar configuration reloaded", "path", r.path, "generation", st.Generation,
		"changed", changedKeys(prev.cfg, c.cfg, r.level != nil))
	if len(restart) > 0 && !slices.Equal(restart, wasRestart) {
		r.log.Warn("sidecar config keys changed that take effect only on a restart; running with the values it started with",
			"path", r.path, "restart_required", restart)
	}
	r.metrics.Observe(reloadmetrics.Success, len(restart))
	r.state.Store(newConfigState(st, c.cfg))
}

// refuse records a reload that failed: nothing changed.
func (r *reloader) refuse(err error) {
	cur := r.state.Load()
	st := cur.status
	st.LastError = err.Error()
	r.log.Error("sidecar configuration reload refused; the running configuration is kept",
		"path", r.path, "generation", st.Generation, "error", err)
	r.metrics.Observe(reloadmetrics.Failure, len(st.RestartRequired))
	r.state.Store(&configState{status: st, overrides: cur.overrides})
}

// unchanged records a reload that found the configuration in effect: a
// no-op, which clears the error of a refused reload (the file was put
// back).
func (r *reloader) unchanged() {
	cur := r.state.Load()
	r.metrics.Observe(reloadmetrics.Unchanged, len(cur.status.RestartRequired))
	if cur.status.LastError == "" {
		return
	}
	st := cur.status
	st.LastError = ""
	r.log.Info("sidecar config file holds the configuration in effect again", "path", r.path, "generation", st.Generation)
	r.state.Store(&configState{status: st, overrides: cur.overrides})
}

// changedKeys names the keys a reload applies whose value differs between
// prev and next.
func changedKeys(prev, next Config, hotLevel bool) []string {
	changed := []string{}
	add := func(key string, differ bool) {
		if differ {
			changed = append(changed, key)
		}
	}
	add("node.labels", !maps.Equal(prev.Node.Labels, next.Node.Labels))
	add("controlplane.addresses", !slices.Equal(prev.ControlPlane.Addresses, next.ControlPlane.Addresses))
	add("subscribe.selector", !maps.Equal(prev.Subscribe.Selector, next.Subscribe.Selector))
	add("log_level", hotLevel && prev.LogLevel != next.LogLevel)
	add("cache.max_cost_bytes", prev.Cache.MaxCostBytes != next.Cache.MaxCostBytes)
	add("proxy", prev.Proxy != next.Proxy)
	add("overrides", !maps.EqualFunc(prev.Overrides, next.Overrides, func(a, b OverrideConfig) bool {
		return slices.Equal(a.Endpoints, b.Endpoints)
	}))
	return changed
}
