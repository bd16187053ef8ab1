package envoy

import (
	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listener "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	route "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	router "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	hcm "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"github.com/envoyproxy/go-control-plane/pkg/wellknown"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// HTTPListener returns Envoy's HTTP listener sidecard_http on
// opts.ListenerAddress:ListenerPort: an HttpConnectionManager that reads the
// RouteConfiguration sidecard over ADS and ends with the router filter.
func HTTPListener(opts Options) (*listener.Listener, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	m, err := connectionManager("sidecard_http")
	if err != nil {
		return nil, err
	}
	m.CodecType = hcm.HttpConnectionManager_AUTO
	m.RouteSpecifier = &hcm.HttpConnectionManager_Rds{Rds: &hcm.Rds{
		ConfigSource:    adsSource(),
		RouteConfigName: RouteConfigName,
	}}
	a, err := toAny(m)
	if err != nil {
		return nil, err
	}
	return &listener.Listener{
		Name:    HTTPListenerName,
		Address: socketAddress(opts.ListenerAddress, opts.ListenerPort),
		FilterChains: []*listener.FilterChain{{Filters: []*listener.Filter{{
			Name:       wellknown.HTTPConnectionManager,
			ConfigType: &listener.Filter_TypedConfig{TypedConfig: a},
		}}}},
	}, nil
}

// newAPIListener returns the ApiListener <name> of proxyless gRPC, with the
// RouteConfiguration sidecard.<name> holding vh inline.
func newAPIListener(name string, vh *route.VirtualHost) (*listener.Listener, error) {
	m, err := connectionManager("sidecard_grpc")
	if err != nil {
		return nil, err
	}
	m.RouteSpecifier = &hcm.HttpConnectionManager_RouteConfig{RouteConfig: &route.RouteConfiguration{
		Name:         AgentRouteConfigName(name),
		VirtualHosts: []*route.VirtualHost{vh},
	}}
	a, err := toAny(m)
	if err != nil {
		return nil, err
	}
	return &listener.Listener{Name: name, ApiListener: &listener.ApiListener{ApiListener: a}}, nil
}

// connectionManager returns an HttpConnectionManager whose only HTTP filter
// is the router, as both Envoy and grpc-go require it last.
func connectionManager(statPrefix string) (*hcm.HttpConnectionManager, error) {
	r, err := toAny(&router.Router{})
	if err != nil {
		return nil, err
	}
	return &hcm.HttpConnectionManager{
		StatPrefix: statPrefix,
		HttpFilters: []*hcm.HttpFilter{{
			Name:       wellknown.Router,
			ConfigType: &hcm.HttpFilter_TypedConfig{TypedConfig: r},
		}},
	}, nil
}

// adsSource is the config source of resources that travel on the same ADS
// stream, the only one grpc-go accepts besides Self.
func adsSource() *core.ConfigSource {
	return &core.ConfigSource{
		ResourceApiVersion:    core.ApiVersion_V3,
		ConfigSourceSpecifier: &core.ConfigSource_Ads{Ads: &core.AggregatedConfigSource{}},
	}
}

// toAny packs m deterministically, so equal resources have equal bytes.
func toAny(m proto.Message) (*anypb.Any, error) {
	a := &anypb.Any{}
	if err := anypb.MarshalFrom(a, m, proto.MarshalOptions{Deterministic: true}); err != nil {
		return nil, err
	}
	return a, nil
}
