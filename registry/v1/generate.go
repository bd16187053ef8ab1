// Package registryv1 holds the generated Go code of the registry xDS resource
// type (agent.proto). Regenerate with `make generate`.
package registryv1

//go:generate protoc --go_out=paths=source_relative:. --plugin=protoc-gen-go=../../bin/protoc-gen-go agent.proto

// TypeURL is the xDS type URL of Agent resources.
const TypeURL = "type.googleapis.com/sidecard.registry.v1.Agent"
