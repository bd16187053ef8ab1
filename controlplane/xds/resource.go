package xds

import (
	"fmt"
	"strconv"

	discovery "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/sidecard/sidecard/registry"
	registryv1 "github.com/sidecard/sidecard/registry/v1"
)

// resource is one entry in the form streams receive it, built once per
// change and shared, read-only, by every response that carries it.
type resource struct {
	// match holds the entry's name and labels only, for visibility checks.
	match *registry.Entry
	// revision is the store revision of the entry; wire.Version is its
	// decimal form.
	revision int64
	// wire is the delta form of the resource; wire.Resource is the Any that
	// state-of-the-world responses carry.
	wire *discovery.Resource
}

// marshalOptions makes the bytes of a resource depend on its content only.
var marshalOptions = proto.MarshalOptions{Deterministic: true}

// newResource builds the resource of e. Its version is e.Revision, or
// revision when e.Revision is 0.
func newResource(e *registry.Entry, revision int64) (*resource, error) {
	if e.Revision != 0 {
		revision = e.Revision
	}
	msg := registry.ToProto(e)
	msg.Revision = revision
	b, err := marshalOptions.Marshal(msg)
	if err != nil {
		return nil, fmt.Errorf("marshal agent %q: %w", e.Name, err)
	}
	return &resource{
		match:    &registry.Entry{Name: e.Name, Labels: e.Labels},
		revision: revision,
		wire: &discovery.Resource{
			Name:     e.Name,
			Version:  strconv.FormatInt(revision, 10),
			Resource: &anypb.Any{TypeUrl: registryv1.TypeURL, Value: b},
		},
	}, nil
}

// name returns the resource's name.
func (r *resource) name() string { return r.match.Name }

// version returns the resource's version: its revision in decimal.
func (r *resource) version() string { return r.wire.Version }

// matchOrNil returns r.match, or nil for a nil resource.
func (r *resource) matchOrNil() *registry.Entry {
	if r == nil {
		return nil
	}
	return r.match
}
