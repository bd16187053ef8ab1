package sidecar

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/sidecard/sidecard/internal/strictyaml"
	"github.com/sidecard/sidecard/registry"
	"github.com/sidecard/sidecard/sidecar/proxy"
	"github.com/sidecard/sidecard/sidecar/register"
)

// Defaults of Config.
const (
	DefaultAddr             = "127.0.0.1:17000"
	DefaultControlPlaneAddr = "127.0.0.1:18000"
	DefaultDataDir          = "/var/lib/sidecard"
	DefaultLogLevel         = "info"
	DefaultLogFormat        = "json"
	DefaultCacheMaxCost     = 64 << 20
)

// Config is the sidecar's configuration, read from sidecar.yaml. Flags
// override its keys; the caller validates the result. The zero value is not
// valid: start from DefaultConfig.
type Config struct {
	// Node identifies this sidecar to the control plane.
	Node NodeConfig `yaml:"node"`
	// ControlPlane lists the control planes to stream the registry from.
	ControlPlane ControlPlaneConfig `yaml:"controlplane"`
	// Subscribe selects which entries this sidecar replicates.
	Subscribe SubscribeConfig `yaml:"subscribe"`
	// Addr is the host:port of the lookup API. Loopback by default: the
	// sidecar serves co-located agents. Changing it needs a restart.
	Addr string `yaml:"addr"`
	// DataDir holds the replica snapshot the sidecar restarts warm from.
	DataDir string `yaml:"data_dir"`
	// LogLevel is debug, info, warn or error.
	LogLevel string `yaml:"log_level"`
	// LogFormat is json or text.
	LogFormat string `yaml:"log_format"`
	// Cache sizes the cache of rendered responses.
	Cache CacheConfig `yaml:"cache"`
	// Proxy tunes the A2A proxy under /a2a/ (load balancing, timeouts,
	// retries, outlier ejection, limits); see proxy.Options.
	Proxy proxy.Options `yaml:"proxy"`
	// Overrides pin agents to local endpoints, by name: the proxy sends
	// /a2a/{name} to these endpoints instead of the registry entry's (the
	// card and GET /v1/agents/{name} stay the registry's; GET /v1/status
	// lists the overrides). A name need not be registered yet.
	Overrides map[string]OverrideConfig `yaml:"overrides"`
	// Register tunes registration through the sidecar (PUT
	// /v1/agents/{name} here): lease TTL and health checks; see
	// register.Options.
	Register register.Options `yaml:"register"`
}

// OverrideConfig is the override of one name.
type OverrideConfig struct {
	// Endpoints are absolute http(s) URLs with an optional weight, as in
	// registry entries ({url: ..., weight: 1}); at least one.
	Endpoints []registry.Endpoint `yaml:"endpoints"`
}

// NodeConfig identifies the sidecar.
type NodeConfig struct {
	// ID is the node id sent to the control plane; unique per host.
	// Required (the command fills in the host name when it is empty).
	ID string `yaml:"id"`
	// Labels describe the node (zone, cluster, ...); shown in /v1/sidecars.
	Labels map[string]string `yaml:"labels"`
}

// ControlPlaneConfig lists the control planes.
type ControlPlaneConfig struct {
	// Addresses are xDS gRPC host:port addresses, tried in turn.
	Addresses []string `yaml:"addresses"`
	// HTTPAddresses are the control planes' HTTP API addresses (host:port
	// or http(s)://host:port) that writes of co-located agents are
	// forwarded to; empty means the hosts of Addresses on port 18080.
	HTTPAddresses []string `yaml:"http_addresses"`
	// TokenFile holds the bearer token of those writes (the first word of
	// its first line that is not a comment); "" sends none. A relative
	// path is taken relative to the config file's directory.
	TokenFile string `yaml:"token_file"`
}

// SubscribeConfig selects entries.
type SubscribeConfig struct {
	// Selector is a label selector: only entries whose labels contain every
	// key=value are replicated. Empty or absent means every entry.
	Selector map[string]string `yaml:"selector"`
}

// CacheConfig sizes the cache of rendered responses.
type CacheConfig struct {
	// MaxCostBytes bounds the bytes of rendered responses kept in memory.
	MaxCostBytes int64 `yaml:"max_cost_bytes"`
}

// DefaultConfig returns the configuration used for every key a file or a
// flag does not set.
func DefaultConfig() Config {
	return Config{
		ControlPlane: ControlPlaneConfig{Addresses: []string{DefaultControlPlaneAddr}},
		Addr:         DefaultAddr,
		DataDir:      DefaultDataDir,
		LogLevel:     DefaultLogLevel,
		LogFormat:    DefaultLogFormat,
		Cache:        CacheConfig{MaxCostBytes: DefaultCacheMaxCost},
		Proxy:        proxy.DefaultOptions(),
		Register:     register.DefaultOptions(),
	}
}

// RestartKeys are the keys a reload does not apply: a change to one of them
// is reported (GET /v1/status config.restart_required, and the log) and
// takes effect on a restart. Every other key takes effect on a reload,
// log_level too when the sidecar was given a LevelVar. The result is the
// caller's.
func RestartKeys() []string {
	keys := make([]string, len(restartKeys))
	for i, k := range restartKeys {
		keys[i] = k.key
	}
	return keys
}

// restartKeys are the keys a reload does not apply, and how to read them.
var restartKeys = []struct {
	key   string
	value func(Config) string
}{
	{"node.id", func(c Config) string { return c.Node.ID }},
	{"addr", func(c Config) string { return c.Addr }},
	{"data_dir", func(c Config) string { return c.DataDir }},
	{"log_format", func(c Config) string { return c.LogFormat }},
	{"controlplane.http_addresses", func(c Config) string { return strings.Join(c.ControlPlane.HTTPAddresses, ",") }},
	{"controlplane.token_file", func(c Config) string { return c.ControlPlane.TokenFile }},
	{"register", func(c Config) string { return fmt.Sprint(c.Register) }},
}

// restartRequired returns the keys that need a restart whose value in next
// differs from the running one; hotLevel says whether log_level changes at
// run time. The result is never nil.
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

// overridePins returns the overrides as proxy.NewOverrides takes them.
func (c Config) overridePins() map[string][]registry.Endpoint {
	pins := make(map[string][]registry.Endpoint, len(c.Overrides))
	for name, o := range c.Overrides {
		pins[name] = o.Endpoints
	}
	return pins
}

// Validate reports every problem of c, each naming its key ("key: problem",
// one error per problem, joined). It does no I/O and does not modify c.
func (c Config) Validate() error {
	var errs []error
	check := func(key string, err error) {
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", key, err))
		}
	}
	if c.Node.ID == "" {
		check("node.id", errors.New("required"))
	}
	check("node.labels", validLabels(c.Node.Labels))
	if len(c.ControlPlane.Addresses) == 0 {
		check("controlplane.addresses", errors.New("at least one address is required"))
	}
	for i, a := range c.ControlPlane.Addresses {
		check("controlplane.addresses["+strconv.Itoa(i)+"]", validAddr(a, false))
	}
	for i, a := range c.ControlPlane.HTTPAddresses {
		check("controlplane.http_addresses["+strconv.Itoa(i)+"]", register.ValidateHTTPAddress(a))
	}
	check("subscribe.selector", validLabels(c.Subscribe.Selector))
	check("addr", validAddr(c.Addr, true))
	if c.DataDir == "" {
		check("data_dir", errors.New("required"))
	}
	check("log_level", oneOf(c.LogLevel, "debug", "info", "warn", "error"))
	check("log_format", oneOf(c.LogFormat, "json", "text"))
	if c.Cache.MaxCostBytes <= 0 {
		check("cache.max_cost_bytes", fmt.Errorf("must be positive, got %d", c.Cache.MaxCostBytes))
	}
	for _, err := range unjoin(c.Proxy.Validate()) {
		errs = append(errs, fmt.Errorf("proxy.%w", err))
	}
	for _, err := range unjoin(c.Register.Validate()) {
		errs = append(errs, fmt.Errorf("register.%w", err))
	}
	if _, err := proxy.NewOverrides(c.overridePins()); err != nil {
		for _, err := range unjoin(err) {
			errs = append(errs, fmt.Errorf("overrides.%w", err))
		}
	}
	return errors.Join(errs...)
}

// unjoin returns the errors joined in err (one per problem), or err alone.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	if err != nil {
		return []error{err}
	}
	return nil
}

// validLabels checks labels or a selector with the registry's label rules.
func validLabels(labels map[string]string) error {
	return registry.ValidateLabels(labels)
}

// validAddr checks a host:port address; port 0 only for listen addresses.
func validAddr(addr string, listen bool) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q is not host:port", addr)
	}
	n, err := strconv.ParseUint(port, 10, 16)
	if err != nil || (n == 0 && !listen) {
		return fmt.Errorf("%q: bad port", addr)
	}
	if !listen && host == "" {
		return fmt.Errorf("%q: host required", addr)
	}
	return nil
}

func oneOf(v string, allowed ...string) error {
	if slices.Contains(allowed, v) {
		return nil
	}
	return fmt.Errorf("%q: want one of %s", v, strings.Join(allowed, ", "))
}

// LoadConfig reads the YAML file at path onto DefaultConfig and validates
// the result. The file is strict: an empty file (no byte but white space,
// as seen in the middle of an in-place save) is an error; unknown keys,
// wrong types and extra documents are errors naming file and line; so are invalid values, one
// line per problem ("path:line: key: problem"; without the line when the
// key is not in the file). A relative data_dir is taken relative to the
// file's directory.
//
// node.id may be left out of the file; the caller fills it in before
// validating, so LoadConfig validates everything else.
func LoadConfig(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("sidecar config: read %s: %w", path, err)
	}
	cfg := DefaultConfig()
	if err := strictyaml.Decode(path, data, &cfg); err != nil {
		return Config{}, fmt.Errorf("sidecar config: %w", err)
	}
	if cfg.DataDir != "" && !filepath.IsAbs(cfg.DataDir) {
		cfg.DataDir = filepath.Join(filepath.Dir(path), cfg.DataDir)
	}
	if tf := cfg.ControlPlane.TokenFile; tf != "" && !filepath.IsAbs(tf) {
		cfg.ControlPlane.TokenFile = filepath.Join(filepath.Dir(path), tf)
	}
	probe := cfg
	if probe.Node.ID == "" {
		probe.Node.ID = "unset"
	}
	if err := probe.Validate(); err != nil {
		return Config{}, fmt.Errorf("sidecar config: %w", strictyaml.Locate(path, data, err))
	}
	return cfg, nil
}
