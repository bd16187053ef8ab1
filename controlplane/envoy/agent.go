package envoy

import (
	"fmt"

	cluster "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpoint "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listener "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	route "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/proto"

	"github.com/sidecard/sidecard/registry"
)

// Names of the shared resources. Neither can be an agent's name (agent
// names have no '_'), so they never collide with an ApiListener.
const (
	RouteConfigName     = "sidecard"      // the RouteConfiguration of the HTTP listener
	HTTPListenerName    = "sidecard_http" // Envoy's HTTP listener
	PathVirtualHostName = "_a2a"          // the VirtualHost of /a2a/<name> paths on any other Host
)

// DomainSuffix makes <name>.agents.local a domain of every agent.
const DomainSuffix = ".agents.local"

// ClusterName returns the name of an agent's Cluster and of its
// ClusterLoadAssignment: agent.<name>.
func ClusterName(agent string) string { return "agent." + agent }

// AgentRouteConfigName returns the name of the RouteConfiguration inlined in
// an agent's ApiListener: sidecard.<name>.
func AgentRouteConfigName(agent string) string { return RouteConfigName + "." + agent }

// AgentResources are the Envoy resources of one agent. The zero value holds
// nothing; values come from Resources and are immutable once published.
type AgentResources struct {
	// Name is the agent's name, also the name of APIListener and VirtualHost.
	Name string
	// Cluster and LoadAssignment are both named ClusterName(Name).
	Cluster        *cluster.Cluster
	LoadAssignment *endpoint.ClusterLoadAssignment
	// VirtualHost is the agent's part of the shared RouteConfiguration; it
	// is also inlined in APIListener.
	VirtualHost *route.VirtualHost
	// APIListener is the Listener for proxyless gRPC (xds:///<name>).
	APIListener *listener.Listener
}

// Resource is one named xDS resource.
type Resource struct {
	TypeURL string // resourcev3.ClusterType, EndpointType, RouteType or ListenerType
	Name    string
	Message proto.Message
}

// List returns the agent's xDS resources (the VirtualHost is not one) in a
// fixed order: cluster, load assignment, listener. The slice is new.
func (a AgentResources) List() []Resource {
	return []Resource{
		{TypeURL: resourcev3.ClusterType, Name: a.Cluster.GetName(), Message: a.Cluster},
		{TypeURL: resourcev3.EndpointType, Name: a.LoadAssignment.GetClusterName(), Message: a.LoadAssignment},
		{TypeURL: resourcev3.ListenerType, Name: a.APIListener.GetName(), Message: a.APIListener},
	}
}

// Resources translates one registry entry into its Envoy resources. Only
// the entry's name and endpoints are read; e is not modified. It fails when
// opts or the name is invalid, when an endpoint URL cannot become a socket
// address, or when UpstreamTLS is on and the endpoints mix http and https.
func Resources(e *registry.Entry, opts Options) (AgentResources, error) {
	if e == nil {
		return AgentResources{}, fmt.Errorf("envoy resources: no entry")
	}
	if err := opts.Validate(); err != nil {
		return AgentResources{}, err
	}
	if err := registry.ValidateName(e.Name); err != nil {
		return AgentResources{}, fmt.Errorf("envoy resources of %q: %w", e.Name, err)
	}
	eps, err := parseEndpoints(e.Endpoints)
	if err != nil {
		return AgentResources{}, fmt.Errorf("envoy resources of %q: %w", e.Name, err)
	}
	c, err := newCluster(e.Name, eps, opts)
	if err != nil {
		return AgentResources{}, fmt.Errorf("envoy resources of %q: %w", e.Name, err)
	}
	vh := newVirtualHost(e.Name, opts)
	lis, err := newAPIListener(e.Name, vh)
	if err != nil {
		return AgentResources{}, fmt.Errorf("envoy resources of %q: %w", e.Name, err)
	}
	return AgentResources{
		Name:           e.Name,
		Cluster:        c,
		LoadAssignment: newLoadAssignment(e.Name, eps),
		VirtualHost:    vh,
		APIListener:    lis,
	}, nil
}
