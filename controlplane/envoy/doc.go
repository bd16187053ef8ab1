// Package envoy translates registry entries into Envoy xDS resources (BRIEF
// §7) for a real Envoy and for proxyless gRPC clients (grpc-go's xDS
// resolver, target xds:///<name>). It is a pure translation: it does not
// serve, cache or version the resources, and it keeps no state.
//
// # Resources
//
// Per agent (Resources, one AgentResources):
//
//   - Cluster agent.<name>: EDS over ADS, round robin, Options.ConnectTimeout,
//     and, with Options.UpstreamTLS, a TLS transport socket when the
//     agent's endpoints are https.
//   - ClusterLoadAssignment agent.<name>: one locality of weight 1 (grpc-go
//     ignores zero-weight localities) holding one endpoint per distinct
//     host:port of the entry's endpoints, weighted by Endpoint.Weight (the
//     weights of URLs sharing a host:port add up: grpc-go refuses duplicate
//     addresses). No locality when the entry has no endpoints.
//   - VirtualHost <name>: domains <name>, <name>:*, <name>.agents.local and
//     <name>.agents.local:*; routes /a2a/<name> (exact) and /a2a/<name>/
//     (prefix) to the cluster with the matched prefix rewritten to "/", then
//     a catch-all route (prefix "") to the same cluster, so that grpc-go,
//     which picks the virtual host by the target's authority <name>, routes
//     every method. Routes keep no timeout by default (Envoy's 15 s default
//     would cut A2A streams) and rewrite the Host header to the endpoint's
//     hostname when it has one.
//   - Listener <name>: an ApiListener for proxyless gRPC whose
//     HttpConnectionManager carries the RouteConfiguration sidecard.<name>
//     (that one VirtualHost) inline, with the router as its only filter.
//
// Shared (assembled from the per-agent parts):
//
//   - RouteConfiguration sidecard (RouteConfiguration): every agent's
//     VirtualHost plus a VirtualHost _a2a for any other Host that routes
//     every agent's /a2a/<name> paths, for the Envoy listener.
//   - Listener sidecard_http (HTTPListener): Envoy's HTTP listener on
//     Options.ListenerAddress:ListenerPort, an HttpConnectionManager using
//     RDS over ADS for the route configuration sidecard, router filter last.
//
// # Incremental cost
//
// A VirtualHost and an ApiListener depend only on the agent's name and the
// Options, a Cluster on the name, the Options and the endpoints' scheme
// (TLS or not), a ClusterLoadAssignment on the endpoints. So:
//
//   - an endpoint change (the common churn: leases, weights, scaling)
//     rewrites the agent's ClusterLoadAssignment, and its Cluster only when
//     the endpoints switch between http and https: O(endpoints);
//   - an agent added or removed adds or removes its Cluster, load assignment
//     and ApiListener, O(1), and rewrites the shared RouteConfiguration
//     sidecard: O(agents) pointer copies to assemble, and O(agents) bytes to
//     marshal and send to every Envoy. Proxyless gRPC clients never read
//     sidecard: their route configuration is inline in their own listener.
//
// Inlining the route configuration in each ApiListener, rather than a
// separate RDS resource sidecard.<name> per agent, costs nothing on updates
// (the listener changes only when its agent appears or disappears), saves
// gRPC clients an RDS round trip, and keeps go-control-plane's
// Snapshot.Consistent usable (it ignores ApiListeners, so per-agent RDS
// resources would count as unreferenced). A single RDS sidecard shared by
// the ApiListeners would make every add or remove resend O(agents) bytes to
// every gRPC client.
//
// # Hostname endpoints
//
// Every cluster is EDS, because grpc-go accepts EDS, LOGICAL_DNS and
// aggregate clusters but not STRICT_DNS, and LOGICAL_DNS allows a single
// endpoint. An endpoint whose URL
// names a host rather than an IP address becomes a socket address with that
// hostname (and Endpoint.hostname, for Host rewriting and TLS SNI). grpc-go
// resolves such an address when it connects. Envoy resolves hostnames only
// in STRICT_DNS and LOGICAL_DNS clusters: it refuses (NACKs) a
// ClusterLoadAssignment holding a hostname, so agents reachable only by
// hostname cannot be routed by Envoy. The alternatives each break one
// client: STRICT_DNS is refused by grpc-go, and LOGICAL_DNS works in both
// only for an agent with exactly one endpoint.
//
// Endpoint URLs contribute their host and port only: /a2a/<name>/x reaches
// /x on whichever endpoint is picked, whatever path the endpoint's URL has.
//
// # TLS
//
// With Options.UpstreamTLS (the default), the cluster of an agent whose
// endpoints are all https gets an UpstreamTlsContext with auto_host_sni (SNI
// from each endpoint's hostname) and, when Options.TrustedCAFile is set,
// certificate validation against that file with the SAN checked against
// the SNI; without it Envoy encrypts but does not verify the agent. grpc-go
// refuses a Cluster whose UpstreamTlsContext has no certificate provider
// instance (gRFC A29), so https agents are for Envoy only unless
// UpstreamTLS is off. An agent mixing http and https endpoints cannot have
// one transport socket: Resources refuses it when UpstreamTLS is on.
//
// # Serving
//
// Envoy ignores, with a warning, the ApiListeners it receives over LDS: send
// them to the gRPC clients, which ask for them by name, not in wildcard LDS
// responses. The shared RouteConfiguration is large (about 340 bytes per
// agent) and costs about 7 µs per agent to marshal with proto.Marshal.
//
// # Contract
//
// Every function is pure and safe for concurrent use. Returned messages are
// new, owned by the caller and, once published, must not be modified: the
// shared RouteConfiguration points at the per-agent VirtualHosts and
// Routes. Every resource passes its protoc-gen-validate Validate().
package envoy
