package envoy

import (
	"encoding/json"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	endpoint "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	route "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/proto"

	"github.com/sidecard/sidecard/registry"
)

// card is a minimal A2A v0.3 card whose url is u.
func card(u string) json.RawMessage {
	return json.RawMessage(`{"protocolVersion":"0.3.0","name":"Agent","description":"An agent","url":"` + u +
		`","version":"1","capabilities":{},"defaultInputModes":["text"],"defaultOutputModes":["text"],"skills":[]}`)
}

// entryJSON is the API form of an entry named name with endpoints eps.
func entryJSON(t *testing.T, name string, eps ...registry.Endpoint) string {
	t.Helper()
	b, err := json.Marshal(struct {
		Name      string              `json:"name"`
		Endpoints []registry.Endpoint `json:"endpoints,omitempty"`
		Card      json.RawMessage     `json:"card"`
	}{name, eps, card("http://card.invalid/")})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

const plannerV10 = `{
  "supportedInterfaces": [
    {"url": "https://planner.example.com/a2a", "protocolBinding": "JSONRPC", "protocolVersion": "1.0"},
    {"url": "grpc://planner.example.com:50051", "protocolBinding": "GRPC", "protocolVersion": "1.0"},
    {"url": "https://planner.example.com:8443/rest", "protocolBinding": "HTTP+JSON", "protocolVersion": "1.0"},
    {"url": "https://planner.example.com/a2a/v2", "protocolBinding": "JSONRPC", "protocolVersion": "1.1"}
  ],
  "name": "Trip Planner", "description": "Plans trips", "version": "1.0.0", "capabilities": {},
  "defaultInputModes": ["text/plain"], "defaultOutputModes": ["text/plain"],
  "skills": [{"id": "plan", "name": "Plan", "description": "Plans", "tags": ["travel"]}]
}`

func TestGolden(t *testing.T) {
	type ep = registry.Endpoint
	tests := []struct {
		name    string
		entries func(t *testing.T) []string // API forms, as PUT /v1/agents takes them
		opts    func(o *Options)
		remove  []string // agents removed, one by one, after all were translated
	}{
		{name: "one-endpoint", entries: func(t *testing.T) []string {
			return []string{entryJSON(t, "echo", ep{URL: "http://10.0.0.7:9001"})}
		}},
		{name: "weighted", entries: func(t *testing.T) []string {
			return []string{entryJSON(t, "weather",
				ep{URL: "http://10.0.0.7:9001", Weight: 3},
				ep{URL: "http://10.0.0.8:9001"},
				ep{URL: "http://10.0.0.9/", Weight: 2},
				ep{URL: "http://10.0.0.7:9001/other", Weight: 1}, // same address as the first: 3 + 1
				ep{URL: "http://[fd00:0::1]:9001", Weight: 5})}
		}},
		{name: "hostname", entries: func(t *testing.T) []string {
			return []string{entryJSON(t, "search", ep{URL: "http://Search.Example.com:8080/a2a"})}
		}},
		{name: "v10-card", entries: func(t *testing.T) []string { return []string{plannerV10} }},
		{name: "https", entries: func(t *testing.T) []string {
			return []string{entryJSON(t, "vault", ep{URL: "https://10.0.0.5"}, ep{URL: "https://vault.example.com:8443/"})}
		}, opts: func(o *Options) {
			o.TrustedCAFile = "/etc/ssl/certs/ca-certificates.crt"
			o.ConnectTimeout = 250 * time.Millisecond
			o.RequestTimeout = time.Minute
		}},
		{name: "https-without-upstream-tls", entries: func(t *testing.T) []string {
			return []string{entryJSON(t, "mixed", ep{URL: "https://10.0.0.5"}, ep{URL: "http://10.0.0.6"})}
		}, opts: func(o *Options) { o.UpstreamTLS = false }},
		{name: "no-endpoints", entries: func(t *testing.T) []string {
			return []string{`{"name": "grpc-only", "card": ` + string(card("grpc://10.0.0.3:50051")) + `}`}
		}},
		{name: "removal", entries: func(t *testing.T) []string {
			return []string{
				entryJSON(t, "alpha", ep{URL: "http://10.0.1.1:9001"}),
				entryJSON(t, "beta", ep{URL: "http://10.0.1.2:9001"}),
				entryJSON(t, "gamma", ep{URL: "http://10.0.1.3:9001"}),
			}
		}, remove: []string{"beta"}},
		{name: "domain-collision", entries: func(t *testing.T) []string {
			return []string{
				entryJSON(t, "weather", ep{URL: "http://10.0.2.1:9001"}),
				entryJSON(t, "weather.agents.local", ep{URL: "http://10.0.2.2:9001"}),
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := DefaultOptions()
			if tt.opts != nil {
				tt.opts(&opts)
			}
			var entries []*registry.Entry
			for _, data := range tt.entries(t) {
				e, err := registry.ParseEntry([]byte(data), "")
				if err != nil {
					t.Fatalf("ParseEntry: %v", err)
				}
				entries = append(entries, e)
			}
			agents, vhosts := translate(t, entries, opts)
			for _, name := range tt.remove { // as an incremental server would
				i, found := slices.BinarySearchFunc(agents, name, func(a AgentResources, n string) int {
					return strings.Compare(a.Name, n)
				})
				if !found {
					t.Fatalf("remove %q: not translated", name)
				}
				agents, vhosts = slices.Delete(agents, i, i+1), slices.Delete(vhosts, i, i+1)
			}
			rc, err := RouteConfiguration(vhosts)
			if err != nil {
				t.Fatalf("RouteConfiguration: %v", err)
			}

			var msgs []proto.Message
			for _, a := range agents {
				checkLoadAssignment(t, a.LoadAssignment)
				for _, r := range a.List() {
					msgs = append(msgs, r.Message)
				}
			}
			checkDomains(t, rc)
			msgs = append(msgs, rc)
			for _, m := range msgs {
				if err := validateAll(m); err != nil {
					t.Errorf("Validate: %v", err)
				}
			}
			checkGolden(t, tt.name, goldenJSON(t, msgs))

			if len(tt.remove) > 0 { // incremental removal = translation of what remains
				var kept []*registry.Entry
				for _, e := range entries {
					if !slices.Contains(tt.remove, e.Name) {
						kept = append(kept, e)
					}
				}
				_, keptVhosts := translate(t, kept, opts)
				want, err := RouteConfiguration(keptVhosts)
				if err != nil {
					t.Fatalf("RouteConfiguration of the kept agents: %v", err)
				}
				if !proto.Equal(rc, want) {
					t.Errorf("route configuration after removal differs from a fresh one of the kept agents")
				}
			}
		})
	}
}

func TestHTTPListenerGolden(t *testing.T) {
	tests := []struct {
		name string
		opts func(o *Options)
	}{
		{name: "http-listener-default"},
		{name: "http-listener-ipv6", opts: func(o *Options) { o.ListenerAddress, o.ListenerPort = "::", 8080 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := DefaultOptions()
			if tt.opts != nil {
				tt.opts(&opts)
			}
			l, err := HTTPListener(opts)
			if err != nil {
				t.Fatalf("HTTPListener: %v", err)
			}
			if err := validateAll(l); err != nil {
				t.Errorf("Validate: %v", err)
			}
			checkGolden(t, tt.name, goldenJSON(t, []proto.Message{l}))
		})
	}
}

// translate returns the resources of entries and their VirtualHosts, both
// sorted by name.
func translate(t *testing.T, entries []*registry.Entry, opts Options) ([]AgentResources, []*route.VirtualHost) {
	t.Helper()
	agents := make([]AgentResources, 0, len(entries))
	for _, e := range entries {
		a, err := Resources(e, opts)
		if err != nil {
			t.Fatalf("Resources(%q): %v", e.Name, err)
		}
		agents = append(agents, a)
	}
	slices.SortFunc(agents, func(a, b AgentResources) int { return strings.Compare(a.Name, b.Name) })
	vhosts := make([]*route.VirtualHost, len(agents))
	for i, a := range agents {
		vhosts[i] = a.VirtualHost
	}
	return agents, vhosts
}

// checkLoadAssignment checks what grpc-go would otherwise refuse or ignore:
// a locality with weight 0, endpoints with weight 0, duplicate addresses.
func checkLoadAssignment(t *testing.T, cla *endpoint.ClusterLoadAssignment) {
	t.Helper()
	seen := map[string]bool{}
	for _, loc := range cla.GetEndpoints() {
		if loc.GetLocality() == nil || loc.GetLoadBalancingWeight().GetValue() == 0 {
			t.Errorf("%s: locality without id or with weight 0", cla.GetClusterName())
		}
		for _, lb := range loc.GetLbEndpoints() {
			sa := lb.GetEndpoint().GetAddress().GetSocketAddress()
			addr := net.JoinHostPort(sa.GetAddress(), strconv.Itoa(int(sa.GetPortValue())))
			if seen[addr] {
				t.Errorf("%s: duplicate address %s", cla.GetClusterName(), addr)
			}
			seen[addr] = true
			if lb.GetLoadBalancingWeight().GetValue() == 0 {
				t.Errorf("%s: %s has weight 0", cla.GetClusterName(), addr)
			}
		}
	}
}

// checkDomains checks what Envoy would otherwise refuse: a domain in two
// virtual hosts, or two virtual hosts with one name.
func checkDomains(t *testing.T, rc *route.RouteConfiguration) {
	t.Helper()
	domains, names := map[string]string{}, map[string]bool{}
	for _, vh := range rc.GetVirtualHosts() {
		if names[vh.GetName()] {
			t.Errorf("virtual host name %q used twice", vh.GetName())
		}
		names[vh.GetName()] = true
		for _, d := range vh.GetDomains() {
			if other, dup := domains[d]; dup {
				t.Errorf("domain %q in virtual hosts %q and %q", d, other, vh.GetName())
			}
			domains[d] = vh.GetName()
		}
	}
}
