// Package sidecar is sidecard's per-host sidecar: it replicates the registry
// from a control plane over delta xDS, answers lookups from co-located agents
// from memory, and keeps answering when the control plane is down.
//
// This package holds the sidecar's config and the composition of its parts;
// each lives in its own sub-package: xdsclient (the delta ADS stream) and
// lookup (the fasthttp API). The replica itself is package cache.
package sidecar
