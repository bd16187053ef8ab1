package sidecar

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sidecard/sidecard/registry"
	"github.com/sidecard/sidecard/sidecar/proxy"
)

func TestLoadConfigFixtures(t *testing.T) {
	good, _ := filepath.Glob("testdata/config/*.good.yaml")
	bad, _ := filepath.Glob("testdata/config/*.bad.yaml")
	if len(good) == 0 || len(bad) == 0 {
		t.Fatal("no fixtures")
	}
	for _, path := range good {
		t.Run(filepath.Base(path), func(t *testing.T) {
			if _, err := LoadConfig(path); err != nil {
				t.Fatal(err)
			}
		})
	}
	for _, path := range bad {
		t.Run(filepath.Base(path), func(t *testing.T) {
			_, err := LoadConfig(path)
			if err == nil {
				t.Fatal("want an error")
			}
			if !strings.Contains(err.Error(), path) {
				t.Fatalf("error %q does not name the file", err)
			}
		})
	}
}

func TestLoadConfigValues(t *testing.T) {
	cfg, err := LoadConfig("testdata/config/full.good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Node.ID != "host-a" || cfg.Node.Labels["zone"] != "eu-1" {
		t.Errorf("node = %+v", cfg.Node)
	}
	if len(cfg.ControlPlane.Addresses) != 2 || cfg.Subscribe.Selector["team"] != "forecast" {
		t.Errorf("controlplane/subscribe = %+v %+v", cfg.ControlPlane, cfg.Subscribe)
	}
	if want := filepath.Join("testdata/config", "data"); cfg.DataDir != want {
		t.Errorf("data_dir = %q, want %q (relative to the file)", cfg.DataDir, want)
	}
	if cfg.Cache.MaxCostBytes != 1<<20 || cfg.LogLevel != "debug" || cfg.Addr != "127.0.0.1:17001" {
		t.Errorf("cfg = %+v", cfg)
	}
	want := proxy.Options{
		LBPolicy: proxy.LeastRequest, ConnectTimeout: 500 * time.Millisecond, RequestTimeout: 20 * time.Second,
		StreamTimeout: 5 * time.Minute, MaxRetries: 3, RetryBudgetPercent: 10,
		Outlier: proxy.OutlierOptions{
			ConsecutiveErrors: 3, BaseEjection: 10 * time.Second, MaxEjection: time.Minute, MaxEjectionPercent: 34,
		},
		MaxBodyBytes: 1 << 20, MaxConcurrentPerAgent: 64, AdvertiseAddr: "10.0.0.9:17000",
	}
	if cfg.Proxy != want {
		t.Errorf("proxy = %+v, want %+v", cfg.Proxy, want)
	}
	wantOverrides := map[string]OverrideConfig{
		"weather":     {Endpoints: []registry.Endpoint{{URL: "http://127.0.0.1:9101", Weight: 2}, {URL: "http://127.0.0.1:9102"}}},
		"local.agent": {Endpoints: []registry.Endpoint{{URL: "https://127.0.0.1:9443/rpc"}}},
	}
	if !reflect.DeepEqual(cfg.Overrides, wantOverrides) {
		t.Errorf("overrides = %+v, want %+v", cfg.Overrides, wantOverrides)
	}
}

// Every problem of a file is reported on a line of its own, with the line
// of its key.
func TestLoadConfigErrorLines(t *testing.T) {
	tests := []struct {
		file string
		want []string
	}{
		{"bad-selector.bad.yaml", []string{":2: subscribe.selector:"}},
		{"bad-override.bad.yaml", []string{":6: overrides.weather.endpoints[1].url:"}},
		{"bad-override-key.bad.yaml", []string{":3: field wieght not found"}},
		{"bad-proxy.bad.yaml", nil},
		{"unknown-key.bad.yaml", nil},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := filepath.Join("testdata/config", tt.file)
			_, err := LoadConfig(path)
			if err == nil {
				t.Fatal("want an error")
			}
			for _, line := range strings.Split(err.Error(), "\n") {
				if !regexp.MustCompile(`^(sidecar config: )?` + regexp.QuoteMeta(path) + `:(\d+:)? `).MatchString(line) {
					t.Errorf("line %q does not start with the file (and line)", line)
				}
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), path+w) {
					t.Errorf("error %q does not contain %q", err, path+w)
				}
			}
		})
	}
}

func TestLoadConfigProxyDefaults(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sidecar.yaml")
	if err := os.WriteFile(path, []byte("node: {id: n}\nproxy: {outlier: {consecutive_errors: 2}}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	want := proxy.DefaultOptions()
	want.Outlier.ConsecutiveErrors = 2
	if cfg.Proxy != want {
		t.Errorf("proxy = %+v, want the defaults but consecutive_errors", cfg.Proxy)
	}
}

func TestConfigValidate(t *testing.T) {
	ok := DefaultConfig()
	ok.Node.ID = "n"
	tests := []struct {
		name    string
		mutate  func(*Config)
		wantKey string
	}{
		{name: "defaults with id", mutate: func(*Config) {}},
		{name: "missing id", mutate: func(c *Config) { c.Node.ID = "" }, wantKey: "node.id"},
		{name: "listen port 0 allowed", mutate: func(c *Config) { c.Addr = "127.0.0.1:0" }},
		{name: "controlplane port 0", mutate: func(c *Config) { c.ControlPlane.Addresses = []string{"h:0"} }, wantKey: "controlplane.addresses[0]"},
		{name: "bad addr", mutate: func(c *Config) { c.Addr = "17000" }, wantKey: "addr"},
		{name: "no data dir", mutate: func(c *Config) { c.DataDir = "" }, wantKey: "data_dir"},
		{name: "bad format", mutate: func(c *Config) { c.LogFormat = "xml" }, wantKey: "log_format"},
		{name: "bad node label", mutate: func(c *Config) { c.Node.Labels = map[string]string{"-x": "y"} }, wantKey: "node.labels"},
		{name: "bad lb policy", mutate: func(c *Config) { c.Proxy.LBPolicy = "random" }, wantKey: "proxy.lb_policy"},
		{name: "bad ejection percent", mutate: func(c *Config) { c.Proxy.Outlier.MaxEjectionPercent = 101 }, wantKey: "proxy.outlier.max_ejection_percent"},
		{name: "bad advertise addr", mutate: func(c *Config) { c.Proxy.AdvertiseAddr = "10.0.0.1" }, wantKey: "proxy.advertise_addr"},
		{name: "override without endpoints", mutate: func(c *Config) {
			c.Overrides = map[string]OverrideConfig{"x": {}}
		}, wantKey: "overrides.x.endpoints"},
		{name: "override of a bad name", mutate: func(c *Config) {
			c.Overrides = map[string]OverrideConfig{"X Y": {Endpoints: []registry.Endpoint{{URL: "http://h"}}}}
		}, wantKey: "overrides.X Y"},
		{name: "override url", mutate: func(c *Config) {
			c.Overrides = map[string]OverrideConfig{"x": {Endpoints: []registry.Endpoint{{URL: "h:1"}}}}
		}, wantKey: "overrides.x.endpoints[0].url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.mutate(&c)
			err := c.Validate()
			if tt.wantKey == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantKey+":") {
				t.Fatalf("err = %v, want one naming %s", err, tt.wantKey)
			}
		})
	}
}

func TestExampleSidecarConfigLoads(t *testing.T) {
	path := filepath.Join("..", "examples", "sidecar.yaml")
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadConfig(path); err != nil {
		t.Fatal(err)
	}
}
