package xdsclient

import (
	"errors"
	"fmt"

	discovery "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"google.golang.org/protobuf/proto"

	"github.com/sidecard/sidecard/cache"
	"github.com/sidecard/sidecard/registry"
	registryv1 "github.com/sidecard/sidecard/registry/v1"
)

// decodeResponse turns a delta response into the change it makes to the
// replica, or returns the first reason to reject it whole: a foreign type
// URL, a resource without a body, of another type, that does not decode,
// whose agent name differs from the resource name or whose entry does not
// validate, a name given twice, or a name both updated and removed. The
// error names the resource and, for an invalid entry, the field.
func decodeResponse(resp *discovery.DeltaDiscoveryResponse) (cache.Delta, error) {
	if resp.GetTypeUrl() != registryv1.TypeURL {
		return cache.Delta{}, fmt.Errorf("response type %q, want %q", resp.GetTypeUrl(), registryv1.TypeURL)
	}
	d := cache.Delta{
		Upserts:       make([]*registry.Entry, 0, len(resp.GetResources())),
		Versions:      make(map[string]string, len(resp.GetResources())),
		Removes:       removedNames(resp),
		SystemVersion: resp.GetSystemVersionInfo(),
	}
	for _, r := range resp.GetResources() {
		e, err := decodeResource(r)
		if err != nil {
			return cache.Delta{}, err
		}
		if _, dup := d.Versions[e.Name]; dup {
			return cache.Delta{}, fmt.Errorf("resource %q: sent twice", e.Name)
		}
		d.Versions[e.Name] = r.GetVersion()
		d.Upserts = append(d.Upserts, e)
	}
	for _, name := range d.Removes {
		if _, ok := d.Versions[name]; ok {
			return cache.Delta{}, fmt.Errorf("resource %q: both updated and removed", name)
		}
	}
	return d, nil
}

// decodeResource decodes and validates one resource.
func decodeResource(r *discovery.Resource) (*registry.Entry, error) {
	name := r.GetName()
	body := r.GetResource()
	switch {
	case name == "":
		return nil, errors.New("resource without a name")
	case body == nil:
		return nil, fmt.Errorf("resource %q: no body", name)
	case body.GetTypeUrl() != registryv1.TypeURL:
		return nil, fmt.Errorf("resource %q: type %q, want %q", name, body.GetTypeUrl(), registryv1.TypeURL)
	}
	var a registryv1.Agent
	if err := proto.Unmarshal(body.GetValue(), &a); err != nil {
		return nil, fmt.Errorf("resource %q: decode: %w", name, err)
	}
	if a.GetName() != name {
		return nil, fmt.Errorf("resource %q: agent name %q differs from the resource name", name, a.GetName())
	}
	e, err := registry.FromProto(&a)
	if err != nil {
		if fe, ok := registry.AsFieldError(err); ok {
			return nil, fmt.Errorf("resource %q: %w", name, fe)
		}
		return nil, fmt.Errorf("resource %q: %w", name, err)
	}
	return e, nil
}

// removedNames returns the names the response removes, from both the
// removed_resources and the removed_resource_names fields.
func removedNames(resp *discovery.DeltaDiscoveryResponse) []string {
	names := resp.GetRemovedResources()
	if len(resp.GetRemovedResourceNames()) == 0 {
		return names
	}
	out := append(make([]string, 0, len(names)+len(resp.GetRemovedResourceNames())), names...)
	for _, rn := range resp.GetRemovedResourceNames() {
		out = append(out, rn.GetName())
	}
	return out
}
