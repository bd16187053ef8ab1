package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

func TestScenario(t *testing.T) {
	tests := []struct {
		name   string
		cache  string
		server string
		warm   bool
	}{
		{"revision log", cacheRevlog, serverPlain, false},
		{"linear cache", cacheLinear, serverPlain, false},
		{"revision log, warm start", cacheRevlog, serverPlain, true},
		{"revision log, sidecard's server", cacheRevlog, serverSidecard, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := defaultConfig()
			cfg.Streams, cfg.Entries, cfg.Writes = 3, 50, 5
			cfg.Cache, cfg.Server, cfg.Warm = tc.cache, tc.server, tc.warm
			cfg.Interval, cfg.Timeout, cfg.Drain = time.Millisecond, time.Minute, 30*time.Second
			cfg.StreamsPerConn, cfg.Dir = 2, t.TempDir()
			if err := cfg.validate(); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(t.Context(), cfg.Timeout)
			defer cancel()
			res, err := runScenario(ctx, cfg, tc.cache)
			if err != nil {
				t.Fatal(err)
			}
			if res.Incomplete != "" {
				t.Fatalf("incomplete: %s", res.Incomplete)
			}
			if res.Sync.Synced != cfg.Streams || res.Sync.PerStream.Count != cfg.Streams {
				t.Errorf("%d streams in sync, want %d", res.Sync.Synced, cfg.Streams)
			}
			p := res.Propagation
			if p.Done != cfg.Writes || p.Missed != 0 || p.Mismatched != 0 {
				t.Errorf("writes done %d (want %d), missed %d, wrong revision %d", p.Done, cfg.Writes, p.Missed, p.Mismatched)
			}
			if p.Stream.Count != cfg.Streams*cfg.Writes || p.AllStreams.Count != cfg.Writes {
				t.Errorf("%d (stream, write) pairs and %d writes seen everywhere, want %d and %d",
					p.Stream.Count, p.AllStreams.Count, cfg.Streams*cfg.Writes, cfg.Writes)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*config)
		want   string // substring of the error; "" for none
	}{
		{"defaults", func(*config) {}, ""},
		{"both caches", func(c *config) { c.Cache = cacheBoth }, ""},
		{"unknown cache", func(c *config) { c.Cache = "snapshot" }, "-cache"},
		{"no streams", func(c *config) { c.Streams = 0 }, "-streams"},
		{"more writes than entries", func(c *config) { c.Writes = c.Entries + 1 }, "-writes"},
		{"warm linear", func(c *config) { c.Cache, c.Warm = cacheLinear, true }, "-warm"},
		{"unknown server", func(c *config) { c.Server = "envoy" }, "-server"},
		{"sidecard's server, linear", func(c *config) { c.Cache, c.Server = cacheLinear, serverSidecard }, "-server"},
		{"negative interval", func(c *config) { c.Interval = -time.Second }, "-interval"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := defaultConfig()
			tc.change(&cfg)
			err := cfg.validate()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("validate: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("validate = %v, want an error about %s", err, tc.want)
			}
		})
	}
}

func TestWriteTable(t *testing.T) {
	results := []*result{{Cache: cacheRevlog}, {Cache: cacheLinear, Incomplete: "writes: 1 of 2 done"}}
	results[0].Propagation.Stream.P99, results[1].Propagation.Stream.P99 = 2, 500
	var b bytes.Buffer
	if err := writeTable(&b, results); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"linear/revlog", "250x", "linear: incomplete: writes: 1 of 2 done"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, b.String())
		}
	}
}
