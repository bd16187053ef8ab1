// Package compat serves the A2A Registry compatible API on the control
// plane: the REST and JSON-RPC 2.0 surfaces of internal/a2aregistry (whose
// package documentation describes the routes, shapes, error codes, card
// forms and metrics) bound to net/http, over the control plane's store and
// view.
//
// handler.go and rest.go are the net/http binding (Handler, Mount at
// Paths) with authentication; store.go implements a2aregistry.Registry over
// the store and view (StoreRegistry). The sidecar serves the same core with
// its own binding (sidecar/compat).
//
// # Writes
//
// Writes go to the store as source "api", exactly like PUT /v1/agents, and
// follow the same rules: when tokens are configured (the same tokens) they
// need one with the write scope, 401 with WWW-Authenticate: Bearer on REST
// and -32003 on JSON-RPC without one, 403 and -32005 with a token lacking
// the scope. An entry is registered by the token's name (registered_by), and
// only that token, or an admin token, may register it again or unregister
// it (403, -32005); the store checks this in the write itself. A
// registration merges with an existing "api" entry as
// a2aregistry.MergeRegistration says; a name owned by a registry file is a
// conflict.
//
// # Reads
//
// Listings, searches and reads answer after the view has caught up with
// every write committed before the request (503, -32004 when it does not
// within DefaultViewWait); GET /health answers 503 "unhealthy" until the
// control plane is ready. With Options.RequireReadToken, reads (GET
// /agents, GET /agents/{id}, POST /agents/search, get_agent, list_agents,
// search_agents) need a token with the read scope; /health, health_check
// and list_methods stay open.
package compat
