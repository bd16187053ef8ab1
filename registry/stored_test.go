package registry_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sidecard/sidecard/registry"
)

// TestCardFromStoredMatchesParseCard reads the normalised JSON of every good
// card fixture (v0.3 and v1.0, snake_case ones included) and of the cards of
// the entry fixtures with CardFromStored, and wants the very card ParseCard
// returned: same spec, indexed fields and JSON.
func TestCardFromStoredMatchesParseCard(t *testing.T) {
	cards := map[string]*registry.Card{}
	files, err := filepath.Glob("testdata/cards/*.good.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no good card fixtures: %v", err)
	}
	for _, file := range files {
		card, err := registry.ParseCard(readTestdata(t, file))
		if err != nil {
			t.Fatalf("ParseCard(%s): %v", file, err)
		}
		cards[filepath.Base(file)] = card
	}
	entries, err := filepath.Glob("testdata/entries/*.json")
	if err != nil || len(entries) == 0 {
		t.Fatalf("no entry fixtures: %v", err)
	}
	for _, file := range entries {
		e, err := registry.ParseEntry(readTestdata(t, file), "")
		if err != nil {
			t.Fatalf("ParseEntry(%s): %v", file, err)
		}
		cards[filepath.Base(file)] = e.Card
	}
	specs := map[registry.SpecVersion]int{}
	for name, parsed := range cards {
		t.Run(name, func(t *testing.T) {
			specs[parsed.Spec]++
			stored := append([]byte(nil), parsed.JSON()...)
			got, err := registry.CardFromStored(stored)
			if err != nil {
				t.Fatalf("CardFromStored: %v", err)
			}
			if !reflect.DeepEqual(got, parsed) {
				t.Fatalf("CardFromStored differs from ParseCard:\nstored: %+v\nparsed: %+v", *got, *parsed)
			}
			clear(stored) // the card keeps its own copy
			if string(got.JSON()) != string(parsed.JSON()) {
				t.Fatalf("the card's JSON changed with the caller's buffer: %s", got.JSON())
			}
		})
	}
	if specs[registry.SpecV03] == 0 || specs[registry.SpecV10] == 0 {
		t.Fatalf("fixtures per spec: %v, want both shapes", specs)
	}
}

func TestCardFromStoredErrors(t *testing.T) {
	tests := []struct {
		name, data, wantMsg string
	}{
		{"empty", "", "invalid JSON"},
		{"spaces", " \n", "invalid JSON"},
		{"truncated", `{"name":"a"`, "invalid JSON"},
		{"two values", `{} {}`, "invalid JSON"},
		{"null", "null", "must be a JSON object"},
		{"array", `[{"name":"a"}]`, "must be a JSON object"},
		{"string", `"card"`, "must be a JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			card, err := registry.CardFromStored([]byte(tt.data))
			if card != nil {
				t.Fatalf("card %+v with error %v", *card, err)
			}
			wantFieldError(t, err, "card", tt.wantMsg)
		})
	}
}

// TestCardFromStoredTrusts shows what CardFromStored does not check: a card
// ParseCard refuses is read as it is, without panicking.
func TestCardFromStoredTrusts(t *testing.T) {
	tests := []struct {
		name    string
		data    string
		want    registry.Card
		wantRaw string
	}{
		{"empty object", ` {} `, registry.Card{Spec: registry.SpecV03,
			Interfaces: []registry.Interface{{ProtocolBinding: "JSONRPC"}}}, `{}`},
		{"no interfaces", `{"supportedInterfaces":[],"name":"x"}`,
			registry.Card{Spec: registry.SpecV10, Name: "x"}, `{"supportedInterfaces":[],"name":"x"}`},
		{"duplicate skill ids, snake_case kept", `{"skills":[{"id":"a"},{"id":"a"}],"default_input_modes":1}`,
			registry.Card{Spec: registry.SpecV03, Interfaces: []registry.Interface{{ProtocolBinding: "JSONRPC"}},
				Skills: []registry.Skill{{ID: "a"}, {ID: "a"}}},
			`{"skills":[{"id":"a"},{"id":"a"}],"default_input_modes":1}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			card, err := registry.CardFromStored([]byte(tt.data))
			if err != nil {
				t.Fatalf("CardFromStored: %v", err)
			}
			if !reflect.DeepEqual(exported(*card), tt.want) || string(card.JSON()) != tt.wantRaw {
				t.Fatalf("CardFromStored = %+v %s\nwant %+v %s", exported(*card), card.JSON(), tt.want, tt.wantRaw)
			}
		})
	}
}

// FuzzCardFromStored checks that CardFromStored never panics, fails only
// with a *FieldError for "card", and reads the JSON of every card ParseCard
// accepts as ParseCard does.
func FuzzCardFromStored(f *testing.F) {
	for _, data := range fuzzSeeds(f, "testdata/cards/*.json", "testdata/entries/*.json") {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		card, err := registry.CardFromStored(data)
		if err != nil {
			if fe, ok := registry.AsFieldError(err); !ok || fe.Field != "card" || card != nil {
				t.Fatalf("CardFromStored(%s) error %v (%T) with card %v", data, err, err, card)
			}
		}
		parsed, err := registry.ParseCard(data)
		if err != nil {
			return
		}
		stored, err := registry.CardFromStored(parsed.JSON())
		if err != nil || !reflect.DeepEqual(stored, parsed) {
			t.Fatalf("CardFromStored(normalised) = %+v, %v\nParseCard = %+v", stored, err, parsed)
		}
	})
}

func BenchmarkCardFromStored(b *testing.B) {
	for _, fixture := range []string{"v03-minimal", "v03-full", "v10-full"} {
		data, err := os.ReadFile("testdata/cards/" + fixture + ".normalized.json")
		if err != nil {
			b.Fatal(err)
		}
		data = []byte(strings.TrimSpace(string(data)))
		b.Run(fixture, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := registry.CardFromStored(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// storedEntries returns the entry fixtures, parsed, each with every field set
// as the store sets them.
func storedEntries(t *testing.T) map[string]*registry.Entry {
	t.Helper()
	files, err := filepath.Glob("testdata/entries/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no entry fixtures: %v", err)
	}
	entries := map[string]*registry.Entry{}
	for i, file := range files {
		e, err := registry.ParseEntry(readTestdata(t, file), "")
		if err != nil {
			t.Fatalf("ParseEntry(%s): %v", file, err)
		}
		if e.Labels == nil {
			e.Labels = map[string]string{}
		}
		e.Labels["quote"] = `a "b" <c>`
		e.Endpoints = append(e.Endpoints, registry.Endpoint{URL: "http://10.9.9.9:80", Weight: 1_000_000})
		e.TTLSeconds = int64(30 + i)
		e.Revision = int64(1<<40 + i)
		e.UpdatedAt = time.Date(2026, 11, 22, 12, 0, 0, 123456789+i, time.FixedZone("", 3600*i))
		e.Source = registry.SourceFile
		e.RegisteredBy = "ci-token"
		entries[filepath.Base(file)] = e
	}
	return entries
}

// TestEntryFromStoredMatchesUnmarshal decodes the stored form (json.Marshal)
// of entries with every field set and wants what encoding/json decodes from
// it, the card parsed by ParseCard.
func TestEntryFromStoredMatchesUnmarshal(t *testing.T) {
	for name, e := range storedEntries(t) {
		t.Run(name, func(t *testing.T) {
			v := reflect.ValueOf(*e)
			for i := range v.NumField() {
				if v.Field(i).IsZero() { // a new field EntryFromStored must decode
					t.Fatalf("the test entry leaves Entry.%s zero", v.Type().Field(i).Name)
				}
			}
			stored, err := json.Marshal(e)
			if err != nil {
				t.Fatal(err)
			}
			want := new(registry.Entry)
			if err := json.Unmarshal(stored, want); err != nil {
				t.Fatal(err)
			}
			got, err := registry.EntryFromStored(stored)
			if err != nil {
				t.Fatalf("EntryFromStored: %v", err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("EntryFromStored differs from json.Unmarshal:\ngot:  %+v\nwant: %+v", *got, *want)
			}
			clear(stored) // nothing aliases the stored bytes
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("the entry changed with the caller's buffer: %+v", *got)
			}
		})
	}
}

func TestEntryFromStoredNulls(t *testing.T) {
	got, err := registry.EntryFromStored([]byte(`{"name":"a","labels":null,"endpoints":null,"card":null,` +
		`"ttl_seconds":null,"revision":null,"updated_at":null,"source":null,"other":[1]}`))
	if err != nil {
		t.Fatalf("EntryFromStored: %v", err)
	}
	if !reflect.DeepEqual(got, &registry.Entry{Name: "a"}) {
		t.Fatalf("EntryFromStored = %+v, want only the name", *got)
	}
}

func TestEntryFromStoredErrors(t *testing.T) {
	tests := []struct {
		name, data, wantField, wantMsg string
	}{
		{"empty", "", "", "invalid JSON"},
		{"truncated", `{"name":"a"`, "", "invalid JSON"},
		{"array", `[]`, "", "must be a JSON object"},
		{"name not a string", `{"name":1}`, "name", "must be a string"},
		{"labels not an object", `{"labels":[]}`, "labels", "must be an object"},
		{"label not a string", `{"labels":{"a":1}}`, "labels.a", "must be a string"},
		{"endpoints not an array", `{"endpoints":{}}`, "endpoints", "must be an array"},
		{"endpoint weight", `{"endpoints":[{"url":"http://a","weight":-1}]}`, "endpoints[0].weight", "must be an integer"},
		{"card not an object", `{"card":"x"}`, "card", "must be a JSON object"},
		{"revision not a number", `{"revision":"7"}`, "revision", "must be a number"},
		{"negative ttl", `{"ttl_seconds":-5}`, "ttl_seconds", "must be an integer"},
		{"bad time", `{"updated_at":"yesterday"}`, "updated_at", "cannot parse"},
		{"source not a string", `{"source":true}`, "source", "must be a string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := registry.EntryFromStored([]byte(tt.data))
			if e != nil {
				t.Fatalf("entry %+v with error %v", *e, err)
			}
			wantFieldError(t, err, tt.wantField, tt.wantMsg)
		})
	}
}

// FuzzEntryFromStored checks that EntryFromStored never panics, fails only
// with a *FieldError, and decodes the stored form of every entry ParseEntry
// accepts as encoding/json does.
func FuzzEntryFromStored(f *testing.F) {
	for _, data := range fuzzSeeds(f, "testdata/entries/*.json", "testdata/cards/*.good.json") {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := registry.EntryFromStored(data)
		if err != nil {
			if _, ok := registry.AsFieldError(err); !ok || e != nil {
				t.Fatalf("EntryFromStored(%s) error %v (%T) with entry %v", data, err, err, e)
			}
		}
		parsed, err := registry.ParseEntry(data, "")
		if err != nil {
			return
		}
		stored, err := json.Marshal(parsed)
		if err != nil {
			t.Fatal(err)
		}
		want := new(registry.Entry)
		if err := json.Unmarshal(stored, want); err != nil {
			t.Fatal(err)
		}
		got, err := registry.EntryFromStored(stored)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("EntryFromStored(%s) = %+v, %v\njson.Unmarshal = %+v", stored, got, err, want)
		}
	})
}
