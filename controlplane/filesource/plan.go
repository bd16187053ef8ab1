package filesource

import (
	"slices"

	"github.com/sidecard/sidecard/registry"
)

// plan is the store batch that makes the store match the loaded files.
type plan struct {
	puts    []*registry.Entry
	deletes []string
	failed  int                 // loads that failed
	pathOf  map[string]string   // name → path of the file that loaded it
	skipped map[string][]string // path → its names owned by another source
}

// makePlan compares the loaded files with the stored entries: an entry
// that is absent or differs is put; a name owned by another source is
// skipped; when no load failed, a "file" entry defined by no file is deleted.
func makePlan(loads []fileLoad, stored []*registry.Entry) *plan {
	p := &plan{pathOf: map[string]string{}, skipped: map[string][]string{}}
	byName := make(map[string]*registry.Entry, len(stored))
	for _, e := range stored {
		byName[e.Name] = e
	}
	for _, l := range loads {
		if l.err != nil {
			p.failed++
			continue
		}
		for _, fe := range l.entries {
			e := fe.entry
			p.pathOf[e.Name] = l.path
			switch cur := byName[e.Name]; {
			case cur != nil && cur.Source != registry.SourceFile:
				p.skipped[l.path] = append(p.skipped[l.path], e.Name)
			case cur != nil && cur.ContentEqual(e):
			default:
				p.puts = append(p.puts, e)
			}
		}
	}
	if p.failed > 0 {
		return p
	}
	for _, e := range stored {
		if _, defined := p.pathOf[e.Name]; !defined && e.Source == registry.SourceFile {
			p.deletes = append(p.deletes, e.Name)
		}
	}
	return p
}

// addSkipped records names the store skipped (another source took them
// after List) in the status of the files that define them.
func (p *plan) addSkipped(names []string) {
	for _, name := range names {
		path, ok := p.pathOf[name]
		if ok && !slices.Contains(p.skipped[path], name) {
			p.skipped[path] = append(p.skipped[path], name)
		}
	}
}

// skippedNames returns every skipped name, sorted.
func (p *plan) skippedNames() []string {
	var names []string
	for _, ns := range p.skipped {
		names = append(names, ns...)
	}
	slices.Sort(names)
	return names
}

// result is the SyncResult of the plan before it is applied.
func (p *plan) result(loads []fileLoad, rev int64) SyncResult {
	res := SyncResult{Failed: p.failed, Skipped: p.skippedNames(), Revision: rev}
	for _, l := range loads {
		if !l.dir {
			res.Files++
		}
		if l.err == nil {
			res.Entries += len(l.entries)
		}
	}
	return res
}
