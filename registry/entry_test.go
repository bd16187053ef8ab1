package registry_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/sidecard/sidecard/registry"
)

func TestParseEntryFixtures(t *testing.T) {
	tests := []struct {
		name      string
		file      string
		pathName  string
		wantName  string
		wantLabel map[string]string
		wantEps   []registry.Endpoint
		wantTTL   int64
		wantSpec  registry.SpecVersion
	}{
		{"entry", "weather", "", "weather",
			map[string]string{"team": "forecast", "zone": "eu-1", "sidecard.io/tier": "gold"},
			[]registry.Endpoint{{URL: "http://10.0.0.7:9001", Weight: 3}, {URL: "http://10.0.0.8:9001", Weight: 1}},
			30, registry.SpecV03},
		{"entry with the same path name", "weather", "weather", "weather",
			map[string]string{"team": "forecast", "zone": "eu-1", "sidecard.io/tier": "gold"},
			[]registry.Endpoint{{URL: "http://10.0.0.7:9001", Weight: 3}, {URL: "http://10.0.0.8:9001", Weight: 1}},
			30, registry.SpecV03},
		{"v1.0 entry without endpoints or name", "planner-v10", "", "trip-planner", map[string]string{"team": "travel"},
			[]registry.Endpoint{{URL: "https://planner.example.com/a2a", Weight: 1}, {URL: "https://planner.example.com/rest", Weight: 1}},
			0, registry.SpecV10},
		{"v1.0 entry named by the path", "planner-v10", "planner", "planner", map[string]string{"team": "travel"},
			[]registry.Endpoint{{URL: "https://planner.example.com/a2a", Weight: 1}, {URL: "https://planner.example.com/rest", Weight: 1}},
			0, registry.SpecV10},
		{"bare v0.3 card", "bare-card", "", "echo-bot", nil,
			[]registry.Endpoint{{URL: "http://127.0.0.1:9100/", Weight: 1}, {URL: "http://127.0.0.1:9101/", Weight: 1}},
			0, registry.SpecV03},
		{"bare card named by the path", "bare-card", "echo", "echo", nil,
			[]registry.Endpoint{{URL: "http://127.0.0.1:9100/", Weight: 1}, {URL: "http://127.0.0.1:9101/", Weight: 1}},
			0, registry.SpecV03},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := registry.ParseEntry(readTestdata(t, "testdata/entries/"+tt.file+".json"), tt.pathName)
			if err != nil {
				t.Fatalf("ParseEntry: %v", err)
			}
			want := &registry.Entry{Name: tt.wantName, Labels: tt.wantLabel, Endpoints: tt.wantEps,
				TTLSeconds: tt.wantTTL, Card: e.Card}
			if !e.ContentEqual(want) || fmt.Sprint(e.Endpoints) != fmt.Sprint(tt.wantEps) {
				t.Errorf("entry:\ngot:  %+v\nwant: %+v", *e, *want)
			}
			if e.Revision != 0 || !e.UpdatedAt.IsZero() || e.Source != "" || e.RegisteredBy != "" {
				t.Errorf("store fields were read from the body: %d %v %q %q", e.Revision, e.UpdatedAt, e.Source, e.RegisteredBy)
			}
			if e.Card.Spec != tt.wantSpec {
				t.Errorf("card spec = %s, want %s", e.Card.Spec, tt.wantSpec)
			}
		})
	}
}

func TestParseEntryNames(t *testing.T) {
	tests := []struct {
		name      string
		pathName  string
		bodyName  any // nil: no "name" key
		cardName  string
		wantName  string
		wantError string
	}{
		{"path only", "weather", nil, "Whatever", "weather", ""},
		{"body only", "", "weather", "Whatever", "weather", ""},
		{"both equal", "weather", "weather", "Whatever", "weather", ""},
		{"empty body name counts as none", "weather", "", "Whatever", "weather", ""},
		{"derived", "", nil, "Weather Agent", "weather-agent", ""},
		{"derived when the body name is empty", "", "", "Weather Agent", "weather-agent", ""},
		{"both differ", "weather", "climate", "Whatever", "", `"climate" does not match the name "weather" in the path`},
		{"invalid path name", "Weather", nil, "Whatever", "", "not a DNS subdomain"},
		{"invalid body name", "", "weather_agent", "Whatever", "", "not a DNS subdomain"},
		{"body name not a string", "", 42, "Whatever", "", "must be a string"},
		{"underivable", "", nil, "!!!", "", "cannot derive a name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := map[string]any{"card": cardMap(t, "v03-minimal", func(m map[string]any) { m["name"] = tt.cardName })}
			if tt.bodyName != nil {
				body["name"] = tt.bodyName
			}
			e, err := registry.ParseEntry(mustJSON(t, body), tt.pathName)
			if tt.wantError != "" {
				wantFieldError(t, err, "name", tt.wantError)
				return
			}
			if err != nil {
				t.Fatalf("ParseEntry: %v", err)
			}
			if e.Name != tt.wantName {
				t.Errorf("name = %q, want %q", e.Name, tt.wantName)
			}
		})
	}
}

func TestParseEntryErrors(t *testing.T) {
	card := string(mustJSON(t, cardMap(t, "v03-minimal", nil)))
	entry := func(fields string) string { return `{"name": "a", ` + fields + `, "card": ` + card + `}` }
	manyLabels := make([]string, 65)
	for i := range manyLabels {
		manyLabels[i] = fmt.Sprintf(`"k%d": "v"`, i)
	}
	manyEndpoints := make([]string, 129)
	for i := range manyEndpoints {
		manyEndpoints[i] = fmt.Sprintf(`{"url": "http://h%d"}`, i)
	}
	tests := []struct {
		name      string
		body      string
		wantField string
		wantMsg   string
	}{
		{"syntax", `{"name": "a",}`, "", "invalid JSON at offset 14"},
		{"empty", ``, "", "invalid JSON"},
		{"not an object", `["card"]`, "", "must be a JSON object"},
		{"neither entry nor card", `{"name": "a", "url": "http://a"}`, "", "neither an entry"},
		{"too large", `{"name": "` + strings.Repeat("a", registry.MaxEntryBytes) + `"}`, "", "too large"},
		{"unknown key", entry(`"ttl": 3`), "ttl", "unknown field"},
		{"camelCase key", entry(`"ttlSeconds": 3`), "ttlSeconds", "unknown field"},
		{"duplicate key", entry(`"name": "b"`), "name", "duplicate key"},
		{"card null", `{"name": "a", "card": null}`, "card", "required"},
		{"card not an object", `{"name": "a", "card": []}`, "card", "must be a JSON object"},
		{"card error", `{"name": "a", "card": {"name": 1}}`, "card.name", "must be a string"},
		{"bare card error", `{"skills": [{"id": 1}]}`, "card.skills[0].id", "must be a string"},
		{"labels not an object", entry(`"labels": ["a"]`), "labels", "must be an object"},
		{"label value a number", entry(`"labels": {"team": 1}`), "labels.team", "must be a string"},
		{"label duplicate", entry(`"labels": {"team": "a", "team": "b"}`), "labels.team", "duplicate key"},
		{"label key with a space", entry(`"labels": {"my team": "a"}`), "labels.my team", "invalid key"},
		{"label key prefix upper case", entry(`"labels": {"Example.com/team": "a"}`), "labels.Example.com/team", "invalid key: prefix"},
		{"label key two slashes", entry(`"labels": {"a/b/c": "a"}`), "labels.a/b/c", "invalid key"},
		{"label key name too long", entry(`"labels": {"` + strings.Repeat("k", 64) + `": "a"}`),
			"labels." + strings.Repeat("k", 64), "invalid key"},
		{"label value with a space", entry(`"labels": {"team": "a b"}`), "labels.team", "invalid value"},
		{"label value too long", entry(`"labels": {"team": "` + strings.Repeat("v", 64) + `"}`), "labels.team", "invalid value"},
		{"label value ends with a dash", entry(`"labels": {"team": "a-"}`), "labels.team", "invalid value"},
		{"too many labels", entry(`"labels": {` + strings.Join(manyLabels, ",") + `}`), "labels", "at most 64 labels"},
		{"endpoints not an array", entry(`"endpoints": {"url": "http://a"}`), "endpoints", "must be an array"},
		{"endpoint not an object", entry(`"endpoints": ["http://a"]`), "endpoints[0]", "must be an object"},
		{"endpoint url relative", entry(`"endpoints": [{"url": "http://a"}, {"url": "/b"}]`), "endpoints[1].url", "absolute URL"},
		{"endpoint url grpc", entry(`"endpoints": [{"url": "grpc://a:1"}]`), "endpoints[0].url", "scheme http, https"},
		{"endpoint url missing", entry(`"endpoints": [{"weight": 2}]`), "endpoints[0].url", "must not be empty"},
		{"endpoint url a number", entry(`"endpoints": [{"url": 1}]`), "endpoints[0].url", "must be a string"},
		{"endpoint weight a string", entry(`"endpoints": [{"url": "http://a", "weight": "1"}]`), "endpoints[0].weight", "must be a number"},
		{"endpoint weight negative", entry(`"endpoints": [{"url": "http://a", "weight": -1}]`),
			"endpoints[0].weight", "must be an integer from 0 to 1000000"},
		{"endpoint weight fraction", entry(`"endpoints": [{"url": "http://a", "weight": 1.5}]`), "endpoints[0].weight", "integer"},
		{"endpoint weight too large", entry(`"endpoints": [{"url": "http://a", "weight": 1000001}]`), "endpoints[0].weight", "integer"},
		{"endpoint unknown key", entry(`"endpoints": [{"url": "http://a", "host": "a"}]`), "endpoints[0].host", "unknown field"},
		{"endpoint duplicate", entry(`"endpoints": [{"url": "http://a"}, {"url": "http://a", "weight": 2}]`),
			"endpoints[1].url", "duplicate of endpoints[0]"},
		{"too many endpoints", entry(`"endpoints": [` + strings.Join(manyEndpoints, ",") + `]`), "endpoints", "at most 128"},
		{"ttl negative", entry(`"ttl_seconds": -1`), "ttl_seconds", "from 0 to 86400"},
		{"ttl too large", entry(`"ttl_seconds": 86401`), "ttl_seconds", "from 0 to 86400"},
		{"ttl a string", entry(`"ttl_seconds": "30"`), "ttl_seconds", "must be a number"},
		{"ttl exponent", entry(`"ttl_seconds": 3e1`), "ttl_seconds", "integer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := registry.ParseEntry([]byte(tt.body), "")
			if e != nil {
				t.Errorf("ParseEntry returned an entry with an error")
			}
			wantFieldError(t, err, tt.wantField, tt.wantMsg)
		})
	}
}

func TestParseEntryEndpointDefaults(t *testing.T) {
	card := string(mustJSON(t, cardMap(t, "v03-minimal", nil)))
	tests := []struct {
		name string
		body string
		want []registry.Endpoint
	}{
		{"absent", `{"card": ` + card + `}`, []registry.Endpoint{{URL: "http://10.0.0.7:9001/a2a", Weight: 1}}},
		{"null", `{"endpoints": null, "card": ` + card + `}`, []registry.Endpoint{{URL: "http://10.0.0.7:9001/a2a", Weight: 1}}},
		{"every optional field null", `{"name": null, "labels": null, "endpoints": null, "ttl_seconds": null, ` +
			`"revision": null, "updated_at": null, "source": null, "registered_by": null, "card": ` + card + `}`,
			[]registry.Endpoint{{URL: "http://10.0.0.7:9001/a2a", Weight: 1}}},
		{"empty", `{"endpoints": [], "card": ` + card + `}`, []registry.Endpoint{{URL: "http://10.0.0.7:9001/a2a", Weight: 1}}},
		{"weight 0 becomes 1", `{"endpoints": [{"url": "https://a", "weight": 0}, {"url": "https://b", "weight": 5}], "card": ` +
			card + `}`, []registry.Endpoint{{URL: "https://a", Weight: 1}, {URL: "https://b", Weight: 5}}},
		{"grpc card url gives none", `{"card": ` + strings.Replace(card, "http://10.0.0.7:9001/a2a", "grpc://10.0.0.7:9001", 1) + `}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := registry.ParseEntry([]byte(tt.body), "x")
			if err != nil {
				t.Fatalf("ParseEntry: %v", err)
			}
			if fmt.Sprint(e.Endpoints) != fmt.Sprint(tt.want) {
				t.Errorf("endpoints = %v, want %v", e.Endpoints, tt.want)
			}
		})
	}
}

// TestEntryRoundTrip marshals parsed entries and parses them again.
func TestEntryRoundTrip(t *testing.T) {
	for _, file := range []string{"weather", "planner-v10", "bare-card"} {
		t.Run(file, func(t *testing.T) {
			e, err := registry.ParseEntry(readTestdata(t, "testdata/entries/"+file+".json"), "")
			if err != nil {
				t.Fatalf("ParseEntry: %v", err)
			}
			e.Revision, e.UpdatedAt, e.Source = 7, time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC), registry.SourceAPI
			e.RegisteredBy = "host-a"
			data, err := json.Marshal(e)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(data, []byte(`"card":`+string(e.Card.JSON()))) {
				t.Errorf("the card is not verbatim in %s", data)
			}
			for _, pathName := range []string{"", e.Name} {
				again, err := registry.ParseEntry(data, pathName)
				if err != nil {
					t.Fatalf("ParseEntry(marshalled, %q): %v", pathName, err)
				}
				if !e.ContentEqual(again) {
					t.Errorf("round trip changed the entry:\nfirst:  %+v\nsecond: %+v", *e, *again)
				}
			}
		})
	}
}

func TestEntryJSONForm(t *testing.T) {
	card, err := registry.ParseCard(readTestdata(t, "testdata/cards/v03-full.good.json"))
	if err != nil {
		t.Fatal(err)
	}
	e := &registry.Entry{
		Name: "planner", Labels: map[string]string{"zone": "eu-1", "team": "travel"},
		Endpoints: []registry.Endpoint{{URL: "http://10.0.0.7:9001?a=1&b=2", Weight: 1}},
		Card:      card, TTLSeconds: 30, Revision: 42,
		UpdatedAt: time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC), Source: registry.SourceAPI, RegisteredBy: "host-a",
	}
	got, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"name":"planner","labels":{"team":"travel","zone":"eu-1"},` +
		`"endpoints":[{"url":"http://10.0.0.7:9001?a=1\u0026b=2","weight":1}],"card":` + string(card.JSON()) +
		`,"ttl_seconds":30,"revision":42,"updated_at":"2026-11-22T12:00:00Z","source":"api","registered_by":"host-a"}`
	if string(got) != want {
		t.Errorf("json.Marshal(entry):\ngot:  %s\nwant: %s", got, want)
	}
	minimal, err := json.Marshal(&registry.Entry{Name: "a", Card: card})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"name":"a","card":` + string(card.JSON()) + `}`; string(minimal) != want {
		t.Errorf("json.Marshal(minimal entry):\ngot:  %s\nwant: %s", minimal, want)
	}
}

func TestEntryValidate(t *testing.T) {
	card, err := registry.ParseCard(readTestdata(t, "testdata/cards/v03-minimal.good.json"))
	if err != nil {
		t.Fatal(err)
	}
	valid := func(mutate func(e *registry.Entry)) *registry.Entry {
		e := &registry.Entry{Name: "weather", Labels: map[string]string{"team": "forecast", "example.com/tier": ""},
			Endpoints: []registry.Endpoint{{URL: "http://10.0.0.7:9001"}}, Card: card, TTLSeconds: 30}
		if mutate != nil {
			mutate(e)
		}
		return e
	}
	tests := []struct {
		name      string
		entry     *registry.Entry
		wantField string // "" when valid
		wantMsg   string
	}{
		{"valid", valid(nil), "", ""},
		{"no labels or endpoints", valid(func(e *registry.Entry) { e.Labels, e.Endpoints = nil, nil }), "", ""},
		{"nil", nil, "", "no entry"},
		{"bad name", valid(func(e *registry.Entry) { e.Name = "Weather" }), "name", "DNS subdomain"},
		{"bad labels reported in key order", valid(func(e *registry.Entry) {
			e.Labels = map[string]string{"z z": "1", "b b": "1", "m m": "1", "a": "ok"}
		}), "labels.b b", "invalid key"},
		{"too many labels", valid(func(e *registry.Entry) {
			e.Labels = make(map[string]string)
			for i := range 65 {
				e.Labels[fmt.Sprint("k", i)] = "v"
			}
		}), "labels", "at most 64"},
		{"bad endpoint", valid(func(e *registry.Entry) { e.Endpoints[0].URL = "10.0.0.7:9001" }), "endpoints[0].url", ""},
		{"endpoint weight too large", valid(func(e *registry.Entry) { e.Endpoints[0].Weight = 1 << 31 }),
			"endpoints[0].weight", "from 0 to 1000000"},
		{"ttl negative", valid(func(e *registry.Entry) { e.TTLSeconds = -5 }), "ttl_seconds", ""},
		{"nil card", valid(func(e *registry.Entry) { e.Card = nil }), "card", "required"},
		{"zero card", valid(func(e *registry.Entry) { e.Card = &registry.Card{Name: "x"} }), "card", "required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.entry.Validate()
			if tt.wantField == "" && tt.wantMsg == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			wantFieldError(t, err, tt.wantField, tt.wantMsg)
		})
	}
}

func TestEntryClone(t *testing.T) {
	e, err := registry.ParseEntry(readTestdata(t, "testdata/entries/weather.json"), "")
	if err != nil {
		t.Fatal(err)
	}
	c := e.Clone()
	if !c.ContentEqual(e) || c.Card != e.Card {
		t.Fatalf("clone differs or does not share the card")
	}
	c.Labels["team"] = "changed"
	c.Endpoints[0].URL = "http://changed"
	if e.Labels["team"] != "forecast" || e.Endpoints[0].URL != "http://10.0.0.7:9001" {
		t.Errorf("changing the clone changed the original: %+v", *e)
	}
	var nilEntry *registry.Entry
	if nilEntry.Clone() != nil {
		t.Error("Clone of nil is not nil")
	}
}

func TestEntryContentEqual(t *testing.T) {
	cardA, err := registry.ParseCard(readTestdata(t, "testdata/cards/v03-minimal.good.json"))
	if err != nil {
		t.Fatal(err)
	}
	cardB, err := registry.ParseCard(readTestdata(t, "testdata/cards/v10-minimal.good.json"))
	if err != nil {
		t.Fatal(err)
	}
	base := &registry.Entry{Name: "a", Labels: map[string]string{"k": "v"},
		Endpoints: []registry.Endpoint{{URL: "http://a", Weight: 1}, {URL: "http://b", Weight: 2}},
		Card:      cardA, TTLSeconds: 10, Revision: 1, Source: registry.SourceAPI}
	with := func(mutate func(e *registry.Entry)) *registry.Entry {
		e := base.Clone()
		mutate(e)
		return e
	}
	tests := []struct {
		name  string
		other *registry.Entry
		want  bool
	}{
		{"same", base.Clone(), true},
		{"store fields differ", with(func(e *registry.Entry) {
			e.Revision, e.UpdatedAt, e.Source, e.RegisteredBy = 9, time.Now(), registry.SourceFile, "host-b"
		}), true},
		{"weight 0 is 1", with(func(e *registry.Entry) { e.Endpoints[0].Weight = 0 }), true},
		{"same card parsed twice", with(func(e *registry.Entry) {
			e.Card, _ = registry.ParseCard(cardA.JSON())
		}), true},
		{"name", with(func(e *registry.Entry) { e.Name = "b" }), false},
		{"label value", with(func(e *registry.Entry) { e.Labels["k"] = "w" }), false},
		{"extra label", with(func(e *registry.Entry) { e.Labels["j"] = "v" }), false},
		{"endpoint order", with(func(e *registry.Entry) { e.Endpoints[0], e.Endpoints[1] = e.Endpoints[1], e.Endpoints[0] }), false},
		{"endpoint weight", with(func(e *registry.Entry) { e.Endpoints[1].Weight = 3 }), false},
		{"endpoint removed", with(func(e *registry.Entry) { e.Endpoints = e.Endpoints[:1] }), false},
		{"ttl", with(func(e *registry.Entry) { e.TTLSeconds = 0 }), false},
		{"card", with(func(e *registry.Entry) { e.Card = cardB }), false},
		{"no card", with(func(e *registry.Entry) { e.Card = nil }), false},
		{"nil", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := base.ContentEqual(tt.other); got != tt.want {
				t.Errorf("ContentEqual = %v, want %v", got, tt.want)
			}
			if got := tt.other.ContentEqual(base); got != tt.want {
				t.Errorf("ContentEqual (swapped) = %v, want %v", got, tt.want)
			}
		})
	}
	empty := &registry.Entry{Name: "a", Labels: map[string]string{}, Endpoints: []registry.Endpoint{}}
	if !empty.ContentEqual(&registry.Entry{Name: "a"}) {
		t.Error("empty and nil labels and endpoints are not equal")
	}
	var nilEntry *registry.Entry
	if !nilEntry.ContentEqual(nil) {
		t.Error("two nil entries are not equal")
	}
}

func TestEntryMatchesSelector(t *testing.T) {
	e := &registry.Entry{Name: "a", Labels: map[string]string{"team": "forecast", "zone": "eu-1", "tier": ""}}
	tests := []struct {
		name string
		sel  map[string]string
		want bool
	}{
		{"nil", nil, true},
		{"empty", map[string]string{}, true},
		{"one match", map[string]string{"team": "forecast"}, true},
		{"all match", maps.Clone(e.Labels), true},
		{"empty value present", map[string]string{"tier": ""}, true},
		{"value differs", map[string]string{"team": "lang"}, false},
		{"key absent", map[string]string{"region": "eu"}, false},
		{"empty value absent", map[string]string{"region": ""}, false},
		{"one of two differs", map[string]string{"team": "forecast", "zone": "us-1"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := e.MatchesSelector(tt.sel); got != tt.want {
				t.Errorf("MatchesSelector(%v) = %v, want %v", tt.sel, got, tt.want)
			}
		})
	}
	if !(&registry.Entry{Name: "b"}).MatchesSelector(nil) {
		t.Error("an entry without labels does not match the empty selector")
	}
}

// cardMap returns testdata/cards/<fixture>.good.json decoded, mutated by
// mutate when it is not nil.
func cardMap(t *testing.T, fixture string, mutate func(map[string]any)) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(readTestdata(t, "testdata/cards/"+fixture+".good.json"), &m); err != nil {
		t.Fatal(err)
	}
	if mutate != nil {
		mutate(m)
	}
	return m
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
