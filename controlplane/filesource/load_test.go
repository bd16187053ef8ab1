package filesource

import "testing"

func TestIsRegistryName(t *testing.T) {
	tests := []struct {
		path string
		want bool
	}{
		{"weather.yaml", true},
		{"/etc/registry/weather.yml", true},
		{"/etc/registry/weather.JSON", true},
		{"/etc/registry/.weather.yaml", false},        // hidden: editors' and ConfigMaps' internals
		{"/etc/registry/.weather.yaml.swp", false},    // vim
		{"/etc/registry/weather.yaml~", false},        // backup
		{"/etc/registry/weather.yaml.tmp.123", false}, // write-temp-then-rename
		{"/etc/registry/README.md", false},
		{"/etc/registry/yaml", false},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			if got := IsRegistryName(tt.path); got != tt.want {
				t.Errorf("IsRegistryName(%q) = %v, want %v", tt.path, got, tt.want)
			}
		})
	}
}
