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
// nodes (NodeStatus: labels, address, ACKed revision, NACKs). EnvoyCache
// serves the Envoy types (LDS, RDS, CDS, EDS) that package envoy translates
// from the same entries, for Envoy and proxyless gRPC clients; it joins the
// registry cache in the Server's mux (see Envoy types below). The package
// does not translate entries itself.
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
// subscription; sidecard's Server turns legacy wildcard off for the registry
// type (config.DeactivateLegacyWildcardForTypes), so that a stream
// subscribes to "*" explicitly.
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
//
// # Envoy types
//
// EnvoyCache follows the same Feed as the registry cache (List at start,
// then Changes after its revision; a compacted feed makes it list again and
// apply the difference) and translates only the entries that changed, with
// envoy.Resources. It keeps each agent's resources and serves them from
// go-control-plane LinearCaches, one per resource set, which answer delta
// and state-of-the-world watches. An entry whose translation fails is left
// out of every Envoy resource (as if deleted), logged and counted
// (sidecard_xds_envoy_translation_errors_total,
// sidecard_xds_envoy_agents_left_out).
//
// One change updates only what it changes: an endpoint change sets the
// agent's ClusterLoadAssignment, and its Cluster only when the translation
// differs (compared with proto.Equal; unchanged messages keep their identity
// in the caches, so a change of the card alone updates nothing); an agent
// added or removed sets or deletes its Cluster, ClusterLoadAssignment and
// ApiListener and reassembles the shared RouteConfiguration sidecard, once
// per batch of changes. Every resource is marshalled once per version,
// whatever the number of streams (LinearCache marshals lazily and shares
// the bytes). The shared RouteConfiguration (about 340 bytes per agent) is
// not even marshalled whole: it is assembled from each agent's VirtualHost
// and Routes, encoded once when the agent is translated (envoyroute.go).
// Additions are published before the route configuration, and removals
// after it.
//
// What each client sees:
//
//   - LDS: a wildcard subscription (Envoy's) gets sidecard_http only: Envoy
//     warns about every ApiListener it receives. A subscription naming
//     listeners (grpc-go asks for xds:///<name> as listener <name>) gets the
//     ApiListeners and sidecard_http it names. A wildcard subscription that
//     also names listeners gets sidecard_http only.
//   - RDS: sidecard, every VirtualHost of the node's view.
//   - CDS and EDS: agent.<name> of every agent of the node's view.
//
// Costs are LinearCache's: a wildcard watch (Envoy's CDS) walks every
// resource of its view on each update, and a named watch the names it
// subscribes; fine for the few Envoy and gRPC clients of a control plane,
// not for thousands of sidecars (which is why the registry type has its own
// cache). Delta versions are content hashes, so a reconnecting delta client
// is sent only what changed; sotw versions carry a per-process, per-view
// prefix, so a client reconnecting after a restart or to another view is
// always answered. A watch of a name that does not exist is LinearCache's:
// a first sotw request gets a response without it, a delta one waits for
// the name to appear. grpc-go (sotw only) treats a listener or cluster
// missing from a response as deleted only once it has received it: for a
// name it never had, it waits for its resource-not-found timer (15 s)
// before failing RPCs.
//
// # Selector views
//
// A node's node.metadata.selector (a Struct of strings, as for sidecars)
// restricts it to the agents whose labels match: LinearCache cannot filter
// per node, so each distinct selector has its own view (its own
// LinearCaches and RouteConfiguration, sharing the agents' messages),
// created at the first watch of a node with that selector and kept up to
// date with every change (cost per change: proportional to the views). At
// most EnvoyCacheOptions.MaxSelectors views of non-empty selectors exist;
// a new selector beyond that replaces the least recently used view with no
// open watch, or else its watch fails (the stream ends with the error, and
// sidecard_xds_envoy_refused_watches_total counts it). The view of every
// agent (no selector) always exists. A selector that is not a Struct of
// strings fails the stream too.
package xds
