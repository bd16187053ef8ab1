package controlplane

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sidecard/sidecard/controlplane/envoy"
)

func TestDefaultConfigIsValid(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("DefaultConfig().Validate() = %v", err)
	}
}

func TestDefaultEnvoyOptions(t *testing.T) {
	if got, want := DefaultConfig().Envoy.Options(), envoy.DefaultOptions(); got != want {
		t.Errorf("default envoy options %+v, want the translation's defaults %+v", got, want)
	}
}

func TestLoadConfigGood(t *testing.T) {
	dir := filepath.Join("testdata", "config")
	full := DefaultConfig()
	full.XDSAddr, full.HTTPAddr = "0.0.0.0:18000", "0.0.0.0:18080"
	full.RegistryDirs = []string{"/etc/sidecard/registry", "/etc/sidecard/registry.d"}
	full.Auth = AuthConfig{TokensFile: "/etc/sidecard/tokens", RequireReadToken: true}
	full.LogLevel, full.LogFormat = "debug", "text"
	full.HTTP = HTTPConfig{MaxBodyBytes: 262144, ReadTimeout: 5 * time.Second, WriteTimeout: time.Minute}
	full.Store.History = 5000
	full.Envoy = EnvoyConfig{ListenerAddress: "127.0.0.1", ListenerPort: 8080, ConnectTimeout: 2 * time.Second,
		RequestTimeout: time.Minute, UpstreamTLS: true, TrustedCAFile: "/etc/envoy/agents-ca.pem", MaxSelectors: 4}

	relative := DefaultConfig()
	relative.DataDir = filepath.Join(dir, "data")
	relative.RegistryDirs = []string{filepath.Join(dir, "registry")}
	relative.Auth.TokensFile = filepath.Join(dir, "tokens")

	tests := []struct {
		file string
		want Config
	}{
		{"empty.good.yaml", DefaultConfig()},
		{"full.good.yaml", full},
		{"relative.good.yaml", relative},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := LoadConfig(filepath.Join(dir, tt.file))
			if err != nil {
				t.Fatalf("LoadConfig: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("LoadConfig =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

func TestLoadConfigGoodFixturesAllCovered(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "config", "*.good.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no good fixtures: %v", err)
	}
	for _, f := range files {
		if _, err := LoadConfig(f); err != nil {
			t.Errorf("LoadConfig(%s): %v", f, err)
		}
	}
}

func TestLoadConfigBad(t *testing.T) {
	// want is a substring of the error: the file and line, and the problem.
	tests := []struct {
		file string
		want string
	}{
		{"unknown_key.bad.yaml", "unknown_key.bad.yaml:2: field xds_adr not found"},
		{"unknown_nested_key.bad.yaml", "unknown_nested_key.bad.yaml:3: field max_body not found"},
		{"duration_number.bad.yaml", "duration_number.bad.yaml:2: cannot unmarshal !!int `5` into time.Duration"},
		{"duration_unit.bad.yaml", "duration_unit.bad.yaml:2: cannot unmarshal"},
		{"wrong_type.bad.yaml", "wrong_type.bad.yaml:1: cannot unmarshal !!str"},
		{"duplicate_key.bad.yaml", `duplicate_key.bad.yaml:2: mapping key "log_level" already defined at line 1`},
		{"two_documents.bad.yaml", "two_documents.bad.yaml:2: a config file holds one YAML document"},
		{"syntax.bad.yaml", "syntax.bad.yaml:"},
		{"log_level.bad.yaml", `log_level.bad.yaml:1: log_level: "verbose": want one of debug, info, warn, error`},
		{"log_format.bad.yaml", `log_format: "xml": want one of json, text`},
		{"addr_no_port.bad.yaml", `http_addr: "localhost" is not host:port`},
		{"addr_same.bad.yaml", "addr_same.bad.yaml:2: http_addr: must differ from xds_addr"},
		{"max_body_zero.bad.yaml", "http.max_body_bytes: must be positive"},
		{"history_negative.bad.yaml", "history_negative.bad.yaml:2: store.history: must be positive"},
		{"data_dir_empty.bad.yaml", "data_dir: required"},
		{"envoy_port.bad.yaml", "envoy_port.bad.yaml:2: envoy.listener_port: 70000: must be from 1 to 65535"},
		{"envoy_ca_without_tls.bad.yaml", "envoy.trusted_ca_file: needs envoy.upstream_tls"},
		{"read_token_without_tokens.bad.yaml", "read_token_without_tokens.bad.yaml:2: auth.require_read_token: needs auth.tokens_file"},
	}
	covered := map[string]bool{}
	for _, tt := range tests {
		covered[tt.file] = true
		t.Run(tt.file, func(t *testing.T) {
			_, err := LoadConfig(filepath.Join("testdata", "config", tt.file))
			if err == nil {
				t.Fatal("LoadConfig succeeded, want an error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("LoadConfig error = %q, want it to contain %q", err, tt.want)
			}
		})
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "config", "*.bad.yaml"))
	for _, f := range files {
		if !covered[filepath.Base(f)] {
			t.Errorf("bad fixture %s has no test case", f)
		}
	}
}

func TestLoadConfigMissingFile(t *testing.T) {
	_, err := LoadConfig(filepath.Join(t.TempDir(), "absent.yaml"))
	if err == nil || !strings.Contains(err.Error(), "absent.yaml") {
		t.Fatalf("LoadConfig(absent) error = %v, want one naming the file", err)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*Config)
		want   string // substring of the error; "" for valid
	}{
		{"defaults", func(*Config) {}, ""},
		{"any interface", func(c *Config) { c.HTTPAddr = ":18080" }, ""},
		{"both on port 0", func(c *Config) { c.XDSAddr, c.HTTPAddr = "127.0.0.1:0", "127.0.0.1:0" }, ""},
		{"ipv6", func(c *Config) { c.XDSAddr = "[::1]:18000" }, ""},
		{"port out of range", func(c *Config) { c.XDSAddr = "127.0.0.1:70000" }, "xds_addr: \"127.0.0.1:70000\": port must be"},
		{"named port", func(c *Config) { c.XDSAddr = "127.0.0.1:http" }, "xds_addr:"},
		{"empty registry dir", func(c *Config) { c.RegistryDirs = []string{"a", ""} }, "registry_dirs[1]: empty path"},
		{"upper-case level", func(c *Config) { c.LogLevel = "INFO" }, "log_level:"},
		{"zero read timeout", func(c *Config) { c.HTTP.ReadTimeout = 0 }, "http.read_timeout: must be positive"},
		{"negative write timeout", func(c *Config) { c.HTTP.WriteTimeout = -time.Second }, "http.write_timeout: must be positive"},
		{"every problem reported", func(c *Config) { c.LogLevel, c.LogFormat = "x", "y" }, "log_format:"},
		{"envoy disabled", func(c *Config) { c.Envoy.Enabled = false }, ""},
		{"envoy ipv6 listener", func(c *Config) { c.Envoy.ListenerAddress = "::" }, ""},
		{"envoy listener host name", func(c *Config) { c.Envoy.ListenerAddress = "localhost" },
			`envoy.listener_address: "localhost": must be an IP address`},
		{"envoy zero port", func(c *Config) { c.Envoy.ListenerPort = 0 }, "envoy.listener_port: 0: must be from 1"},
		{"envoy zero connect timeout", func(c *Config) { c.Envoy.ConnectTimeout = 0 }, "envoy.connect_timeout: must be positive"},
		{"envoy negative request timeout", func(c *Config) { c.Envoy.RequestTimeout = -time.Second },
			"envoy.request_timeout: must not be negative"},
		{"envoy zero selectors", func(c *Config) { c.Envoy.MaxSelectors = 0 }, "envoy.max_selectors: must be positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			tt.mutate(&c)
			before := c
			err := c.Validate()
			if !reflect.DeepEqual(c, before) {
				t.Error("Validate modified the config")
			}
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Validate() = %v, want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("Validate() = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestLoadConfigExample(t *testing.T) {
	path := filepath.Join("..", "examples", "controlplane.yaml")
	cfg, err := LoadConfig(path)
	if err != nil {
		t.Fatalf("LoadConfig(%s): %v", path, err)
	}
	want := filepath.Join("..", "examples", "registry")
	if !reflect.DeepEqual(cfg.RegistryDirs, []string{want}) {
		t.Errorf("RegistryDirs = %q, want [%q]", cfg.RegistryDirs, want)
	}
}

// An invalid value names the line that writes its key, or only the file
// when the key takes its default.
func TestLoadConfigLocatesInvalidValues(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       []string // lines of the error
	}{
		{"list item", "registry_dirs:\n  - a\n  - \"\"\n",
			[]string{"cp.yaml:3: registry_dirs[1]: empty path"}},
		{"nested key", "envoy:\n  upstream_tls: false\n  trusted_ca_file: /ca.pem\n",
			[]string{"cp.yaml:3: envoy.trusted_ca_file: needs envoy.upstream_tls"}},
		{"two problems", "log_format: xml\nlog_level: loud\n",
			[]string{`cp.yaml:2: log_level: "loud": want one of`, `cp.yaml:1: log_format: "xml": want one of`}},
		{"key from the defaults", "xds_addr: 127.0.0.1:18080\n",
			[]string{"cp.yaml: http_addr: must differ from xds_addr"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "cp.yaml")
			if err := os.WriteFile(path, []byte(tt.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := LoadConfig(path)
			if err == nil {
				t.Fatal("LoadConfig succeeded, want an error")
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tt.want) {
				t.Fatalf("error has %d lines, want %d:\n%v", len(lines), len(tt.want), err)
			}
			for i, want := range tt.want {
				if !strings.HasPrefix(lines[i], filepath.Dir(path)+string(filepath.Separator)) ||
					!strings.Contains(lines[i], want) {
					t.Errorf("error line %d = %q, want the file's path and %q", i, lines[i], want)
				}
			}
		})
	}
}
