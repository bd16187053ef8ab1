package xdsclient

import (
	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	"google.golang.org/protobuf/types/known/structpb"
)

// Node metadata keys the control plane reads.
const (
	metadataLabels   = "labels"
	metadataSelector = "selector"
)

// userAgent is the node's user_agent_name.
const userAgent = "sidecard"

// buildNode returns the node a sidecar identifies itself with: its id, and
// metadata {"labels": {...}, "selector": {...}} with string values. Both
// keys are always present, so an emptied selector is sent as such.
func buildNode(id string, labels, selector map[string]string) *core.Node {
	return &core.Node{
		Id:            id,
		UserAgentName: userAgent,
		Metadata: &structpb.Struct{Fields: map[string]*structpb.Value{
			metadataLabels:   stringStruct(labels),
			metadataSelector: stringStruct(selector),
		}},
	}
}

// stringStruct returns m as a Struct value of string values.
func stringStruct(m map[string]string) *structpb.Value {
	fields := make(map[string]*structpb.Value, len(m))
	for k, v := range m {
		fields[k] = structpb.NewStringValue(v)
	}
	return structpb.NewStructValue(&structpb.Struct{Fields: fields})
}
