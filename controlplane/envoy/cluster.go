package envoy

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"

	cluster "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpoint "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"github.com/envoyproxy/go-control-plane/pkg/wellknown"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/sidecard/sidecard/registry"
)

var errMixedSchemes = errors.New("endpoints mix http and https, and with upstream TLS a cluster has one transport socket")

// upstream is one distinct host and port of an agent's endpoints.
type upstream struct {
	host     string // a canonical IP address or a lowercase hostname
	port     uint32
	hostname bool // host is a hostname, not an IP address
	tls      bool // reached over https
	weight   uint32
}

// parseEndpoints turns endpoint URLs into upstreams, in order of first
// appearance; URLs that share a host and port (differing in path only) add
// their weights to one upstream.
func parseEndpoints(eps []registry.Endpoint) ([]upstream, error) {
	ups := make([]upstream, 0, len(eps))
	for i, ep := range eps {
		u, err := parseEndpoint(ep)
		if err != nil {
			return nil, fmt.Errorf("endpoints[%d]: %w", i, err)
		}
		j := slices.IndexFunc(ups, func(o upstream) bool { return o.host == u.host && o.port == u.port })
		switch {
		case j < 0:
			ups = append(ups, u)
		case ups[j].tls != u.tls:
			return nil, fmt.Errorf("endpoints[%d]: %s:%d is reached over both http and https", i, u.host, u.port)
		default:
			ups[j].weight += u.weight // at most 128 × 1e6: no overflow
		}
	}
	return ups, nil
}

// parseEndpoint parses an absolute http(s) URL; without a port, http means
// 80 and https 443. A weight of 0 counts as 1.
func parseEndpoint(ep registry.Endpoint) (upstream, error) {
	u, err := url.Parse(ep.URL)
	if err != nil {
		return upstream{}, fmt.Errorf("url: %w", err)
	}
	up := upstream{weight: max(ep.Weight, 1)}
	switch u.Scheme {
	case "http":
		up.port = 80
	case "https":
		up.port, up.tls = 443, true
	default:
		return upstream{}, fmt.Errorf("url %q: scheme must be http or https", ep.URL)
	}
	host := u.Hostname()
	if host == "" {
		return upstream{}, fmt.Errorf("url %q: no host", ep.URL)
	}
	if p := u.Port(); p != "" {
		n, err := strconv.ParseUint(p, 10, 16)
		if err != nil || n == 0 {
			return upstream{}, fmt.Errorf("url %q: port must be from 1 to 65535", ep.URL)
		}
		up.port = uint32(n)
	}
	if addr, err := netip.ParseAddr(host); err == nil {
		up.host = addr.String()
	} else {
		up.host, up.hostname = strings.ToLower(host), true
	}
	return up, nil
}

// newCluster returns the EDS cluster of an agent.
func newCluster(name string, ups []upstream, opts Options) (*cluster.Cluster, error) {
	c := &cluster.Cluster{
		Name:                 ClusterName(name),
		ClusterDiscoveryType: &cluster.Cluster_Type{Type: cluster.Cluster_EDS},
		EdsClusterConfig: &cluster.Cluster_EdsClusterConfig{
			EdsConfig:   adsSource(),
			ServiceName: ClusterName(name),
		},
		ConnectTimeout: durationpb.New(opts.ConnectTimeout),
		LbPolicy:       cluster.Cluster_ROUND_ROBIN,
	}
	if !opts.UpstreamTLS {
		return c, nil
	}
	tlsCount := 0
	for _, u := range ups {
		if u.tls {
			tlsCount++
		}
	}
	switch tlsCount {
	case 0:
		return c, nil
	case len(ups):
	default:
		return nil, errMixedSchemes
	}
	ts, err := upstreamTLS(opts)
	if err != nil {
		return nil, err
	}
	c.TransportSocket = ts
	return c, nil
}

// upstreamTLS returns the TLS transport socket of a cluster of https
// endpoints: SNI from each endpoint's hostname, and verification against
// Options.TrustedCAFile when set.
func upstreamTLS(opts Options) (*core.TransportSocket, error) {
	tc := &tlsv3.UpstreamTlsContext{
		CommonTlsContext: &tlsv3.CommonTlsContext{},
		AutoHostSni:      true,
	}
	if opts.TrustedCAFile != "" {
		tc.AutoSniSanValidation = true
		tc.CommonTlsContext.ValidationContextType = &tlsv3.CommonTlsContext_ValidationContext{
			ValidationContext: &tlsv3.CertificateValidationContext{
				TrustedCa: &core.DataSource{Specifier: &core.DataSource_Filename{Filename: opts.TrustedCAFile}},
			},
		}
	}
	a, err := toAny(tc)
	if err != nil {
		return nil, err
	}
	return &core.TransportSocket{
		Name:       wellknown.TransportSocketTLS,
		ConfigType: &core.TransportSocket_TypedConfig{TypedConfig: a},
	}, nil
}

// newLoadAssignment returns an agent's ClusterLoadAssignment: one locality
// of weight 1 with every upstream, or no locality without upstreams.
func newLoadAssignment(name string, ups []upstream) *endpoint.ClusterLoadAssignment {
	cla := &endpoint.ClusterLoadAssignment{ClusterName: ClusterName(name)}
	if len(ups) == 0 {
		return cla
	}
	lbs := make([]*endpoint.LbEndpoint, len(ups))
	for i, u := range ups {
		ep := &endpoint.Endpoint{Address: socketAddress(u.host, u.port)}
		if u.hostname {
			ep.Hostname = u.host
		}
		lbs[i] = &endpoint.LbEndpoint{
			HostIdentifier:      &endpoint.LbEndpoint_Endpoint{Endpoint: ep},
			LoadBalancingWeight: wrapperspb.UInt32(u.weight),
		}
	}
	cla.Endpoints = []*endpoint.LocalityLbEndpoints{{
		Locality:            &core.Locality{},
		LoadBalancingWeight: wrapperspb.UInt32(1),
		LbEndpoints:         lbs,
	}}
	return cla
}

func socketAddress(host string, port uint32) *core.Address {
	return &core.Address{Address: &core.Address_SocketAddress{SocketAddress: &core.SocketAddress{
		Protocol:      core.SocketAddress_TCP,
		Address:       host,
		PortSpecifier: &core.SocketAddress_PortValue{PortValue: port},
	}}}
}
