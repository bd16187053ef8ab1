// Package compat serves the A2A Registry compatible API on the sidecar:
// the REST and JSON-RPC 2.0 surfaces of internal/a2aregistry (whose package
// documentation describes routes, shapes, error codes, card forms and
// metrics), the same as the control plane's, bound to fasthttp and mounted
// on the sidecar's server (Prefix and Paths, a lookup.Mount), so that an
// A2A Registry client pointed at its local sidecar keeps working.
//
// Reads (get_agent, list_agents, search_agents, health_check and their
// REST routes) are answered from the sidecar's replica, in memory: they see
// the entries this sidecar replicates (its subscribe.selector), as fresh as
// its stream, and keep answering while the control plane is down. GET
// /health is 503 "unhealthy" until a replica is loaded.
//
// Writes (register_agent, unregister_agent, POST /agents, DELETE
// /agents/{id}) are forwarded to the control plane's HTTP API with the
// sidecar's token (register.Client): a registration reads the entry there,
// merges with it as a2aregistry.MergeRegistration says and writes it with
// If-Match, retrying when it raced another write. A write then waits, at
// most the visible wait, for the replica to show it, so that a client that
// reads its own write through this sidecar finds it. Writes need no token
// here (the sidecar serves its host on loopback); the control plane's
// answers map to the API's errors: 404 not found, 409 owned by a registry
// file, 403 registered by another node, 503 (-32004) when no control plane
// answers, 500 (logged) when the control plane refuses the sidecar's token.
//
// Bodies are bounded by Options.MaxBodyBytes: RequestConfig and
// ErrorHandler fit that into the sidecar's server.
package compat
