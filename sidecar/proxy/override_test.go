package proxy

import (
	"strings"
	"testing"

	"github.com/sidecard/sidecard/registry"
)

// overrides builds an Overrides table or fails the test.
func overrides(t *testing.T, pins map[string][]registry.Endpoint) *Overrides {
	t.Helper()
	o, err := NewOverrides(pins)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// An override sends the requests of a registered agent to the pinned
// endpoints while the card stays the registry's; removing it sends them
// back; a name not in the replica can be pinned, has no card, and is
// dropped (pools closed) once unpinned.
func TestOverrides(t *testing.T) {
	registered, local, early := newUpstream(t, nil), newUpstream(t, nil), newUpstream(t, nil)
	e := newEnv(t, []*registry.Entry{simpleEntry(t, "weather", 1, registered.url)}, nil)

	e.do(t, "GET", "/a2a/weather", "", nil)
	e.p.SetOverrides(overrides(t, map[string][]registry.Endpoint{
		"weather": {ep(local.url + "/rpc")},
		"early":   {ep(early.url)},
	}))
	if r := e.do(t, "POST", "/a2a/weather/v1/message:send", "{}", nil); r.status != 200 {
		t.Fatalf("overridden request: %+v", r)
	}
	if got := local.requests(); len(got) != 1 || got[0].URI != "/rpc/v1/message:send" {
		t.Fatalf("the override endpoint saw %+v, want one request to /rpc/v1/message:send", got)
	}
	if registered.hits() != 1 {
		t.Errorf("the registered endpoint got %d requests, want only the one before the override", registered.hits())
	}
	card := e.do(t, "GET", "/a2a/weather/.well-known/agent-card.json", "", nil)
	if card.status != 200 || !strings.Contains(card.body, `"name":"weather"`) {
		t.Errorf("card of an overridden agent: %+v", card)
	}

	if r := e.do(t, "GET", "/a2a/early/x", "", nil); r.status != 200 || early.hits() != 1 {
		t.Fatalf("a pinned name not in the replica: %+v, %d hits", r, early.hits())
	}
	if r := e.do(t, "GET", "/a2a/early/.well-known/agent-card.json", "", nil); r.status != 404 || errorCode(t, r.body) != codeNotFound {
		t.Errorf("card of a pinned name not in the replica: %+v, want 404", r)
	}

	e.p.SetOverrides(nil)
	if agentOf(e.p, "early") != nil {
		t.Error("the unpinned agent not in the replica is still in the table")
	}
	if r := e.do(t, "GET", "/a2a/early/x", "", nil); r.status != 404 {
		t.Errorf("an unpinned name not in the replica: %+v, want 404", r)
	}
	e.do(t, "GET", "/a2a/weather", "", nil)
	if registered.hits() != 2 || local.hits() != 1 {
		t.Errorf("after the override is removed: registered %d, local %d requests, want 2 and 1", registered.hits(), local.hits())
	}
}

// A pin changed while its name leaves the replica still routes to the new
// endpoints: the agent is rebuilt rather than kept on an older view.
func TestOverrideChangedWhileUnregistered(t *testing.T) {
	first, second := newUpstream(t, nil), newUpstream(t, nil)
	e := newEnv(t, []*registry.Entry{simpleEntry(t, "x", 5, deadURL(t))}, nil)
	e.p.SetOverrides(overrides(t, map[string][]registry.Endpoint{"x": {ep(first.url)}}))
	e.do(t, "GET", "/a2a/x", "", nil)
	e.replica.Replace(nil, nil)
	e.p.SetOverrides(overrides(t, map[string][]registry.Endpoint{"x": {ep(second.url)}}))
	if r := e.do(t, "GET", "/a2a/x", "", nil); r.status != 200 || second.hits() != 1 {
		t.Fatalf("after the pin changed: %+v, %d requests to the new endpoint, want 1", r, second.hits())
	}
	if first.hits() != 1 {
		t.Errorf("the old pinned endpoint got %d requests, want 1", first.hits())
	}
}

func TestNewOverridesValidates(t *testing.T) {
	tests := []struct {
		name    string
		pins    map[string][]registry.Endpoint
		wantErr string
	}{
		{name: "empty", pins: nil},
		{name: "good", pins: map[string][]registry.Endpoint{"a": {ep("http://127.0.0.1:1/rpc"), {URL: "https://h", Weight: 3}}}},
		{name: "bad name", pins: map[string][]registry.Endpoint{"A_b": {ep("http://h")}}, wantErr: "A_b:"},
		{name: "no endpoints", pins: map[string][]registry.Endpoint{"a": nil}, wantErr: "a.endpoints: want 1 to 128"},
		{name: "relative url", pins: map[string][]registry.Endpoint{"a": {ep("/rpc")}}, wantErr: "a.endpoints[0].url:"},
		{name: "other scheme", pins: map[string][]registry.Endpoint{"a": {ep("grpc://h:1")}}, wantErr: "a.endpoints[0].url:"},
		{name: "duplicate", pins: map[string][]registry.Endpoint{"a": {ep("http://h"), ep("http://h")}}, wantErr: "endpoints[1].url: duplicate"},
		{name: "weight", pins: map[string][]registry.Endpoint{"a": {{URL: "http://h", Weight: 1_000_001}}}, wantErr: "endpoints[0].weight"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := NewOverrides(tt.pins)
			if tt.wantErr == "" {
				if err != nil || o.Len() != len(tt.pins) {
					t.Fatalf("NewOverrides = %v, %v; want %d pins", o, err, len(tt.pins))
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

// Routing an overridden registered name allocates nothing once the merged
// entry is built.
func TestOverrideRouteAllocations(t *testing.T) {
	o := overrides(t, map[string][]registry.Endpoint{"x": {ep("http://127.0.0.1:1")}})
	reg := simpleEntry(t, "x", 1, "http://10.0.0.1:1")
	r := routes{ix: registry.NewIndex(reg), ov: o}
	if e, ok := r.lookup("x"); !ok || e.Endpoints[0].URL != "http://127.0.0.1:1" || e.Card != reg.Card || e.Revision != 1 {
		t.Fatalf("lookup = %+v, %v; want the registry entry with the pinned endpoint", e, ok)
	}
	if n := testing.AllocsPerRun(100, func() { r.lookup("x") }); n != 0 {
		t.Errorf("lookup of an overridden name: %v allocations, want 0", n)
	}
}
