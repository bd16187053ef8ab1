package cache

import (
	"time"

	"github.com/google/btree"

	"github.com/sidecard/sidecard/registry"
)

// versionDegree is the degree of the version btree: small nodes keep the
// copy-on-write path copy of one change cheap.
const versionDegree = 16

// Snapshot is one immutable state of the replica: the entries, the resource
// version the control plane sent for each, the highest entry revision seen,
// when the state was made and the control plane's system version info.
//
// A Snapshot is never mutated after it is published and is safe for
// concurrent use. The zero value is not usable; snapshots come from a
// Replica or from LoadFile. Entries returned through Index are shared and
// must not be mutated.
type Snapshot struct {
	index         *registry.Index
	versions      *btree.BTreeG[versionItem] // never mutated once published
	revision      int64
	updatedAt     time.Time
	systemVersion string
}

// versionItem is the xDS resource version of one entry, keyed by name.
type versionItem struct {
	name    string
	version string
}

func lessVersion(a, b versionItem) bool { return a.name < b.name }

// newVersionTree returns an empty version tree.
func newVersionTree() *btree.BTreeG[versionItem] {
	return btree.NewG(versionDegree, lessVersion)
}

// emptySnapshot returns the snapshot of an empty replica made at t.
func emptySnapshot(t time.Time) *Snapshot {
	return &Snapshot{index: registry.NewIndex(), versions: newVersionTree(), updatedAt: t}
}

// Index returns the entries of the snapshot.
func (s *Snapshot) Index() *registry.Index { return s.index }

// Version returns the xDS resource version of the entry named name, as the
// control plane sent it.
func (s *Snapshot) Version(name string) (string, bool) {
	it, ok := s.versions.Get(versionItem{name: name})
	return it.version, ok
}

// Versions returns a new map of every entry's resource version, as a
// reconnecting client sends in initial_resource_versions. The caller owns
// the map. It costs O(n): call it once per stream, not per lookup.
func (s *Snapshot) Versions() map[string]string {
	out := make(map[string]string, s.versions.Len())
	s.versions.Ascend(func(it versionItem) bool {
		out[it.name] = it.version
		return true
	})
	return out
}

// Revision returns the highest entry revision the replica has seen (0 when
// it has seen none). Removals do not lower it.
func (s *Snapshot) Revision() int64 { return s.revision }

// UpdatedAt returns when the replica last changed: the time of the last
// applied update, or the time a restored snapshot was saved.
func (s *Snapshot) UpdatedAt() time.Time { return s.updatedAt }

// SystemVersion returns the system_version_info of the last applied
// response, for debugging only ("" when none was given).
func (s *Snapshot) SystemVersion() string { return s.systemVersion }

// Len returns the number of entries.
func (s *Snapshot) Len() int { return s.index.Len() }
