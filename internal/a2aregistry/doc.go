// Package a2aregistry is the transport-independent core of the API
// compatible with A2A Registry (github.com/allenday/a2a-registry), REST and
// JSON-RPC 2.0, that sidecard serves so that that registry's existing
// clients keep working unchanged (design brief §2). It speaks that
// registry's shapes, not the sidecard API's (§4, /v1/...), and stores what
// it is given as ordinary registry entries.
//
// # Layers
//
// This package holds the Registry interface the API consumes, the request
// and response types, the Service (card parsing and defaults, agent ids,
// card forms, error kinds), the JSON-RPC Dispatcher, the metrics, and what
// both REST bindings share (statuses, error bodies, Allow headers); it
// imports the registry package, the standard library and Prometheus only.
// It lives under internal/ because both sides serve it and must not import
// each other (BRIEF §3): controlplane/compat binds it to net/http over the
// control plane's store and view; sidecar/compat binds it to fasthttp over
// the sidecar's replica, forwarding writes to a control plane. Neither
// binding's transport, authentication or storage is here.
//
// # REST
//
//	POST   /agents          {"agent_card": {...}}  → 201 {"success": true, "agent_id": "test-agent",
//	                                                    "message": "Agent registered successfully",
//	                                                    "defaulted_fields": [...]}   (created or replaced)
//	GET    /agents/{id}                            → 200 {"agent_card": {...}}
//	GET    /agents                                 → 200 {"agents": [...], "count": N}
//	POST   /agents/search   {"query": "...", "skills": [...], "max_results": N}   (all optional)
//	                                               → 200 {"agents": [...], "count": N, "query": "...",
//	                                                      "skills_filter": [...] (when given)}
//	DELETE /agents/{id}                            → 200 {"success": true, "message":
//	                                                      "Agent unregistered successfully", "agent_id": "..."}
//	GET    /health                                 → 200 {"status": "healthy", "service": "A2A Registry",
//	                                                      "agents_count": N, "protocol_version": "0.3.0"};
//	                                                 503 with "status": "unhealthy" until the registry is ready
//
// As A2A Registry (FastAPI) does, errors are {"detail": "message"}: 400 a
// card that does not validate; 401 a write without a valid bearer token
// (with WWW-Authenticate: Bearer); 403 a token without the scope the call
// needs, or a change of an agent another token registered; 404 an unknown
// agent ("Agent not found")
// or path; 405 a method a path does not serve (with Allow); 409 an agent a
// registry file owns; 413 a body over the limit; 415 a Content-Type other
// than JSON (none is fine); 422 a body that is not a JSON object of the
// right types, or an agent_card that is not an object; 503 the registry not
// caught up (with Retry-After); 500 anything else (logged). Unknown body
// fields are ignored. A2A Registry answers POST /agents with 200; this API
// answers 201, which that registry's published load test expects.
//
// # JSON-RPC 2.0
//
// POST /jsonrpc takes a request object or a batch (an array: the answer is
// an array in call order, without the notifications'; an empty batch is one
// -32600 error). A notification (no "id") is run and not answered; a body of
// notifications only gets 204 No Content. Params are by name or by position:
//
//	register_agent(agent_card)                      → {"success", "agent_id", "message", "defaulted_fields"?, "transport": "JSONRPC"}
//	get_agent(agent_id)                             → {"agent_card", "found": true}
//	list_agents()                                   → {"agents", "count", "transport"}
//	unregister_agent(agent_id)                      → {"success", "message", "agent_id"}
//	search_agents(query?, skills?, max_results?)    → {"agents", "count", "query", "skills_filter"?, "transport"}
//	health_check()                                  → {"status", "service", "transport", "agents_count", "protocol_version"}
//	list_methods()                                  → {"methods": [...]}
//
// Errors: -32700 parse error, -32600 invalid request (also a batch of more
// than DefaultMaxBatch calls), -32601 unknown method, -32602 invalid params
// (missing, unknown, mistyped, or a card that does not validate; "data":
// {"field": ...} names the field when known), -32001 agent not found,
// -32002 agent owned by a registry file, -32003 write without a valid bearer
// token, -32004 registry unavailable (retry), -32005 permission denied (a
// token without the scope the call needs, or a change of an agent another
// token registered), -32603 internal error. Which calls need a token is the
// transport's decision, passed to Dispatcher.Serve as an Access. These
// are HTTP 200; only a body over the limit (413) or not JSON (415) changes
// the status.
//
// # Agent ids
//
// An agent's id is its entry name, derived from the card's name with
// registry.DeriveName ("Test Agent" → "test-agent"), where A2A Registry uses
// the card's name itself. Reads and unregistration accept either: an id that
// is not a valid entry name is looked up by the name derived from it.
//
// # Cards, defaults and the normalised label
//
// A card may be written in the A2A spec's camelCase or in snake_case, as
// A2A Registry clients write it. A registration needs what A2A Registry
// needs — name, description, url, version and protocol_version (or
// protocolVersion) — or a v1.0 card's supportedInterfaces; the rest of what
// the A2A schema requires is filled in by registry.ParseCardLenient:
// capabilities {}, defaultInputModes and defaultOutputModes ["text/plain"],
// skills [], and per skill: name = id, description = name (or id), tags [].
// The fields filled in are listed in the response (defaulted_fields), and
// the entry gets the label LabelNormalised ("sidecard.io/normalised":
// "true"), a valid label key under a prefix sidecard reserves, so that the
// sidecard API shows which cards are not as their agent wrote them.
//
// Unlike A2A Registry, a registration does not write preferred_transport
// into a card that has none (the A2A default, JSONRPC, applies all the
// same), and the registry's own card (get_agent_card) is not served.
//
// # Forms in responses
//
// Responses use the form of the request where it has one: errors and
// defaulted_fields of a registration name fields in the card's own form
// ("card.protocol_version"). Reads (get, list, search) answer each card in
// the form it was registered in when this process remembers it: a Service
// remembers the cards it registered from snake_case, rendered, with the
// revision of that registration (at most DefaultMaxRememberedBytes of them;
// past that, new ones are not remembered); any other write of the
// entry since (another revision), a restart of the process, or a card
// from another source reads in camelCase, the form sidecard stores. The
// form is deliberately not a label, so it never affects selectors.
//
// # Writes
//
// Writes store entries of source "api", exactly like PUT /v1/agents on the
// control plane; each binding says who may write. A registration replaces
// the card of an existing "api" entry and keeps what a card cannot say
// (MergeRegistration): its labels (but LabelNormalised, which is
// recomputed), its ttl_seconds, and its endpoints unless they were the
// defaults of the old card (those follow the new card's URL). A name owned
// by a registry file is a conflict, for registration and unregistration
// alike.
//
// # Searches
//
// query is a case-insensitive substring of the entry name, the card's name
// and description, and its skills' ids, names, descriptions and tags (A2A
// Registry matches fewer fields); skills keeps agents with at least one of
// them, matched by skill id or name ignoring case (A2A Registry: exact id).
// Listings and searches answer in name order, at most MaxResults
// (DefaultMaxResults) agents; each Registry says how fresh its reads are.
//
// # Metrics
//
// sidecard_compat_requests_total{api="rest"|"jsonrpc", method} counts REST
// requests by operation (register, get, list, unregister, search, health)
// and JSON-RPC calls by method name, "unknown" for anything else;
// sidecard_compat_errors_total{api, method, code} counts those answered
// with an error, by REST status or JSON-RPC code.
package a2aregistry
