package controlplane

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sidecard/sidecard/controlplane/envoy"
	"github.com/sidecard/sidecard/internal/strictyaml"
)

// Defaults of Config.
const (
	DefaultXDSAddr      = "127.0.0.1:18000"
	DefaultHTTPAddr     = "127.0.0.1:18080"
	DefaultDataDir      = "/var/lib/sidecard-cp"
	DefaultLogLevel     = "info"
	DefaultLogFormat    = "json"
	DefaultMaxBodyBytes = 1 << 20
	DefaultReadTimeout  = 10 * time.Second
	DefaultWriteTimeout = 30 * time.Second
	DefaultHistory      = 100000
	// DefaultEnvoyListenerAddress and DefaultEnvoyListenerPort are where
	// Envoy's HTTP listener binds, on the Envoy host.
	DefaultEnvoyListenerAddress = "0.0.0.0"
	DefaultEnvoyListenerPort    = 10000
	DefaultEnvoyConnectTimeout  = 5 * time.Second
	DefaultEnvoyMaxSelectors    = 16
)

// Config is the control plane's configuration, read from controlplane.yaml.
// Command-line flags override its keys; the caller validates the result.
// The zero value is not valid: start from DefaultConfig.
type Config struct {
	// XDSAddr is the host:port the xDS gRPC server listens on.
	XDSAddr string `yaml:"xds_addr"`
	// HTTPAddr is the host:port the HTTP API (and /metrics) listens on.
	HTTPAddr string `yaml:"http_addr"`
	// DataDir is the directory of the store (registry.db). Required.
	DataDir string `yaml:"data_dir"`
	// RegistryDirs are the directories whose registry files (*.yaml, *.yml,
	// *.json) are loaded as entries of source "file". May be empty.
	RegistryDirs []string `yaml:"registry_dirs"`
	// Auth configures the authentication of requests.
	Auth AuthConfig `yaml:"auth"`
	// LogLevel is debug, info, warn or error.
	LogLevel string `yaml:"log_level"`
	// LogFormat is json or text.
	LogFormat string `yaml:"log_format"`
	// HTTP bounds the HTTP API's requests.
	HTTP HTTPConfig `yaml:"http"`
	// Store configures the registry store.
	Store StoreConfig `yaml:"store"`
	// Envoy configures the Envoy xDS types served on xds_addr.
	Envoy EnvoyConfig `yaml:"envoy"`
}

// AuthConfig configures the authentication of requests to the HTTP APIs.
type AuthConfig struct {
	// TokensFile is a file of bearer tokens, "<token> <name> [scopes]" per
	// line (see auth.ParseTokens). When set, writes need "Authorization:
	// Bearer <token>" with a token of the write scope, and a token may
	// change only the entries its name registered unless it is an admin;
	// when empty, writes are open.
	TokensFile string `yaml:"tokens_file"`
	// RequireReadToken makes reads (GET /v1/..., and the A2A Registry
	// compatible API's reads) need a token with the read scope too.
	// Requires TokensFile.
	RequireReadToken bool `yaml:"require_read_token"`
}

// HTTPConfig bounds the HTTP API's requests.
type HTTPConfig struct {
	// MaxBodyBytes is the largest request body accepted; larger ones get 413.
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// ReadTimeout bounds reading a whole request, body included ("10s").
	ReadTimeout time.Duration `yaml:"read_timeout"`
	// WriteTimeout bounds writing a response, from the end of the request
	// headers ("30s").
	WriteTimeout time.Duration `yaml:"write_timeout"`
}

// StoreConfig configures the registry store.
type StoreConfig struct {
	// History is how many changes the store's change feed keeps; a sidecar
	// further behind than that receives a full resync.
	History int `yaml:"history"`
}

// EnvoyConfig configures the Envoy xDS types (LDS, RDS, CDS, EDS) the xDS
// server generates from the registry for Envoy and proxyless gRPC clients
// (xds:///<name>).
type EnvoyConfig struct {
	// Enabled serves the Envoy types; when false, only the registry type
	// (sidecars) is served.
	Enabled bool `yaml:"enabled"`
	// ListenerAddress is the IP address Envoy's HTTP listener (sidecard_http)
	// binds on the Envoy host.
	ListenerAddress string `yaml:"listener_address"`
	// ListenerPort is the HTTP listener's port, 1 to 65535.
	ListenerPort int `yaml:"listener_port"`
	// ConnectTimeout bounds a connection from Envoy to an agent ("5s").
	ConnectTimeout time.Duration `yaml:"connect_timeout"`
	// RequestTimeout is Envoy's route timeout for a whole request and
	// response; 0 disables it (A2A streams and long tasks would be cut).
	RequestTimeout time.Duration `yaml:"request_timeout"`
	// UpstreamTLS makes Envoy originate TLS to agents whose endpoints are
	// https. grpc-go refuses such clusters.
	UpstreamTLS bool `yaml:"upstream_tls"`
	// TrustedCAFile, when set, is a PEM bundle on the Envoy host against
	// which agent certificates are verified. Requires upstream_tls. The path
	// is Envoy's, used verbatim (not relative to the config file).
	TrustedCAFile string `yaml:"trusted_ca_file"`
	// MaxSelectors bounds the distinct label selectors
	// (node.metadata.selector) of Envoy and gRPC nodes served at once; a
	// node with another selector is refused while every one is in use.
	MaxSelectors int `yaml:"max_selectors"`
}

// Options returns the translation options of c.
func (c EnvoyConfig) Options() envoy.Options {
	return envoy.Options{
		ListenerAddress: c.ListenerAddress,
		ListenerPort:    uint32(c.ListenerPort), // validated: 1 to 65535
		ConnectTimeout:  c.ConnectTimeout,
		RequestTimeout:  c.RequestTimeout,
		UpstreamTLS:     c.UpstreamTLS,
		TrustedCAFile:   c.TrustedCAFile,
	}
}

// DefaultConfig returns the configuration used for every key a file or a
// flag does not set.
func DefaultConfig() Config {
	return Config{
		XDSAddr:   DefaultXDSAddr,
		HTTPAddr:  DefaultHTTPAddr,
		DataDir:   DefaultDataDir,
		LogLevel:  DefaultLogLevel,
		LogFormat: DefaultLogFormat,
		HTTP: HTTPConfig{
			MaxBodyBytes: DefaultMaxBodyBytes,
			ReadTimeout:  DefaultReadTimeout,
			WriteTimeout: DefaultWriteTimeout,
		},
		Store: StoreConfig{History: DefaultHistory},
		Envoy: EnvoyConfig{
			Enabled:         true,
			ListenerAddress: DefaultEnvoyListenerAddress,
			ListenerPort:    DefaultEnvoyListenerPort,
			ConnectTimeout:  DefaultEnvoyConnectTimeout,
			UpstreamTLS:     true,
			MaxSelectors:    DefaultEnvoyMaxSelectors,
		},
	}
}

// Validate reports every problem of c, each naming its key. It does no I/O
// and does not modify c.
func (c Config) Validate() error {
	var errs []error
	check := func(key string, err error) {
		if err != nil {
			errs = append(errs, &keyError{key: key, err: err})
		}
	}
	check("xds_addr", validAddr(c.XDSAddr))
	check("http_addr", validAddr(c.HTTPAddr))
	if c.XDSAddr == c.HTTPAddr && !strings.HasSuffix(c.XDSAddr, ":0") {
		check("http_addr", errors.New("must differ from xds_addr"))
	}
	if c.DataDir == "" {
		check("data_dir", errors.New("required"))
	}
	for i, d := range c.RegistryDirs {
		if d == "" {
			check("registry_dirs["+strconv.Itoa(i)+"]", errors.New("empty path"))
		}
	}
	check("log_level", oneOf(c.LogLevel, "debug", "info", "warn", "error"))
	check("log_format", oneOf(c.LogFormat, "json", "text"))
	check("http.max_body_bytes", positive(c.HTTP.MaxBodyBytes))
	check("http.read_timeout", positive(c.HTTP.ReadTimeout))
	check("http.write_timeout", positive(c.HTTP.WriteTimeout))
	check("store.history", positive(c.Store.History))
	if c.Auth.RequireReadToken && c.Auth.TokensFile == "" {
		check("auth.require_read_token", errors.New("needs auth.tokens_file"))
	}
	c.Envoy.validate(check)
	return errors.Join(errs...)
}

// validate reports the problems of the envoy section to check, by key.
func (c EnvoyConfig) validate(check func(key string, err error)) {
	if _, err := netip.ParseAddr(c.ListenerAddress); err != nil {
		check("envoy.listener_address", fmt.Errorf("%q: must be an IP address", c.ListenerAddress))
	}
	if c.ListenerPort < 1 || c.ListenerPort > 65535 {
		check("envoy.listener_port", fmt.Errorf("%d: must be from 1 to 65535", c.ListenerPort))
	}
	check("envoy.connect_timeout", positive(c.ConnectTimeout))
	if c.RequestTimeout < 0 {
		check("envoy.request_timeout", fmt.Errorf("must not be negative, got %v", c.RequestTimeout))
	}
	if c.TrustedCAFile != "" && !c.UpstreamTLS {
		check("envoy.trusted_ca_file", errors.New("needs envoy.upstream_tls"))
	}
	check("envoy.max_selectors", positive(c.MaxSelectors))
}

// validAddr checks a host:port listen address; the host may be empty (every
// interface) and the port 0 (any free port).
func validAddr(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q is not host:port", addr)
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || (n == 0 && port != "0") {
		return fmt.Errorf("%q: port must be a number from 0 to 65535", addr)
	}
	return nil
}

func oneOf(v string, allowed ...string) error {
	if slices.Contains(allowed, v) {
		return nil
	}
	return fmt.Errorf("%q: want one of %s", v, strings.Join(allowed, ", "))
}

func positive[T int | int64 | time.Duration](v T) error {
	if v <= 0 {
		return fmt.Errorf("must be positive, got %v", v)
	}
	return nil
}

// keyError is a problem with the value of one config key.
type keyError struct {
	key string // "log_level", "envoy.listener_port", "registry_dirs[1]"
	err error
}

func (e *keyError) Error() string { return e.key + ": " + e.err.Error() }
func (e *keyError) Unwrap() error { return e.err }

// LoadConfig reads the YAML file at path onto DefaultConfig and validates
// the result. The file is strict: an unknown key, a wrong type, or a second
// YAML document is an error naming the file and line; so is an invalid
// value written in the file ("cp.yaml:3: log_level: ..."). Durations are Go
// duration strings ("5s"). Relative paths (data_dir, registry_dirs,
// auth.tokens_file) are taken relative to the file's directory. An empty
// file means every default.
func LoadConfig(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("control-plane config: read %s: %w", path, err)
	}
	cfg := DefaultConfig()
	if err := strictyaml.Decode(path, data, &cfg); err != nil {
		return Config{}, fmt.Errorf("control-plane config: %w", err)
	}
	cfg = cfg.relativeTo(filepath.Dir(path))
	if err := cfg.Validate(); err != nil {
		return Config{}, strictyaml.Locate(path, data, err)
	}
	return cfg, nil
}

// relativeTo returns c with its relative paths joined to dir.
func (c Config) relativeTo(dir string) Config {
	abs := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(dir, p)
	}
	c.DataDir = abs(c.DataDir)
	c.Auth.TokensFile = abs(c.Auth.TokensFile)
	if c.RegistryDirs != nil {
		dirs := make([]string, len(c.RegistryDirs))
		for i, d := range c.RegistryDirs {
			dirs[i] = abs(d)
		}
		c.RegistryDirs = dirs
	}
	return c
}
