package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
)

// metric is one row of the table.
type metric struct {
	name  string
	value float64
	unit  string // "ms", "s", "MiB", "B", "" (a count) or "x" (cores)
}

// metrics returns the rows of the table for r.
func metrics(r *result) []metric {
	s, p, m := r.Sync, r.Propagation, r.Memory
	perWrite := 0.0
	if p.Done > 0 {
		perWrite = p.CPUSeconds * 1000 / float64(p.Done)
	}
	return []metric{
		{"resource size (mean)", float64(r.ResourceBytes), "B"},
		{"store fill", r.FillMs, "ms"},
		{"cache load", r.LoadMs, "ms"},
		{"streams in sync", float64(s.Synced), ""},
		{"initial sync per stream p50", s.PerStream.P50, "ms"},
		{"initial sync per stream p99", s.PerStream.P99, "ms"},
		{"initial sync per stream max", s.PerStream.Max, "ms"},
		{"initial sync, all streams", s.TotalMs, "ms"},
		{"CPU during the syncs", s.CPUSeconds, "s"},
		{"  cores busy", cores(s.CPUSeconds, s.WallMs), "x"},
		{"writes done", float64(p.Done), ""},
		{"store Put (commit, fsync) p50", p.Put.P50, "ms"},
		{"store Put (commit, fsync) p99", p.Put.P99, "ms"},
		{"write -> a stream p50", p.Stream.P50, "ms"},
		{"write -> a stream p99", p.Stream.P99, "ms"},
		{"write -> a stream max", p.Stream.Max, "ms"},
		{"write -> every stream p50", p.AllStreams.P50, "ms"},
		{"write -> every stream p99", p.AllStreams.P99, "ms"},
		{"write -> every stream max", p.AllStreams.Max, "ms"},
		{"(stream, write) missed", float64(p.Missed), ""},
		{"(stream, write) wrong revision", float64(p.Mismatched), ""},
		{"CPU during the writes", p.CPUSeconds, "s"},
		{"  per write", perWrite, "ms"},
		{"  cores busy", cores(p.CPUSeconds, p.WallMs), "x"},
		{"heap in use after the syncs", m.HeapSyncMB, "MiB"},
		{"RSS after the syncs", m.RSSSyncMB, "MiB"},
		{"heap in use at the end", m.HeapEndMB, "MiB"},
		{"RSS at the end", m.RSSEndMB, "MiB"},
		{"peak RSS", m.PeakRSSMB, "MiB"},
	}
}

// cores returns CPU seconds per wall-clock second.
func cores(cpuSeconds, wallMs float64) float64 {
	if wallMs <= 0 {
		return 0
	}
	return cpuSeconds * 1000 / wallMs
}

// writeTable writes the results side by side, with the ratio of the second
// to the first when there are two.
func writeTable(w io.Writer, results []*result) error {
	if len(results) == 0 {
		return nil
	}
	r0 := results[0]
	fmt.Fprintf(w, "streams=%d entries=%d writes=%d interval=%gms warm=%t server=%s (CPU and memory: whole process, control plane and simulated sidecars)\n",
		r0.Streams, r0.Entries, r0.Writes, r0.IntervalMs, r0.Warm, r0.Server)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	header := "\t"
	for _, r := range results {
		header += r.Cache + "\t"
	}
	if len(results) == 2 {
		header += results[1].Cache + "/" + r0.Cache + "\t"
	}
	fmt.Fprintln(tw, header)
	rows := make([][]metric, len(results))
	for i, r := range results {
		rows[i] = metrics(r)
	}
	for j, m := range rows[0] {
		line := m.name + "\t"
		for i := range results {
			line += format(rows[i][j]) + "\t"
		}
		if len(results) == 2 {
			line += ratio(rows[0][j].value, rows[1][j].value) + "\t"
		}
		fmt.Fprintln(tw, line)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, r := range results {
		if r.Incomplete != "" {
			fmt.Fprintf(w, "%s: incomplete: %s\n", r.Cache, r.Incomplete)
		}
	}
	return nil
}

// format formats a metric's value with about three significant digits.
func format(m metric) string {
	v := m.value
	var s string
	switch {
	case m.unit == "" || m.unit == "B":
		s = strconv.FormatFloat(v, 'f', 0, 64)
	case v < 10:
		s = strconv.FormatFloat(v, 'f', 2, 64)
	case v < 100:
		s = strconv.FormatFloat(v, 'f', 1, 64)
	default:
		s = strconv.FormatFloat(v, 'f', 0, 64)
	}
	if m.unit != "" {
		s += " " + m.unit
	}
	return s
}

// ratio formats b/a, or "-" when either is 0.
func ratio(a, b float64) string {
	if a == 0 || b == 0 {
		return "-"
	}
	return strconv.FormatFloat(b/a, 'g', 3, 64) + "x"
}

// writeJSON writes the results as one indented JSON document.
func writeJSON(w io.Writer, results []*result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(map[string]any{"results": results})
}
