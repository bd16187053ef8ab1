package register_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sidecard/sidecard/sidecar/register"
)

func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(*register.Options)
		wantErr string
	}{
		{"defaults", func(*register.Options) {}, ""},
		{"short everything", func(o *register.Options) {
			o.TTL, o.HealthInterval, o.FailureThreshold, o.HealthPath = time.Second, 10*time.Millisecond, 1, "/healthz?deep=1"
		}, ""},
		{"ttl below a second", func(o *register.Options) { o.TTL = 500 * time.Millisecond }, "ttl:"},
		{"ttl not whole seconds", func(o *register.Options) { o.TTL = 1500 * time.Millisecond }, "ttl:"},
		{"relative health path", func(o *register.Options) { o.HealthPath = "healthz" }, "health_path:"},
		{"health path with a space", func(o *register.Options) { o.HealthPath = "/a b" }, "health_path:"},
		{"zero interval", func(o *register.Options) { o.HealthInterval = 0 }, "health_interval:"},
		{"zero threshold", func(o *register.Options) { o.FailureThreshold = 0 }, "failure_threshold:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := register.DefaultOptions()
			tt.edit(&o)
			err := o.Validate()
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("Validate() = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestHTTPAddresses(t *testing.T) {
	if got := register.HTTPAddresses(nil, []string{"10.0.0.1:18000", "10.0.0.1:18001", "[::1]:18000"}); !slices.Equal(got,
		[]string{"10.0.0.1:18080", "[::1]:18080"}) {
		t.Errorf("derived %v", got)
	}
	if got := register.HTTPAddresses([]string{"cp:9000"}, []string{"10.0.0.1:18000"}); !slices.Equal(got, []string{"cp:9000"}) {
		t.Errorf("explicit %v", got)
	}
	for _, a := range []string{"cp:18080", "127.0.0.1:1", "http://cp:18080", "https://cp", "https://cp:8443/"} {
		if err := register.ValidateHTTPAddress(a); err != nil {
			t.Errorf("ValidateHTTPAddress(%q) = %v", a, err)
		}
	}
	for _, a := range []string{"", "cp", ":18080", "cp:0", "cp:x", "ftp://cp", "http://cp/v1", "http://u@cp", "http://"} {
		if err := register.ValidateHTTPAddress(a); err == nil {
			t.Errorf("ValidateHTTPAddress(%q) accepted", a)
		}
	}
}

func TestLoadToken(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name, content, want, wantErr string
	}{
		{"bare", "s3cr3t-token-0123456789\n", "s3cr3t-token-0123456789", ""},
		{"a tokens-file line", "# the sidecar of host-a\n\n  s3cr3t-token-0123456789 host-a write\n", "s3cr3t-token-0123456789", ""},
		{"empty", "# nothing\n\n", "", "no token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := register.LoadToken(write(tt.name, tt.content))
			if got != tt.want || tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("LoadToken = %q, %v; want %q, %q", got, err, tt.want, tt.wantErr)
			}
		})
	}
	if _, err := register.LoadToken(filepath.Join(dir, "missing")); err == nil {
		t.Error("LoadToken of a missing file succeeded")
	}
}
