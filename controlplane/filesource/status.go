package filesource

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// publish builds the status of every load, logs what changed since the
// last Sync, updates the file gauges and publishes the statuses.
func (s *Source) publish(loads []fileLoad, skipped map[string][]string) {
	now := s.now()
	next := make(map[string]fileState, len(loads))
	statuses := make([]FileStatus, 0, len(loads))
	files, inError := 0, 0
	for _, l := range loads {
		prev, known := s.prev[l.path]
		st := fileStatus(l, prev, known, skipped[l.path], now)
		s.logChange(l, prev.status, st)
		sum := prev.sum
		if l.err == nil {
			sum = l.sum
		}
		next[l.path] = fileState{status: st, sum: sum}
		statuses = append(statuses, st)
		if !l.dir {
			files++
		}
		if st.Error != "" {
			inError++
		}
	}
	s.prev = next
	s.status.Store(&statuses)
	s.metrics.observeFiles(files, inError)
}

// fileStatus is the status of load l, given the file's previous state.
func fileStatus(l fileLoad, prev fileState, known bool, skipped []string, now time.Time) FileStatus {
	if l.err != nil {
		st := prev.status
		st.Path, st.Error = l.path, l.err.Error()
		return st
	}
	st := FileStatus{Path: l.path, LoadedAt: prev.status.LoadedAt}
	if !known || prev.sum != l.sum || prev.status.LoadedAt.IsZero() {
		st.LoadedAt = now
	}
	for _, fe := range l.entries {
		if !slices.Contains(skipped, fe.entry.Name) {
			st.Names = append(st.Names, fe.entry.Name)
		}
	}
	st.Entries = len(st.Names)
	switch len(skipped) {
	case 0:
	case 1:
		st.Error = fmt.Sprintf("%s: name %q is owned by another source; not loaded", l.path, skipped[0])
	default:
		st.Error = fmt.Sprintf("%s: names owned by another source, not loaded: %s", l.path, strings.Join(skipped, ", "))
	}
	return st
}

// logChange logs a file that starts failing, fails differently or recovers.
func (s *Source) logChange(l fileLoad, prev, cur FileStatus) {
	switch {
	case cur.Error != "" && cur.Error != prev.Error:
		s.log.Warn("registry file not loaded", "path", l.path, "error", cur.Error, "kept_entries", cur.Entries)
	case cur.Error == "" && prev.Error != "":
		s.log.Info("registry file loaded", "path", l.path, "entries", cur.Entries)
	}
}
