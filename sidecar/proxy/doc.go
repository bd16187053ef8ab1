// Package proxy is the sidecar's A2A edge proxy (BRIEF §5 "ANY
// /a2a/{name}/{path...}"): a co-located agent calls
// http://127.0.0.1:17000/a2a/weather and the sidecar forwards the call to
// one healthy endpoint of the registered agent "weather", over HTTP/1.1
// with a keep-alive pool per endpoint.
//
// # Routes
//
// Mounted under Prefix ("/a2a/") on the sidecar's fasthttp server:
//
//   - GET|HEAD /a2a/{name}/.well-known/agent-card.json (and the pre-0.3
//     /.well-known/agent.json) answers the registered card, not proxied,
//     with its http(s) interface URLs rewritten to point at the sidecar
//     (v0.3: url and additionalInterfaces[].url; v1.0:
//     supportedInterfaces[].url; gRPC interfaces are left alone), so an
//     unmodified A2A client given http://127.0.0.1:17000/a2a/weather sends
//     every call through the sidecar. The host is the one the client used
//     when it is a loopback address of the sidecar, else
//     Options.AdvertiseAddr, else the local address of the connection.
//     Rewritten bytes are cached per card (one per entry revision) and
//     host. A rewritten card's signatures no longer verify.
//   - ANY /a2a/{name}{/path}{?query} is forwarded to one endpoint of name:
//     the prefix and name are stripped and the endpoint URL's own path is
//     put in front, the raw path kept as the client sent it. With endpoint
//     http://h:1/rpc, /a2a/x → http://h:1/rpc, /a2a/x/ → http://h:1/rpc/,
//     /a2a/x/foo?a=b → http://h:1/rpc/foo?a=b; with endpoint http://h:1,
//     /a2a/x → http://h:1/. An endpoint URL's query comes first, joined
//     with "&". A card URL under an endpoint's path keeps the rest of its
//     path when rewritten (http://h:1/a2a/v1 with endpoint http://h:1
//     becomes http://<sidecar>/a2a/x/a2a/v1), so the round trip lands on
//     the same URL.
//
// A2A JSON-RPC and HTTP+JSON (REST) work alike, Server-Sent Events
// included: a response body of unknown length, or of type
// text/event-stream, is passed on chunk by chunk as it arrives, flushed
// after each read; small bodies of known length are copied. Agents that
// speak only A2A gRPC are not reached through this proxy: use Envoy or a
// proxyless gRPC client with the control plane's xDS (xds:///<name>,
// BRIEF §7).
//
// # Not an open proxy
//
// The target is always an endpoint of the registered entry named by the
// path's first segment as the client sent it, or of the override the
// operator configured for that name (see Overrides): the Host header and the
// host of an absolute-form request-target are never used to route (the
// sidecar's router sees the normalised path, so a target such as
// "GET http://evil/" never reaches this package). A path whose rest has a
// "." or ".." segment, even percent-encoded, gets a 400. Hop-by-hop
// headers (Connection and the headers it names, Keep-Alive, Proxy-*, TE,
// Trailer, Transfer-Encoding, Upgrade) are dropped both ways; Expect is
// dropped (the body has been read); Host is the endpoint's;
// X-Forwarded-For gets the client's address appended, X-Forwarded-Proto
// is "http" and X-Forwarded-Host the Host the client used. There is no
// Upgrade (WebSocket) support.
//
// # Overrides
//
// SetOverrides pins names to local endpoints (sidecar.yaml "overrides:"):
// /a2a/{name} then goes to the pinned endpoints instead of the registry
// entry's, with the same balancing, retries and ejection; the card is
// still the registry's. A pinned name need not be registered (a local
// agent pinned before it is): it is proxied, and its card route answers
// 404. The lookup API is not affected: GET /v1/agents/{name} shows the
// registry's entry.
//
// # Resilience
//
// Endpoints are chosen by smooth weighted round robin or
// least-outstanding-requests (Options.LBPolicy), skipping ejected
// endpoints and those the request has tried. A request is retried on
// another endpoint, up to max_retries and within its deadline and the
// agent's retry budget (retry_budget_percent of the requests of the last
// 10 s plus 3/s), when nothing was sent (connect error, any method) or
// when the connection broke before a response and the method is
// idempotent (GET, HEAD, OPTIONS, PUT, DELETE). A response, 5xx
// included, is never retried. Passive outlier ejection: after
// outlier.consecutive_errors failures in a row (connect and transport
// errors, 5xx responses) an endpoint is ejected for base_ejection × its
// ejection count (at most max_ejection), within max_ejection_percent of
// the agent's endpoints unless all of them are failing. Deadlines:
// connect_timeout per dial; request_timeout for the whole exchange
// (retries and body included), or stream_timeout when the request's
// Accept contains text/event-stream.
//
// # Statuses
//
// Errors use the §4 shape. 400 invalid_argument: a dot segment or a bad
// escape in the path. 404 not_found: no agent of that name in the
// replica and no override; or a card asked of an override with no
// registered entry. 405 on a card with another method than GET/HEAD. 413
// payload_too_large: a body over max_body_bytes (the server refuses it
// with RequestConfig; the handler checks again). 429 resource_exhausted
// with Retry-After: 1: max_concurrent_per_agent requests to the agent are
// in flight through this sidecar (429 rather than 503: the agent is
// healthy, the clients of this host are asking too much of it). 502
// bad_gateway: the connection broke before a response, or the response
// was unreadable. 503 unavailable: no endpoint is available (all
// ejected) or none could be connected to, and while the sidecar shuts
// down. 504 gateway_timeout: the deadline passed.
//
// # Pools and metrics
//
// An agent's state (endpoint pools, health, budget, metrics) is created
// on its first request and follows its entry: endpoints that leave the
// entry have their pools closed when Run sees the replica change, and an
// agent that leaves the replica is dropped with its metric children, so
// the "agent" label only takes names of the replica. Unknown names are
// not counted by this package (the server's route metric counts them).
//
// The package does not own the listener (the sidecar's server, on
// loopback by default), speak gRPC, or load configuration.
package proxy
