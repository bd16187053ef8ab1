// Package registry is sidecard's domain model: registry entries, their endpoints
// and A2A agent cards, name rules, card validation (A2A v0.3 and v1.0), the
// lookup query language and the immutable in-memory index that answers it.
//
// It is shared by the control plane and the sidecar and knows nothing of
// storage, transports or HTTP servers.
package registry
