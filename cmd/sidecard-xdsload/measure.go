package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"syscall"
	"time"
)

// phase measures the wall-clock and CPU time (user + system, of the whole
// process: control plane and simulated sidecars) of a part of a scenario.
type phase struct {
	wall time.Time
	cpu  time.Duration
}

// startPhase starts measuring a phase.
func startPhase() phase { return phase{wall: time.Now(), cpu: cpuTime()} }

// end returns the phase's wall-clock and CPU time so far.
func (p phase) end() (wall, cpu time.Duration) {
	return time.Since(p.wall), cpuTime() - p.cpu
}

// cpuTime returns the process's user + system CPU time, 0 when unknown.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// memory is the process's memory at one moment, in bytes.
type memory struct {
	// HeapInuse is the Go heap in use after a garbage collection.
	HeapInuse uint64
	// RSS is the resident set size; 0 when /proc is not available.
	RSS uint64
}

// sampleMemory collects garbage and returns the memory in use. It collects
// twice: what sync.Pools hold survives one collection.
func sampleMemory() memory {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return memory{HeapInuse: ms.HeapInuse, RSS: procStatus("VmRSS")}
}

// peakRSS returns the highest resident set size since resetPeakRSS, or since
// the process started; 0 when /proc is not available.
func peakRSS() uint64 { return procStatus("VmHWM") }

// resetPeakRSS returns freed memory to the system and resets the peak
// resident set size (Linux: clear_refs), so that a scenario's peak is its
// own. It does nothing where that is not supported.
func resetPeakRSS() {
	debug.FreeOSMemory()
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// procStatus returns a "kB" field of /proc/self/status in bytes, 0 when it
// cannot be read.
func procStatus(field string) uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		name, rest, ok := bytes.Cut(sc.Bytes(), []byte(":"))
		if !ok || string(name) != field {
			continue
		}
		v, err := strconv.ParseUint(string(bytes.TrimSuffix(bytes.TrimSpace(rest), []byte(" kB"))), 10, 64)
		if err != nil {
			return 0
		}
		return v << 10
	}
	return 0
}

// writeHeapProfile writes a heap profile to path.
func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("heap profile: %w", err)
	}
	err = pprof.Lookup("heap").WriteTo(f, 0)
	if cerr := f.Close(); cerr != nil {
		err = errors.Join(err, cerr)
	}
	if err != nil {
		return fmt.Errorf("heap profile %q: %w", path, err)
	}
	return nil
}
