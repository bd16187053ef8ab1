package sidecar

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRegistrationConfig checks the keys of registration through the
// sidecar: validation naming the key, token_file relative to the config
// file, and an unreadable token file refused at start.
func TestRegistrationConfig(t *testing.T) {
	valid := func() Config {
		c := DefaultConfig()
		c.Node.ID = "host-a"
		return c
	}
	tests := []struct {
		name    string
		edit    func(*Config)
		wantKey string // "" for valid
	}{
		{"defaults", func(*Config) {}, ""},
		{"explicit http addresses", func(c *Config) {
			c.ControlPlane.HTTPAddresses = []string{"cp-1:18080", "https://cp-2:8443"}
		}, ""},
		{"bad http address", func(c *Config) { c.ControlPlane.HTTPAddresses = []string{"cp-1"} }, "controlplane.http_addresses[0]"},
		{"bad ttl", func(c *Config) { c.Register.TTL = 100 * time.Millisecond }, "register.ttl"},
		{"bad threshold", func(c *Config) { c.Register.FailureThreshold = 0 }, "register.failure_threshold"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := valid()
			tt.edit(&c)
			err := c.Validate()
			if tt.wantKey == "" && err != nil || tt.wantKey != "" && (err == nil || !strings.Contains(err.Error(), tt.wantKey+":")) {
				t.Fatalf("Validate() = %v, want an error naming %q", err, tt.wantKey)
			}
		})
	}

	dir := t.TempDir()
	path := filepath.Join(dir, "sidecar.yaml")
	data := "node: {id: host-a}\ncontrolplane: {addresses: [\"127.0.0.1:18000\"], token_file: secrets/token}\n" +
		"register: {ttl: 12s, health_interval: 1s}\n"
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "secrets", "token"); cfg.ControlPlane.TokenFile != want {
		t.Errorf("token_file %q, want %q", cfg.ControlPlane.TokenFile, want)
	}
	if cfg.Register.TTL != 12*time.Second || cfg.Register.FailureThreshold != 3 {
		t.Errorf("register %+v", cfg.Register)
	}
	cfg.DataDir, cfg.Addr = filepath.Join(dir, "data"), "127.0.0.1:0"
	if _, err := New(cfg, Deps{}); err == nil || !strings.Contains(err.Error(), "controlplane.token_file") {
		t.Errorf("New with a missing token file: %v", err)
	}
}
