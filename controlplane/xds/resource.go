package xds

import (
	"fmt"
	"iter"
	"strconv"

	discovery "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/google/btree"
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

// resourceSet is the cache's resources by name: a copy-on-write btree, so
// that a snapshot of it costs O(1) and can be read outside the cache's
// mutex while the cache goes on changing its own copy (the path of each
// change is copied once after a snapshot). It is not safe for concurrent
// use; a snapshot may be read by any number of goroutines at once.
type resourceSet struct {
	tree *btree.BTreeG[named]
}

// named is one resource in a resourceSet, keyed by its name.
type named struct {
	name string
	r    *resource
}

// resourceDegree is the degree of a resourceSet's btree: small nodes keep
// the path copy of a change after a snapshot cheap.
const resourceDegree = 16

func newResourceSet() resourceSet {
	return resourceSet{tree: btree.NewG(resourceDegree, func(a, b named) bool { return a.name < b.name })}
}

// get returns the resource named name, or nil.
func (s resourceSet) get(name string) *resource {
	it, _ := s.tree.Get(named{name: name})
	return it.r
}

// set adds r, replacing the resource of the same name.
func (s resourceSet) set(r *resource) { s.tree.ReplaceOrInsert(named{name: r.name(), r: r}) }

// delete removes the resource named name, if any.
func (s resourceSet) delete(name string) { s.tree.Delete(named{name: name}) }

// len returns the number of resources.
func (s resourceSet) len() int { return s.tree.Len() }

// all yields every resource in name order.
func (s resourceSet) all() iter.Seq[*resource] {
	return func(yield func(*resource) bool) {
		s.tree.Ascend(func(it named) bool { return yield(it.r) })
	}
}

// snapshot returns an immutable copy of s: s may change afterwards, the
// copy never does. It must not be called concurrently with itself or with a
// change of s.
func (s resourceSet) snapshot() resourceSet { return resourceSet{tree: s.tree.Clone()} }

// snapshot is the cache's resources as of revision rev, read outside its
// mutex. Never modified.
type snapshot struct {
	rev int64
	set resourceSet
}
