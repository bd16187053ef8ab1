package lookup

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sidecard/sidecard/registry"
	"github.com/sidecard/sidecard/sidecar/lookup/loadtest"
)

// jsonFields returns the JSON tags of t's fields, in order.
func jsonFields(t reflect.Type) []string {
	var out []string
	for f := range t.Fields() {
		if tag := f.Tag.Get("json"); tag != "" && tag != "-" {
			out = append(out, tag)
		}
	}
	return out
}

// TestEntryJSONFields keeps entryHead, "card" and entryTail in step with
// registry.Entry: a field added there fails here until marshalEntry knows it.
func TestEntryJSONFields(t *testing.T) {
	want := jsonFields(reflect.TypeFor[registry.Entry]())
	got := slices.Concat(jsonFields(reflect.TypeFor[entryHead]()), []string{"card,omitempty"},
		jsonFields(reflect.TypeFor[entryTail]()))
	if !slices.Equal(got, want) {
		t.Fatalf("marshalEntry fields %q, registry.Entry has %q", got, want)
	}
}

// TestMarshalEntry checks that marshalEntry returns exactly what
// json.Marshal does.
func TestMarshalEntry(t *testing.T) {
	base := testEntry(t, "weather", 3, "forecast", "weather", map[string]string{"team": "forecast", "zone": "eu-1"})
	edit := func(f func(*registry.Entry)) *registry.Entry {
		e := base.Clone()
		f(e)
		return e
	}
	cases := []struct {
		name  string
		entry *registry.Entry
	}{
		{name: "full", entry: base},
		{name: "no labels", entry: edit(func(e *registry.Entry) { e.Labels = nil })},
		{name: "no endpoints", entry: edit(func(e *registry.Entry) { e.Endpoints = nil })},
		{name: "no card", entry: edit(func(e *registry.Entry) { e.Card = nil })},
		{name: "zero card", entry: edit(func(e *registry.Entry) { e.Card = &registry.Card{} })},
		{name: "no tail", entry: edit(func(e *registry.Entry) {
			e.Revision, e.UpdatedAt, e.Source, e.TTLSeconds = 0, time.Time{}, "", 0
		})},
		{name: "lease", entry: edit(func(e *registry.Entry) { e.TTLSeconds = 30 })},
		{name: "only a name", entry: &registry.Entry{Name: "x"}},
		{name: "nanoseconds and zone", entry: edit(func(e *registry.Entry) {
			e.UpdatedAt = time.Date(2026, 1, 2, 3, 4, 5, 6, time.FixedZone("x", 3600))
		})},
		{name: "escapes", entry: edit(func(e *registry.Entry) {
			e.Source = "<&>\u2028\"\\\x01\xff"
			e.Labels = map[string]string{"a<b": "c&d", "z": "\u2029"}
		})},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want, err := json.Marshal(c.entry)
			if err != nil {
				t.Fatal(err)
			}
			got, err := marshalEntry(c.entry)
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("marshalEntry = %s, %v\nwant %s", got, err, want)
			}
		})
	}
}

// TestMarshalEntryGenerated compares marshalEntry with json.Marshal over
// a generated registry.
func TestMarshalEntryGenerated(t *testing.T) {
	entries, err := loadtest.Entries(500, 9)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		want, _ := json.Marshal(e)
		got, err := marshalEntry(e)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%s: marshalEntry = %s, %v\nwant %s", e.Name, got, err, want)
		}
	}
	if !strings.Contains(string(entryBody(t, entries[0])), `"card":{"protocolVersion"`) {
		t.Fatal("generated entries have no card")
	}
}
