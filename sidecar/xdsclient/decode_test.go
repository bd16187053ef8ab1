package xdsclient

import (
	"slices"
	"strings"
	"testing"

	discovery "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/sidecard/sidecard/registry"
	registryv1 "github.com/sidecard/sidecard/registry/v1"
)

// resource wraps m as the delta resource name at version.
func resource(t *testing.T, name, version string, m proto.Message) *discovery.Resource {
	return resourceF(t, name, version, m)
}

func resourceF(t testing.TB, name, version string, m proto.Message) *discovery.Resource {
	t.Helper()
	body, err := anypb.New(m)
	if err != nil {
		t.Fatal(err)
	}
	return &discovery.Resource{Name: name, Version: version, Resource: body}
}

// withCard returns a copy of a with card JSON card.
func withCard(a *registryv1.Agent, card string) *registryv1.Agent {
	a = proto.Clone(a).(*registryv1.Agent)
	a.CardJson = []byte(card)
	return a
}

func TestDecodeResponse(t *testing.T) {
	noSkillID := strings.Replace(string(testAgent("x", 1).GetCardJson()), `"id": "forecast", `, "", 1)
	tests := []struct {
		name        string
		resp        func(t *testing.T) *discovery.DeltaDiscoveryResponse
		wantUpserts []string
		wantRemoves []string
		wantErr     string // substring; "" means success
	}{
		{
			name: "upserts and removals",
			resp: func(t *testing.T) *discovery.DeltaDiscoveryResponse {
				return &discovery.DeltaDiscoveryResponse{TypeUrl: registryv1.TypeURL, SystemVersionInfo: "sys",
					Resources: []*discovery.Resource{
						resource(t, "alpha", "v1", testAgent("alpha", 1)),
						resource(t, "beta", "v2", testAgent("beta", 2)),
					},
					RemovedResources:     []string{"gone"},
					RemovedResourceNames: []*discovery.ResourceName{{Name: "also-gone"}},
				}
			},
			wantUpserts: []string{"alpha", "beta"},
			wantRemoves: []string{"gone", "also-gone"},
		},
		{
			name: "a foreign response type",
			resp: func(*testing.T) *discovery.DeltaDiscoveryResponse {
				return &discovery.DeltaDiscoveryResponse{TypeUrl: "type.googleapis.com/envoy.config.cluster.v3.Cluster"}
			},
			wantErr: "response type",
		},
		{
			name: "a resource without a name",
			resp: func(t *testing.T) *discovery.DeltaDiscoveryResponse {
				return response(resource(t, "", "v", testAgent("alpha", 1)))
			},
			wantErr: "without a name",
		},
		{
			name: "a resource without a body",
			resp: func(*testing.T) *discovery.DeltaDiscoveryResponse {
				return response(&discovery.Resource{Name: "alpha", Version: "v"})
			},
			wantErr: `resource "alpha": no body`,
		},
		{
			name: "a resource of another type",
			resp: func(t *testing.T) *discovery.DeltaDiscoveryResponse {
				return response(resource(t, "alpha", "v", wrapperspb.String("x")))
			},
			wantErr: `resource "alpha": type "type.googleapis.com/google.protobuf.StringValue"`,
		},
		{
			name: "a body that does not decode",
			resp: func(*testing.T) *discovery.DeltaDiscoveryResponse {
				return response(&discovery.Resource{Name: "alpha", Resource: &anypb.Any{
					TypeUrl: registryv1.TypeURL, Value: []byte{0xff, 0xff, 0xff}}})
			},
			wantErr: `resource "alpha": decode`,
		},
		{
			name: "an agent name differing from the resource name",
			resp: func(t *testing.T) *discovery.DeltaDiscoveryResponse {
				return response(resource(t, "alpha", "v", testAgent("other", 1)))
			},
			wantErr: `resource "alpha": agent name "other" differs`,
		},
		{
			name: "card JSON that does not parse",
			resp: func(t *testing.T) *discovery.DeltaDiscoveryResponse {
				return response(resource(t, "alpha", "v", testAgent("alpha", 1)),
					resource(t, "broken", "v", badCardAgent("broken")))
			},
			wantErr: `resource "broken": card`,
		},
		{
			name: "a card without a skill id",
			resp: func(t *testing.T) *discovery.DeltaDiscoveryResponse {
				return response(resource(t, "alpha", "v", withCard(testAgent("alpha", 1), noSkillID)))
			},
			wantErr: `resource "alpha": card.skills[0].id`,
		},
		{
			name: "a name sent twice",
			resp: func(t *testing.T) *discovery.DeltaDiscoveryResponse {
				return response(resource(t, "alpha", "v1", testAgent("alpha", 1)),
					resource(t, "alpha", "v2", testAgent("alpha", 2)))
			},
			wantErr: `resource "alpha": sent twice`,
		},
		{
			name: "a name both updated and removed",
			resp: func(t *testing.T) *discovery.DeltaDiscoveryResponse {
				r := response(resource(t, "alpha", "v1", testAgent("alpha", 1)))
				r.RemovedResources = []string{"alpha"}
				return r
			},
			wantErr: `resource "alpha": both updated and removed`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := decodeResponse(tt.resp(t))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range d.Upserts {
				got = append(got, e.Name)
				if d.Versions[e.Name] == "" {
					t.Errorf("no version for %q", e.Name)
				}
			}
			if !slices.Equal(got, tt.wantUpserts) || !slices.Equal(d.Removes, tt.wantRemoves) {
				t.Errorf("upserts %v removes %v, want %v %v", got, d.Removes, tt.wantUpserts, tt.wantRemoves)
			}
			if d.SystemVersion != "sys" {
				t.Errorf("SystemVersion = %q, want sys", d.SystemVersion)
			}
		})
	}
}

func TestDecodeResponseKeepsTheEntry(t *testing.T) {
	d, err := decodeResponse(response(resource(t, "alpha", "v9", testAgent("alpha", 9))))
	if err != nil {
		t.Fatal(err)
	}
	e := d.Upserts[0]
	wantEndpoints := []registry.Endpoint{{URL: "http://10.0.0.7:9001", Weight: 1}}
	switch {
	case e.Name != "alpha" || e.Labels["team"] != "forecast" || !slices.Equal(e.Endpoints, wantEndpoints):
		t.Errorf("name, labels or endpoints: %+v", e)
	case e.Revision != 9 || !e.UpdatedAt.Equal(testUpdatedAt) || e.Source != "api":
		t.Errorf("revision, updated_at or source: %+v", e)
	case e.Card == nil || e.Card.Name != "alpha":
		t.Errorf("card: %+v", e.Card)
	case d.Versions["alpha"] != "v9":
		t.Errorf("version %q, want v9", d.Versions["alpha"])
	}
}

// response returns a registry-type delta response of resources.
func response(resources ...*discovery.Resource) *discovery.DeltaDiscoveryResponse {
	return &discovery.DeltaDiscoveryResponse{TypeUrl: registryv1.TypeURL, Resources: resources, Nonce: "1"}
}

// FuzzDecodeResponse checks that no wire response makes the decoder panic
// and that an accepted one yields valid entries.
func FuzzDecodeResponse(f *testing.F) {
	ok, err := proto.Marshal(response(resourceF(f, "alpha", "v1", testAgent("alpha", 1))))
	if err != nil {
		f.Fatal(err)
	}
	bad, err := proto.Marshal(response(resourceF(f, "broken", "v1", badCardAgent("broken"))))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(ok)
	f.Add(bad)
	f.Fuzz(func(t *testing.T, data []byte) {
		var resp discovery.DeltaDiscoveryResponse
		if proto.Unmarshal(data, &resp) != nil {
			return
		}
		d, err := decodeResponse(&resp)
		if err != nil {
			return
		}
		for _, e := range d.Upserts {
			if err := e.Validate(); err != nil {
				t.Fatalf("accepted an invalid entry: %v", err)
			}
		}
	})
}
