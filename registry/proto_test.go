package registry

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	registryv1 "github.com/sidecard/sidecard/registry/v1"
)

// readProtoCard parses a card fixture of testdata/cards.
func readProtoCard(t *testing.T, file string) *Card {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "cards", file))
	if err != nil {
		t.Fatal(err)
	}
	c, err := ParseCard(data)
	if err != nil {
		t.Fatalf("parse %s: %v", file, err)
	}
	return c
}

func TestProtoRoundTrip(t *testing.T) {
	v03 := readProtoCard(t, "v03-minimal.good.json")
	v10 := readProtoCard(t, "v10-minimal.good.json")
	at := time.Date(2026, 11, 22, 12, 0, 0, 123, time.UTC)
	tests := []struct {
		name  string
		entry *Entry
	}{
		{"every field", &Entry{
			Name:         "weather",
			Labels:       map[string]string{"team": "forecast", "zone": "eu-1"},
			Endpoints:    []Endpoint{{URL: "http://10.0.0.7:9001", Weight: 3}, {URL: "https://w.example.com", Weight: 1}},
			Card:         v03,
			TTLSeconds:   30,
			Revision:     42,
			UpdatedAt:    at,
			Source:       SourceAPI,
			RegisteredBy: "host-a",
		}},
		{"minimal v1.0 card", &Entry{Name: "currency", Card: v10}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := ToProto(tt.entry)
			wire, err := proto.Marshal(a)
			if err != nil {
				t.Fatal(err)
			}
			var decoded registryv1.Agent
			if err := proto.Unmarshal(wire, &decoded); err != nil {
				t.Fatal(err)
			}
			got, err := FromProto(&decoded)
			if err != nil {
				t.Fatalf("FromProto: %v", err)
			}
			if !got.ContentEqual(tt.entry) || got.Revision != tt.entry.Revision ||
				!got.UpdatedAt.Equal(tt.entry.UpdatedAt) || got.Source != tt.entry.Source ||
				got.RegisteredBy != tt.entry.RegisteredBy {
				t.Fatalf("round trip:\n got %+v\nwant %+v", got, tt.entry)
			}
			if got.Card.Name != tt.entry.Card.Name || got.Card.Spec != tt.entry.Card.Spec {
				t.Fatalf("card fields: got %q/%s, want %q/%s", got.Card.Name, got.Card.Spec, tt.entry.Card.Name, tt.entry.Card.Spec)
			}
		})
	}
}

func TestToProtoOwnership(t *testing.T) {
	e := &Entry{Name: "weather", Labels: map[string]string{"team": "forecast"}, Card: readProtoCard(t, "v03-minimal.good.json")}
	a := ToProto(e)
	a.Labels["team"] = "changed"
	if e.Labels["team"] != "forecast" {
		t.Fatal("ToProto shares the labels map with the entry")
	}
	if ToProto(nil) != nil {
		t.Fatal("ToProto(nil) is not nil")
	}
}

func TestFromProtoErrors(t *testing.T) {
	card := readProtoCard(t, "v03-minimal.good.json").JSON()
	tests := []struct {
		name  string
		agent *registryv1.Agent
		field string
	}{
		{"nil agent", nil, ""},
		{"bad name", &registryv1.Agent{Name: "Not_A_Name", CardJson: card}, "name"},
		{"no card", &registryv1.Agent{Name: "weather"}, "card"},
		{"card not JSON", &registryv1.Agent{Name: "weather", CardJson: []byte("{")}, ""},
		{"card missing skills", &registryv1.Agent{Name: "weather", CardJson: []byte(
			`{"protocolVersion":"0.3.0","name":"W","description":"d","url":"http://h/","version":"1",` +
				`"capabilities":{},"defaultInputModes":["text/plain"],"defaultOutputModes":["text/plain"]}`)}, "card.skills"},
		{"relative endpoint", &registryv1.Agent{Name: "weather", CardJson: card,
			Endpoints: []*registryv1.Endpoint{{Url: "/relative"}}}, "endpoints[0].url"},
		{"bad label", &registryv1.Agent{Name: "weather", CardJson: card,
			Labels: map[string]string{"bad key!": "v"}}, "labels"},
		{"invalid timestamp", &registryv1.Agent{Name: "weather", CardJson: card,
			UpdatedAt: &timestamppb.Timestamp{Seconds: -1 << 62}}, "updated_at"},
		{"ttl out of range", &registryv1.Agent{Name: "weather", CardJson: card, TtlSeconds: -1}, "ttl_seconds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := FromProto(tt.agent)
			if err == nil {
				t.Fatal("FromProto accepted an invalid agent")
			}
			fe, ok := AsFieldError(err)
			if !ok {
				t.Fatalf("error %v is not a *FieldError", err)
			}
			if tt.field != "" && !hasFieldPrefix(fe.Field, tt.field) {
				t.Fatalf("field %q, want it to start with %q (error %v)", fe.Field, tt.field, err)
			}
		})
	}
}

// hasFieldPrefix reports whether field is prefix or a path below it.
func hasFieldPrefix(field, prefix string) bool {
	if len(field) < len(prefix) || field[:len(prefix)] != prefix {
		return false
	}
	return len(field) == len(prefix) || field[len(prefix)] == '.' || field[len(prefix)] == '['
}

// FuzzFromProto feeds arbitrary wire bytes to FromProto: it must not panic,
// and what it accepts must survive ToProto and FromProto unchanged.
func FuzzFromProto(f *testing.F) {
	card, err := os.ReadFile(filepath.Join("testdata", "cards", "v03-minimal.good.json"))
	if err != nil {
		f.Fatal(err)
	}
	seed, err := proto.Marshal(&registryv1.Agent{Name: "weather", CardJson: card, Revision: 3, RegisteredBy: "host-a",
		Labels: map[string]string{"team": "forecast"}, Endpoints: []*registryv1.Endpoint{{Url: "http://h:1", Weight: 2}}})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, wire []byte) {
		var a registryv1.Agent
		if proto.Unmarshal(wire, &a) != nil {
			return
		}
		e, err := FromProto(&a)
		if err != nil {
			return
		}
		again, err := FromProto(ToProto(e))
		if err != nil {
			t.Fatalf("accepted entry does not round-trip: %v", err)
		}
		if !again.ContentEqual(e) || again.Revision != e.Revision || !again.UpdatedAt.Equal(e.UpdatedAt) ||
			again.RegisteredBy != e.RegisteredBy {
			t.Fatalf("round trip changed the entry:\n%+v\n%+v", e, again)
		}
	})
}
