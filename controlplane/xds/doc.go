// Package xds serves the registry over xDS: RegistryCache is a
// go-control-plane cache (cachev3.Cache) for the registry resource type
// (registryv1.TypeURL), fed by the store's change feed, that answers delta
// and state-of-the-world watches with a cost per update proportional to the
// changes times the streams that must see them, never to the registry size
// per stream.
//
// Server serves it: one gRPC server with ADS (delta and state-of-the-world)
// over a cachev3.MuxCache that routes each type URL to its cache, following
// every stream through go-control-plane's callbacks to report the connected
// nodes (NodeStatus: labels, address, ACKed revision, NACKs). The package does
// not translate entries to Envoy resources; their caches join the registry
// cache in the Server's mux.
//
// # Node status
//
// The Server keeps per-stream state only, freed when the stream closes: the
// node of its requests, when it opened, and the responses it was sent and has
// not answered yet (at most 16, by nonce). A request is initial (its
// stream's first of its type), a NACK (error_detail set), an ACK (a
// response_nonce) or a subscription change. An ACK of a registry response
// raises the stream's ACKed revision to the revision that response brought
// it to (its system_version_info in delta, its version_info in
// state-of-the-world: the cache's revision) and times the push, from the
// response's send to its ACK.
//
// # What a stream holds
//
// A delta stream that is in sync is described by a revision watermark w, its
// wildcard flag and its label selector: the client holds exactly the entries
// visible to it at revision w. The cache keeps that state where
// go-control-plane keeps per-stream state for caches: in the map the
// response hands back as its returned resources (GetNextVersionMap), which
// the delta server stores in the stream's per-type subscription and passes
// back, unchanged except for the marks described below, to the next
// CreateDeltaWatch of that stream. The map has a single key, "*" (never a
// valid entry name), whose value is "<w> <wildcard 0|1> <selector JSON>".
// The selector is read from node.metadata.selector (a Struct of string
// values) on every request, so a node that sends new metadata changes what it
// sees.
//
// On every re-arm the cache diffs the stream against a ring of recent changes
// (revision, name, the entry's labels before the change) after w, plus the
// names of the request's resource_names_subscribe and the names the server
// marked with an empty version (unsubscribed while wildcard). It compares
// every resource only on the first watch of a stream (against the client's
// initial_resource_versions), after a change of the selector or of the
// wildcard flag, and when w is older than the ring. In that last case
// deletions come from a separate, longer ring of tombstones, and an entry
// changed since w that the stream does not see is reported removed (the
// client may have held it); a stream older than the tombstones is reset and
// must reconnect. A state-of-the-world stream keeps the same state for
// wildcard (or the version of each name it asked for) and gets the full
// state whenever something it sees changed.
//
// The cache needs no server callbacks (the Server's only track node
// status). It honours whatever wildcard semantics the server gives the
// subscription; sidecard's Server turns legacy wildcard off
// (config.DeactivateLegacyWildcard), so that a stream subscribes to "*"
// explicitly.
//
// # What the cache relies on in go-control-plane v0.14
//
//   - The delta server passes each stream's subscription to every
//     CreateDeltaWatch of that stream and stores GetNextVersionMap of each
//     response it sends with SetReturnedResources; between two watches it only
//     deletes names from that map or sets them to "" (UpdateResourceSubscriptions).
//   - The delta server cancels a stream's watch and creates the next one for
//     every request (ACK, NACK or subscription change) on the same goroutine,
//     after sending every queued response; the response channel is the
//     stream's, the same for all its watches. A response the cache sends
//     between the server's draining of that channel and its cancel is applied
//     after the next CreateDeltaWatch: the cache remembers the last response it
//     sent on each channel for a short while to account for it.
//   - The state-of-the-world servers set a subscription's returned resources
//     only from responses actually sent, and drop (never send) a response that
//     a newer request of the same type superseded; they give every watch its
//     own response channel of capacity 1 (ordered ADS: the stream's).
//
// Sends on response channels never block: a response that does not fit is
// retried by Run and counted.
package xds
