package main

import "time"

// result is what one scenario measured. Durations are in milliseconds, CPU
// times in seconds, memory in MiB. CPU and memory are the process's: the
// control plane and the simulated sidecars share it.
type result struct {
	Cache      string  `json:"cache"`
	Server     string  `json:"server"`
	Streams    int     `json:"streams"`
	Entries    int     `json:"entries"`
	Writes     int     `json:"writes"`
	IntervalMs float64 `json:"interval_ms"`
	Warm       bool    `json:"warm"`
	// ResourceBytes is the mean size of an entry as an xDS resource.
	ResourceBytes int     `json:"resource_bytes"`
	FillMs        float64 `json:"fill_ms"`
	LoadMs        float64 `json:"load_ms"`

	Sync        syncResult  `json:"sync"`
	Propagation propagation `json:"propagation"`
	Memory      memResult   `json:"memory"`
	// Incomplete says what the deadline left undone; empty when nothing.
	Incomplete string `json:"incomplete,omitempty"`
}

// syncResult is the initial sync of the streams.
type syncResult struct {
	Synced int `json:"synced"`
	// PerStream is, per stream, the time from opening it to holding every
	// entry.
	PerStream summary `json:"per_stream"`
	// TotalMs is from the first stream opening to the last one in sync.
	TotalMs    float64 `json:"total_ms"`
	WallMs     float64 `json:"wall_ms"`
	CPUSeconds float64 `json:"cpu_s"`
}

// propagation is the writes and their arrival on the streams.
type propagation struct {
	Done int `json:"writes_done"`
	// Put is the duration of the store's Put (commit and fsync).
	Put summary `json:"put"`
	// Stream is, per (stream, write), the time from Put returning to the
	// stream receiving the written revision.
	Stream summary `json:"stream"`
	// AllStreams is, per write every stream received, the time from Put
	// returning to the last stream receiving it.
	AllStreams summary `json:"all_streams"`
	// Missed counts (stream, write) pairs never received; Mismatched those
	// received at another revision; Early those received before Put
	// returned (counted as 0 ms).
	Missed     int     `json:"missed"`
	Mismatched int     `json:"mismatched"`
	Early      int     `json:"early"`
	WallMs     float64 `json:"wall_ms"`
	CPUSeconds float64 `json:"cpu_s"`
}

// memResult is the process's memory after the initial syncs and at the end
// of the writes (after a garbage collection), and its peak.
type memResult struct {
	HeapSyncMB float64 `json:"heap_inuse_after_sync_mib"`
	RSSSyncMB  float64 `json:"rss_after_sync_mib"`
	HeapEndMB  float64 `json:"heap_inuse_end_mib"`
	RSSEndMB   float64 `json:"rss_end_mib"`
	PeakRSSMB  float64 `json:"peak_rss_mib"`
}

func (m *memResult) afterSync(s memory) { m.HeapSyncMB, m.RSSSyncMB = mb(s.HeapInuse), mb(s.RSS) }
func (m *memResult) atEnd(s memory)     { m.HeapEndMB, m.RSSEndMB = mb(s.HeapInuse), mb(s.RSS) }

// mb returns b in MiB.
func mb(b uint64) float64 { return float64(b) / (1 << 20) }

// newResult returns the result of a scenario not run yet.
func newResult(cfg config, kind string) (*result, error) {
	size, err := meanResourceBytes(cfg.Entries)
	if err != nil {
		return nil, err
	}
	return &result{
		Cache: kind, Server: cfg.Server, Streams: cfg.Streams, Entries: cfg.Entries, Writes: cfg.Writes,
		IntervalMs: ms(cfg.Interval), Warm: cfg.Warm, ResourceBytes: size,
	}, nil
}

// collectSync summarises the initial syncs of streams.
func (r *result) collectSync(streams []*stream) {
	var ds []time.Duration
	var first, last time.Time
	for _, s := range streams {
		if s.syncedAt.IsZero() {
			continue
		}
		ds = append(ds, s.syncedAt.Sub(s.start))
		if first.IsZero() || s.start.Before(first) {
			first = s.start
		}
		if s.syncedAt.After(last) {
			last = s.syncedAt
		}
	}
	r.Sync.Synced = len(ds)
	r.Sync.PerStream = summarise(ds)
	r.Sync.TotalMs = ms(last.Sub(first))
}

// collectWrites summarises the writes and their arrival on streams.
func (r *result) collectWrites(streams []*stream, writes []write) {
	p := &r.Propagation
	p.Done = len(writes)
	puts := make([]time.Duration, len(writes))
	pairs := make([]time.Duration, 0, len(writes)*len(streams))
	var every []time.Duration
	for k, w := range writes {
		puts[k] = w.done.Sub(w.start)
		var worst time.Duration
		all := true
		for _, s := range streams {
			at := s.seenAt[k]
			switch {
			case at.IsZero():
				p.Missed++
				all = false
				continue
			case s.seenRev[k] != w.revision:
				p.Mismatched++
				all = false
				continue
			}
			d := at.Sub(w.done)
			if d < 0 {
				p.Early++
				d = 0
			}
			pairs = append(pairs, d)
			worst = max(worst, d)
		}
		if all {
			every = append(every, worst)
		}
	}
	p.Put, p.Stream, p.AllStreams = summarise(puts), summarise(pairs), summarise(every)
}
