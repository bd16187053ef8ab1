// Package xdsclient is the sidecar's delta xDS client: it keeps one
// aggregated (ADS) delta stream to a control plane, subscribes to every
// registry entry (type registryv1.TypeURL) the node's selector allows,
// validates each response, applies it to a cache.Replica in one step and
// ACKs it, or NACKs it whole and keeps the previous state.
//
// It reconnects with jittered exponential backoff across the configured
// control-plane addresses, sends the replica's resource versions when a
// stream starts so that only what changed flows, and notices a dead stream
// through gRPC keepalive. The node's labels, its selector and the
// addresses can change while it runs (SetLabels, SetSelector,
// SetAddresses): the first two are resent on the live stream; a new
// address list is used from the next reconnection, at once when the
// current address is no longer in it.
//
// It does not persist the replica (cache.Persister does), serve lookups or
// speak state-of-the-world xDS.
package xdsclient
