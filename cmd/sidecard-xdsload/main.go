// Command sidecard-xdsload measures the control plane's delta xDS side
// under load, in one process: a bbolt store filled with generated entries,
// the registry type's cache following it (sidecard's revision-log cache or
// go-control-plane's LinearCache) served by go-control-plane's server over
// gRPC on 127.0.0.1, and simulated sidecars (raw delta ADS streams
// subscribing to every entry). It reports the initial sync time of the
// streams, the time from a write returning to each stream receiving it, and
// the process's CPU time and memory.
//
// main only wires: flags → config → run → report.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
	"time"
)

// exitGrace is how long the tool may take to stop after -timeout before it
// exits anyway.
const exitGrace = 30 * time.Second

func main() {
	cfg, jsonOut, cpuProfile := parseFlags()
	if err := cfg.validate(); err != nil {
		fmt.Fprintln(os.Stderr, "sidecard-xdsload:", err)
		os.Exit(2)
	}
	if cpuProfile != "" && cfg.WritesProfile != "" {
		fmt.Fprintln(os.Stderr, "sidecard-xdsload: -cpuprofile and -writesprofile exclude each other")
		os.Exit(2)
	}
	watchdog := time.AfterFunc(cfg.Timeout+exitGrace, func() {
		fmt.Fprintf(os.Stderr, "sidecard-xdsload: still running %s after -timeout; exiting\n", exitGrace)
		os.Exit(1)
	})
	defer watchdog.Stop()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "sidecard-xdsload:", err)
			os.Exit(1)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "sidecard-xdsload:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	results, err := run(ctx, cfg)
	write := writeTable
	if jsonOut {
		write = writeJSON
	}
	if werr := write(os.Stdout, results); werr != nil && err == nil {
		err = werr
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "sidecard-xdsload:", err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

// parseFlags returns the configuration the flags describe, whether to
// write JSON, and the CPU profile's path ("" for none).
func parseFlags() (cfg config, jsonOut bool, cpuProfile string) {
	cfg = defaultConfig()
	flag.IntVar(&cfg.Streams, "streams", cfg.Streams, "simulated sidecars: delta ADS streams subscribing to every entry")
	flag.IntVar(&cfg.Entries, "entries", cfg.Entries, "entries in the store before the streams connect")
	flag.IntVar(&cfg.Writes, "writes", cfg.Writes, "writes after every stream is in sync, each to a different entry (at most -entries)")
	flag.StringVar(&cfg.Cache, "cache", cfg.Cache, "registry cache: revlog (sidecard's), linear (go-control-plane's LinearCache) or both, one after the other")
	flag.StringVar(&cfg.Server, "server", cfg.Server, "xDS server: plain (go-control-plane's, legacy wildcard off) or sidecard (controlplane/xds.Server, with node tracking; revlog only)")
	flag.DurationVar(&cfg.Interval, "interval", cfg.Interval, "pause between writes; 0 writes back to back")
	flag.DurationVar(&cfg.Timeout, "timeout", cfg.Timeout, "hard bound on the whole run (with -cache both, shared equally)")
	flag.DurationVar(&cfg.Drain, "drain", cfg.Drain, "how long after the last write the streams may take to receive every write")
	flag.IntVar(&cfg.StreamsPerConn, "streams-per-conn", cfg.StreamsPerConn, "streams sharing one gRPC client connection")
	flag.IntVar(&cfg.SyncParallel, "sync-parallel", cfg.SyncParallel, "streams in their initial sync at once; 0: all")
	flag.BoolVar(&cfg.Warm, "warm", cfg.Warm, "streams start with initial_resource_versions of every entry (a restart with a replica on disk); revlog only")
	flag.StringVar(&cfg.Dir, "dir", cfg.Dir, "directory for the temporary store (default: the system's temporary directory)")
	flag.StringVar(&cfg.HeapProfile, "heapprofile", "", "write a heap profile, once the streams are in sync, to this path suffixed with .<cache>")
	flag.StringVar(&cfg.WritesProfile, "writesprofile", "", "write a CPU profile of the writes phase to this path suffixed with .<cache>")
	flag.BoolVar(&jsonOut, "json", false, "write the results as JSON instead of a table")
	flag.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the whole run to this file (samples labelled side=controlplane|writer|sidecars)")
	flag.Parse()
	return cfg, jsonOut, cpuProfile
}
