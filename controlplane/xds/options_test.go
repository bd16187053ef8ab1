package xds

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		name    string
		opts    RegistryCacheOptions
		wantErr bool
	}{
		{"zero", RegistryCacheOptions{}, false},
		{"defaults", DefaultRegistryCacheOptions(), false},
		{"small", RegistryCacheOptions{BatchLimit: 1, LogSize: 1, TombstoneLimit: 1}, false},
		{"negative batch", RegistryCacheOptions{BatchLimit: -1}, true},
		{"negative retry", RegistryCacheOptions{RetryInterval: -1}, true},
		{"log smaller than a batch", RegistryCacheOptions{BatchLimit: 10, LogSize: 5}, true},
		{"tombstones smaller than a batch", RegistryCacheOptions{BatchLimit: 10, LogSize: 10, TombstoneLimit: 5}, true},
		{"log smaller than the default batch", RegistryCacheOptions{LogSize: 100}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.opts.Validate()
			if (err != nil) != tt.wantErr {
				t.Fatalf("Validate() = %v, want error %v", err, tt.wantErr)
			}
		})
	}
}

func TestNewRegistryCacheErrors(t *testing.T) {
	reg := prometheus.NewRegistry()
	if _, err := NewRegistryCache(newFakeFeed(), RegistryCacheOptions{Registerer: reg}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		feed Feed
		opts RegistryCacheOptions
	}{
		{"nil feed", nil, RegistryCacheOptions{}},
		{"invalid options", newFakeFeed(), RegistryCacheOptions{BatchLimit: -1}},
		{"metrics already registered", newFakeFeed(), RegistryCacheOptions{Registerer: reg}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewRegistryCache(tt.feed, tt.opts); err == nil {
				t.Fatal("no error")
			}
		})
	}
}

func TestRunTwice(t *testing.T) {
	c := startCache(t, newFakeFeed(), RegistryCacheOptions{})
	if err := c.Run(t.Context()); err == nil {
		t.Fatal("second Run did not fail")
	}
}
