package xds

import (
	"fmt"

	route "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// The shared RouteConfiguration sidecard holds every agent's VirtualHost and,
// in the VirtualHost _a2a, two Routes of every agent: about 340 bytes per
// agent, and about 7 µs per agent to marshal (70 ms at 10k agents). Adding or
// removing an agent changes it, so marshalling it whole on each change would
// cost O(agents) of encoding work per change. Instead, each agent's
// VirtualHost and Routes are encoded once, when the agent is translated
// (agentWire), and the RouteConfiguration is assembled from those bytes: a
// copy, O(bytes), with no encoding work but that of the messages the
// assembly creates itself (the _a2a VirtualHost without its routes, the
// copies of VirtualHosts that lost their .agents.local aliases).
//
// The assembled RouteConfiguration keeps its own scalar fields (its name)
// and carries its virtual_hosts as unknown fields: proto.Marshal copies
// them verbatim, so its wire form, the only one the caches use, decodes to
// the RouteConfiguration that envoy.RouteConfiguration returned. Read as a
// Go struct it has no VirtualHosts.

// Field numbers of the repeated fields the assembly writes.
var (
	virtualHostsField = fieldNumber(&route.RouteConfiguration{}, "virtual_hosts")
	routesField       = fieldNumber(&route.VirtualHost{}, "routes")
)

func fieldNumber(m proto.Message, name protoreflect.Name) protowire.Number {
	f := m.ProtoReflect().Descriptor().Fields().ByName(name)
	if f == nil {
		panic(fmt.Sprintf("%s has no field %s", m.ProtoReflect().Descriptor().FullName(), name))
	}
	return f.Number()
}

// agentWire is the wire form of an agent's VirtualHost and of each of its
// Routes. Immutable.
type agentWire struct {
	vhost  []byte
	routes [][]byte // in the order of VirtualHost.Routes
}

// encodeAgent returns the wire form of vh and its routes.
func encodeAgent(vh *route.VirtualHost) (*agentWire, error) {
	w := &agentWire{routes: make([][]byte, len(vh.GetRoutes()))}
	var err error
	if w.vhost, err = marshalOptions.Marshal(vh); err != nil {
		return nil, fmt.Errorf("marshal virtual host %q: %w", vh.GetName(), err)
	}
	for i, r := range vh.GetRoutes() {
		if w.routes[i], err = marshalOptions.Marshal(r); err != nil {
			return nil, fmt.Errorf("marshal route %d of virtual host %q: %w", i, vh.GetName(), err)
		}
	}
	return w, nil
}

// wireIndex finds the wire form of the VirtualHosts and Routes of the agents
// by identity. Not safe for concurrent use: the EnvoyCache guards it with
// its mutex.
type wireIndex struct {
	vhosts map[*route.VirtualHost][]byte
	routes map[*route.Route][]byte
}

func newWireIndex() *wireIndex {
	return &wireIndex{vhosts: make(map[*route.VirtualHost][]byte), routes: make(map[*route.Route][]byte)}
}

// add indexes the wire form of a translated agent.
func (x *wireIndex) add(a *envoyAgent) {
	vh := a.res.VirtualHost
	x.vhosts[vh] = a.wire.vhost
	for i, r := range vh.GetRoutes() {
		x.routes[r] = a.wire.routes[i]
	}
}

// remove forgets the wire form of a translated agent.
func (x *wireIndex) remove(a *envoyAgent) {
	vh := a.res.VirtualHost
	delete(x.vhosts, vh)
	for _, r := range vh.GetRoutes() {
		delete(x.routes, r)
	}
}

// encode turns rc, fresh from envoy.RouteConfiguration and not shared, into
// its pre-encoded form (see above) and returns it. It consumes rc: its
// VirtualHosts move into the unknown fields, and the VirtualHosts the
// assembly created (those not indexed) lose their Routes.
func (x *wireIndex) encode(rc *route.RouteConfiguration) (*route.RouteConfiguration, error) {
	parts := make([][]byte, len(rc.GetVirtualHosts()))
	size := 0
	for i, vh := range rc.GetVirtualHosts() {
		b, ok := x.vhosts[vh]
		if !ok {
			var err error
			if b, err = x.encodeCreated(vh); err != nil {
				return nil, err
			}
		}
		parts[i] = b
		size += protowire.SizeTag(virtualHostsField) + protowire.SizeBytes(len(b))
	}
	out := make([]byte, 0, size)
	for _, b := range parts {
		out = protowire.AppendTag(out, virtualHostsField, protowire.BytesType)
		out = protowire.AppendBytes(out, b)
	}
	rc.VirtualHosts = nil
	rc.ProtoReflect().SetUnknown(out)
	return rc, nil
}

// encodeCreated encodes a VirtualHost the assembly created, whose Routes are
// the agents' (indexed, or encoded here when not), consuming its Routes.
func (x *wireIndex) encodeCreated(vh *route.VirtualHost) ([]byte, error) {
	routes := vh.Routes
	vh.Routes = nil
	head, err := marshalOptions.Marshal(vh)
	if err != nil {
		return nil, fmt.Errorf("marshal virtual host %q: %w", vh.GetName(), err)
	}
	parts := make([][]byte, len(routes))
	size := len(head)
	for i, r := range routes {
		b, ok := x.routes[r]
		if !ok {
			if b, err = marshalOptions.Marshal(r); err != nil {
				return nil, fmt.Errorf("marshal route %d of virtual host %q: %w", i, vh.GetName(), err)
			}
		}
		parts[i] = b
		size += protowire.SizeTag(routesField) + protowire.SizeBytes(len(b))
	}
	out := make([]byte, len(head), size)
	copy(out, head)
	for _, b := range parts {
		out = protowire.AppendTag(out, routesField, protowire.BytesType)
		out = protowire.AppendBytes(out, b)
	}
	return out, nil
}
