package envoy

import (
	"fmt"
	"slices"
	"strings"

	route "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// An agent's VirtualHost has these routes, in this order: the first
// pathRoutes also serve in the shared _a2a VirtualHost.
const (
	agentRoutes = 3 // /a2a/<name>, /a2a/<name>/, catch-all
	pathRoutes  = 2
)

// newVirtualHost returns an agent's VirtualHost. Its domains are, in this
// order, <name>, <name>:*, <name>.agents.local, <name>.agents.local:*
// (withoutAliases relies on it).
func newVirtualHost(name string, opts Options) *route.VirtualHost {
	local := name + DomainSuffix
	c := ClusterName(name)
	return &route.VirtualHost{
		Name:    name,
		Domains: []string{name, name + ":*", local, local + ":*"},
		Routes: []*route.Route{
			newRoute(&route.RouteMatch{PathSpecifier: &route.RouteMatch_Path{Path: "/a2a/" + name}}, c, "/", opts),
			newRoute(&route.RouteMatch{PathSpecifier: &route.RouteMatch_Prefix{Prefix: "/a2a/" + name + "/"}}, c, "/", opts),
			newRoute(&route.RouteMatch{PathSpecifier: &route.RouteMatch_Prefix{Prefix: ""}}, c, "", opts),
		},
	}
}

// newRoute routes match to cluster c, replacing the matched path or prefix
// with rewrite unless it is empty.
func newRoute(match *route.RouteMatch, c, rewrite string, opts Options) *route.Route {
	return &route.Route{
		Match: match,
		Action: &route.Route_Route{Route: &route.RouteAction{
			ClusterSpecifier:     &route.RouteAction_Cluster{Cluster: c},
			PrefixRewrite:        rewrite,
			HostRewriteSpecifier: &route.RouteAction_AutoHostRewrite{AutoHostRewrite: wrapperspb.Bool(true)},
			Timeout:              durationpb.New(opts.RequestTimeout),
		}},
	}
}

// RouteConfiguration assembles the shared RouteConfiguration sidecard for
// Envoy's HTTP listener from the agents' VirtualHosts, which must come from
// Resources and be sorted by name without duplicates (it fails otherwise).
// It adds the VirtualHost _a2a, last, which routes /a2a/<name> paths of
// every agent for any other Host.
//
// When an agent is named <base>.agents.local and agent <base> exists, the
// domains <base>.agents.local[:*] belong to the former (Envoy refuses a
// domain in two virtual hosts): <base>'s VirtualHost is copied without them.
//
// The result shares the given VirtualHosts and their Routes; vhosts itself
// is not retained. Cost: O(len(vhosts)) pointer copies.
func RouteConfiguration(vhosts []*route.VirtualHost) (*route.RouteConfiguration, error) {
	for i, vh := range vhosts {
		if len(vh.GetRoutes()) != agentRoutes || len(vh.GetDomains()) != 4 {
			return nil, fmt.Errorf("route configuration: virtual host %d (%q) was not built by Resources", i, vh.GetName())
		}
		if i > 0 && vhosts[i-1].GetName() >= vh.GetName() {
			return nil, fmt.Errorf("route configuration: virtual hosts not sorted by name or duplicated: %q before %q",
				vhosts[i-1].GetName(), vh.GetName())
		}
	}
	out := make([]*route.VirtualHost, len(vhosts), len(vhosts)+1)
	copy(out, vhosts)
	paths := make([]*route.Route, 0, pathRoutes*len(vhosts))
	for _, vh := range vhosts {
		paths = append(paths, vh.Routes[:pathRoutes]...)
		base, ok := strings.CutSuffix(vh.Name, DomainSuffix)
		if !ok {
			continue
		}
		if j, found := slices.BinarySearchFunc(vhosts, base, func(v *route.VirtualHost, name string) int {
			return strings.Compare(v.GetName(), name)
		}); found {
			out[j] = withoutAliases(vhosts[j])
		}
	}
	out = append(out, &route.VirtualHost{Name: PathVirtualHostName, Domains: []string{"*"}, Routes: paths})
	return &route.RouteConfiguration{Name: RouteConfigName, VirtualHosts: out}, nil
}

// withoutAliases returns a copy of an agent's VirtualHost with only the
// domains <name> and <name>:*, sharing its routes.
func withoutAliases(vh *route.VirtualHost) *route.VirtualHost {
	return &route.VirtualHost{Name: vh.Name, Domains: slices.Clone(vh.Domains[:2]), Routes: vh.Routes}
}
