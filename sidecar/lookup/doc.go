// Package lookup is the sidecar's read API on fasthttp (BRIEF §5 "Sidecar
// HTTP"): GET /v1/agents/{name}, /v1/agents/{name}/card, /v1/agents?...,
// /v1/status, /healthz, /readyz and /metrics, answered from the local
// replica at memory speed.
//
// The replica (a cache.Replica's current Snapshot) is the source of truth.
// Rendered responses (entry JSON, card JSON, search pages) are kept in a
// ristretto cache that may drop anything at any time:
//
//   - entry and card bodies are keyed by a hash of the name; the cached value
//     holds the name and the entry revision it was rendered from, and a hit
//     counts only when both equal the current snapshot's entry. A change to
//     one entry therefore re-renders that entry alone.
//   - search pages are keyed by a hash of the raw query string; the value
//     holds the query and the sequence number of the snapshot it was computed
//     from, so a page is valid for exactly one snapshot. A page miss re-runs
//     Index.Search and assembles the page from the cached entry bodies, so
//     during a stream of updates a hot query costs one search and a copy per
//     update, never a re-render of its entries. (Keying pages on a per-term
//     generation would need to know which entries an update touched, which a
//     Snapshot does not say; see README.md for the numbers.)
//
// The hit path of GET /v1/agents/{name} allocates nothing (enforced by
// TestGetEntryAllocs). The package does not proxy A2A calls (/a2a/ is left
// to a Mount), speak xDS or own the replica.
package lookup
