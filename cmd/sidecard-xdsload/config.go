package main

import (
	"errors"
	"fmt"
	"time"
)

// Caches the tool can measure: sidecard's revision-log cache and
// go-control-plane's LinearCache, both serving the registry type.
const (
	cacheRevlog = "revlog"
	cacheLinear = "linear"
	cacheBoth   = "both"
)

// Servers the tool can put in front of the cache: go-control-plane's bare
// server, or sidecard's (controlplane/xds.Server: the same server with the
// node-status callbacks, message limits and keepalive of the control plane).
const (
	serverPlain    = "plain"
	serverSidecard = "sidecard"
)

// config is one run of the tool: the scenario and, with -cache both, the
// caches it is run against one after the other.
type config struct {
	// Streams is the number of sidecar streams (delta ADS, wildcard).
	Streams int
	// Entries is the number of entries the store holds before the streams
	// connect.
	Entries int
	// Writes is the number of writes, one entry each, after every stream is
	// in sync. It is at most Entries: each write changes a different entry.
	Writes int
	// Cache is revlog, linear or both.
	Cache string
	// Server is plain or sidecard (revlog only).
	Server string
	// Interval is the pause between two writes; 0 writes as fast as the store
	// commits.
	Interval time.Duration
	// Timeout bounds the whole run; with -cache both each scenario gets an
	// equal share of what is left when it starts.
	Timeout time.Duration
	// Drain is how long, after the last write, the streams may take to
	// receive every write before the missing ones are counted as missed.
	Drain time.Duration
	// StreamsPerConn is how many streams share one gRPC client connection.
	StreamsPerConn int
	// SyncParallel is how many streams may be in their initial sync at once;
	// 0 starts every stream at once.
	SyncParallel int
	// Warm makes every stream start with initial_resource_versions holding
	// every entry at its revision, as a sidecar restarting with its replica
	// on disk does: the initial sync then transfers nothing.
	Warm bool
	// Dir is where the temporary store directory is created; "" means the
	// system's temporary directory.
	Dir string
	// HeapProfile, when set, is where a heap profile is written once the
	// streams are in sync, the path suffixed with ".<cache>".
	HeapProfile string
	// WritesProfile, when set, is where a CPU profile of the writes phase is
	// written, the path suffixed with ".<cache>".
	WritesProfile string
}

// defaultConfig returns the configuration of a run without flags.
func defaultConfig() config {
	return config{
		Streams:        100,
		Entries:        10000,
		Writes:         200,
		Cache:          cacheRevlog,
		Server:         serverPlain,
		Interval:       20 * time.Millisecond,
		Timeout:        5 * time.Minute,
		Drain:          10 * time.Second,
		StreamsPerConn: 50,
		SyncParallel:   8,
	}
}

// validate reports whether c can be run. It does no I/O and does not modify c.
func (c config) validate() error {
	switch {
	case c.Streams < 1:
		return errors.New("-streams must be at least 1")
	case c.Entries < 1:
		return errors.New("-entries must be at least 1")
	case c.Writes < 0 || c.Writes > c.Entries:
		return fmt.Errorf("-writes must be from 0 to -entries (%d): each write changes a different entry", c.Entries)
	case c.Interval < 0:
		return errors.New("-interval must not be negative")
	case c.Timeout <= 0:
		return errors.New("-timeout must be positive")
	case c.Drain <= 0:
		return errors.New("-drain must be positive")
	case c.StreamsPerConn < 1:
		return errors.New("-streams-per-conn must be at least 1")
	case c.SyncParallel < 0:
		return errors.New("-sync-parallel must not be negative")
	case c.Warm && c.Cache != cacheRevlog:
		return errors.New("-warm needs -cache revlog: LinearCache versions are content hashes a client cannot know in advance")
	case c.Server != serverPlain && c.Server != serverSidecard:
		return fmt.Errorf("-server %q: want plain or sidecard", c.Server)
	case c.Server == serverSidecard && c.Cache != cacheRevlog:
		return errors.New("-server sidecard needs -cache revlog: it serves a RegistryCache only")
	}
	if _, err := c.caches(); err != nil {
		return err
	}
	return nil
}

// caches returns the caches to measure, in order.
func (c config) caches() ([]string, error) {
	switch c.Cache {
	case cacheRevlog, cacheLinear:
		return []string{c.Cache}, nil
	case cacheBoth:
		return []string{cacheRevlog, cacheLinear}, nil
	}
	return nil, fmt.Errorf("-cache %q: want revlog, linear or both", c.Cache)
}

// syncSlots returns how many initial syncs may run at once.
func (c config) syncSlots() int {
	if c.SyncParallel == 0 || c.SyncParallel > c.Streams {
		return c.Streams
	}
	return c.SyncParallel
}
