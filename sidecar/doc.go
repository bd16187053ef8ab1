// Package sidecar is sidecard's per-host sidecar: it replicates the registry
// from a control plane over delta xDS, answers lookups from co-located agents
// from memory, and keeps answering when the control plane is down.
//
// This package holds the sidecar's config, the composition of its parts
// and the reload of its config file (a watched file whose edits are put in
// effect as a transaction: reload.go); each part lives in its own
// sub-package: xdsclient (the delta ADS stream), lookup (the fasthttp API)
// and proxy (the A2A edge proxy). The replica itself is package cache.
package sidecar
