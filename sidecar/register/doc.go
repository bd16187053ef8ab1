// Package register lets a co-located agent register itself through its
// sidecar, and keeps it registered while it is healthy.
//
// # The agent's side
//
//	PUT    /v1/agents/{name}   an entry or a bare A2A card, as on the control plane
//	                           → the control plane's answer (201 created / 200 updated, the stored entry)
//	DELETE /v1/agents/{name}   → 204; 404 when there is no such entry
//
// The body is checked here first (registry.ParseEntry: 400 with the field,
// 415 without Content-Type: application/json); If-Match is passed on.
// ttl_seconds is set to Options.TTL unless the agent gave one, so that
// every agent registered through a sidecar is a lease. The agent needs an
// http(s) endpoint (its own, or its card's url): its first one is
// health-checked. Errors of the control plane are relayed as it answered
// them (400, 404, 409, 412, ...), except that a refusal of the sidecar's
// token is a 502 and no answer from any control plane a 503 (with
// Retry-After).
//
// # What the sidecar does
//
// A Registrar forwards the registration to the control plane's HTTP API
// (Client: every attempt has a deadline; an attempt that gets no answer,
// or 429/502/503/504, is retried with backoff on the next address), and
// records it. Its worker then, until the agent deregisters or the sidecar
// stops:
//
//   - renews the lease (POST /v1/agents/{name}/heartbeat) every third of
//     its TTL while the agent is healthy; a lease the control plane lost
//     (404) is registered again;
//   - checks the agent every HealthInterval: an HTTP GET of HealthPath
//     (default its agent card, /.well-known/agent-card.json) on the origin
//     of its first endpoint, 2xx passing. After FailureThreshold failures
//     in a row the agent is unhealthy and deregistered (DELETE on the
//     control plane); at the next passing check it is registered again.
//
// A clean shutdown (Run's context ending) deregisters every agent still
// registered, within a deadline; after a crash the leases expire instead.
// GET /v1/status lists the registrations (lookup.Registration).
//
// Requests carry the sidecar's bearer token (controlplane.token_file) and
// its node id in the X-Sidecard-Node header, for the control plane's logs;
// the control plane records the token's name as the entry's registered_by.
//
// # Metrics
//
// sidecard_register_agents, sidecard_register_health_checks_total{result},
// sidecard_register_deregistrations_total{reason="unhealthy"|"agent"|"shutdown"},
// sidecard_register_reregistrations_total, and the Client's
// sidecard_register_controlplane_calls_total{op, result} and
// sidecard_register_controlplane_retries_total.
//
// The package does not serve lookups (GET /v1/agents/{name} is the lookup
// API's), nor the A2A Registry compatible API (sidecar/compat), whose
// writes use a Client too.
package register
