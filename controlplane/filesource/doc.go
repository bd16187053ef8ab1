// Package filesource loads registry entries from registry directories
// (--registry-dir, registry_dirs) into the control plane's store.
//
// Every *.yaml, *.yml and *.json file directly in a directory (not in its
// subdirectories; names starting with '.' are skipped, symbolic links are
// followed; at most 32 MiB) holds one entry (a mapping) or a list of
// entries (a sequence); a YAML file may hold several documents. An entry is
// written in the API form of the HTTP API ({name, labels, endpoints, card})
// or as a bare A2A agent card, whose name is then derived from card.name.
// ttl_seconds is refused: a file entry is not a lease, it lives as long as a
// file defines it. A top-level {agents: [...]} wrapper is not a list: it is
// read as one entry and refused. YAML is strict (duplicate keys are
// errors); anchors, aliases and merge keys work. Errors name the file, line
// and entry:
// "registry/weather.yaml:12: entry[1]: card.skills[0].id: required".
//
// Entries loaded from files are owned by the source "file"
// (registry.SourceFile): the store refuses API writes to them, and the file
// source leaves alone the names another source owns.
//
// The package reads and loads; it does not watch. A watcher (hot reload)
// calls Sync on every change: Sync is an idempotent transaction that costs a
// directory listing, one read and hash per file, one store List and, only
// when something changed, one store batch.
package filesource
