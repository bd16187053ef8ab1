package registry_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/sidecard/sidecard/registry"
)

var updateCardGolden = flag.Bool("update-card-golden", false, "rewrite testdata/cards/*.normalized.json")

// TestParseCardGoodFixtures parses every testdata/cards/*.good.json, compares
// the normalised JSON with its golden file and checks that parsing the
// normalised JSON again changes nothing.
func TestParseCardGoodFixtures(t *testing.T) {
	files, err := filepath.Glob("testdata/cards/*.good.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no good card fixtures: %v", err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".good.json")
		t.Run(name, func(t *testing.T) {
			card, err := registry.ParseCard(readTestdata(t, file))
			if err != nil {
				t.Fatalf("ParseCard: %v", err)
			}
			golden := strings.TrimSuffix(file, ".good.json") + ".normalized.json"
			if *updateCardGolden {
				if err := os.WriteFile(golden, append(bytes.Clone(card.JSON()), '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if want := bytes.TrimSpace(readTestdata(t, golden)); !bytes.Equal(card.JSON(), want) {
				t.Errorf("normalised card differs from %s (run with -update-card-golden)\ngot:  %s\nwant: %s",
					golden, card.JSON(), want)
			}
			again, err := registry.ParseCard(card.JSON())
			if err != nil {
				t.Fatalf("ParseCard(normalised): %v", err)
			}
			if !reflect.DeepEqual(card, again) {
				t.Errorf("reparsing the normalised card changed it:\nfirst:  %+v\nsecond: %+v", card, again)
			}
		})
	}
}

func TestParseCardBadFixtures(t *testing.T) {
	tests := []struct {
		file      string
		wantField string
		wantMsg   string
	}{
		{"not-object", "card", "must be a JSON object"},
		{"syntax", "card", "invalid JSON at offset 31"},
		{"v03-missing-skill-tags", "card.skills[2].tags", "required"},
		{"v03-tags-not-strings", "card.skills[0].tags[1]", "must be a string"},
		{"v03-relative-url", "card.url", "must be an absolute URL"},
		{"v03-duplicate-skill-id", "card.skills[1].id", `duplicate skill id "a"`},
		{"v03-snake-and-camel", "card.protocolVersion", "duplicate key"},
		{"v10-bad-binding", "card.supportedInterfaces[0].protocolBinding", `"SOAP" is not one of JSONRPC, GRPC, HTTP+JSON`},
		{"v10-no-interfaces", "card.supportedInterfaces", "must not be empty"},
		{"v10-interface-without-url", "card.supportedInterfaces[1].url", "required"},
		{"v10-capabilities-not-bool", "card.capabilities.streaming", "must be a boolean"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			_, err := registry.ParseCard(readTestdata(t, "testdata/cards/"+tt.file+".bad.json"))
			wantFieldError(t, err, tt.wantField, tt.wantMsg)
		})
	}
}

// TestParseCardRequired removes each required field in turn.
func TestParseCardRequired(t *testing.T) {
	type mutation = func(m map[string]any)
	drop := func(keys ...any) mutation {
		return func(m map[string]any) {
			parent := lookup(m, keys[:len(keys)-1]...).(map[string]any)
			delete(parent, keys[len(keys)-1].(string))
		}
	}
	withAdditional := func(key string) mutation {
		return func(m map[string]any) {
			iface := map[string]any{"url": "http://b:2", "transport": "GRPC"}
			delete(iface, key)
			m["additionalInterfaces"] = []any{iface}
		}
	}
	tests := []struct {
		name      string
		fixture   string
		mutate    mutation
		wantField string
	}{
		{"v03 protocolVersion", "v03-minimal", drop("protocolVersion"), "card.protocolVersion"},
		{"v03 name", "v03-minimal", drop("name"), "card.name"},
		{"v03 description", "v03-minimal", drop("description"), "card.description"},
		{"v03 url", "v03-minimal", drop("url"), "card.url"},
		{"v03 version", "v03-minimal", drop("version"), "card.version"},
		{"v03 capabilities", "v03-minimal", drop("capabilities"), "card.capabilities"},
		{"v03 defaultInputModes", "v03-minimal", drop("defaultInputModes"), "card.defaultInputModes"},
		{"v03 defaultOutputModes", "v03-minimal", drop("defaultOutputModes"), "card.defaultOutputModes"},
		{"v03 skills", "v03-minimal", drop("skills"), "card.skills"},
		{"v03 skill id", "v03-minimal", drop("skills", 0, "id"), "card.skills[0].id"},
		{"v03 skill name", "v03-minimal", drop("skills", 0, "name"), "card.skills[0].name"},
		{"v03 skill description", "v03-minimal", drop("skills", 0, "description"), "card.skills[0].description"},
		{"v03 skill tags", "v03-minimal", drop("skills", 0, "tags"), "card.skills[0].tags"},
		{"v03 interface url", "v03-minimal", withAdditional("url"), "card.additionalInterfaces[0].url"},
		{"v03 interface transport", "v03-minimal", withAdditional("transport"), "card.additionalInterfaces[0].transport"},
		{"v10 name", "v10-minimal", drop("name"), "card.name"},
		{"v10 description", "v10-minimal", drop("description"), "card.description"},
		{"v10 version", "v10-minimal", drop("version"), "card.version"},
		{"v10 capabilities", "v10-minimal", drop("capabilities"), "card.capabilities"},
		{"v10 defaultInputModes", "v10-minimal", drop("defaultInputModes"), "card.defaultInputModes"},
		{"v10 defaultOutputModes", "v10-minimal", drop("defaultOutputModes"), "card.defaultOutputModes"},
		{"v10 skills", "v10-minimal", drop("skills"), "card.skills"},
		{"v10 skill tags", "v10-minimal", drop("skills", 0, "tags"), "card.skills[0].tags"},
		{"v10 interface url", "v10-minimal", drop("supportedInterfaces", 0, "url"), "card.supportedInterfaces[0].url"},
		{"v10 interface protocolBinding", "v10-minimal", drop("supportedInterfaces", 0, "protocolBinding"),
			"card.supportedInterfaces[0].protocolBinding"},
		{"v10 interface protocolVersion", "v10-minimal", drop("supportedInterfaces", 0, "protocolVersion"),
			"card.supportedInterfaces[0].protocolVersion"},
		{"null counts as missing", "v03-minimal", func(m map[string]any) { m["url"] = nil }, "card.url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := registry.ParseCard(mutateFixture(t, tt.fixture, tt.mutate))
			wantFieldError(t, err, tt.wantField, "required")
		})
	}
}

func TestParseCardTypesAndValues(t *testing.T) {
	set := func(value any, keys ...any) func(map[string]any) {
		return func(m map[string]any) {
			parent := lookup(m, keys[:len(keys)-1]...)
			switch p := parent.(type) {
			case map[string]any:
				p[keys[len(keys)-1].(string)] = value
			case []any:
				p[keys[len(keys)-1].(int)] = value
			}
		}
	}
	tests := []struct {
		name      string
		fixture   string
		mutate    func(map[string]any)
		wantField string // "" for a valid card
		wantMsg   string
	}{
		{"name a number", "v03-minimal", set(7, "name"), "card.name", "must be a string"},
		{"name empty", "v03-minimal", set("", "name"), "card.name", "must not be empty"},
		{"capabilities an array", "v03-minimal", set([]any{}, "capabilities"), "card.capabilities", "must be an object"},
		{"skills an object", "v03-minimal", set(map[string]any{}, "skills"), "card.skills", "must be an array"},
		{"skill null", "v03-minimal", set(nil, "skills", 0), "card.skills[0]", "must be an object"},
		{"streaming a string", "v03-minimal", set("yes", "capabilities", "streaming"),
			"card.capabilities.streaming", "must be a boolean"},
		{"mode a number", "v03-minimal", set([]any{"text", 3}, "defaultInputModes"),
			"card.defaultInputModes[1]", "must be a string"},
		{"mode empty", "v03-minimal", set([]any{""}, "defaultOutputModes"), "card.defaultOutputModes[0]", "must not be empty"},
		{"mode with a newline", "v03-minimal", set([]any{"text\n"}, "defaultOutputModes"),
			"card.defaultOutputModes[0]", "control characters"},
		{"tags a string", "v03-minimal", set("weather", "skills", 0, "tags"), "card.skills[0].tags", "must be an array"},
		{"tag empty", "v03-minimal", set([]any{""}, "skills", 0, "tags"), "card.skills[0].tags[0]", "must not be empty"},
		{"url ftp", "v03-minimal", set("ftp://files.example.com/", "url"), "card.url", "scheme http, https, grpc, grpcs"},
		{"url without host", "v03-minimal", set("http:///a2a", "url"), "card.url", "has no host"},
		{"url unparsable", "v03-minimal", set("http://[::1", "url"), "card.url", "invalid URL"},
		{"url too long", "v03-minimal", set("http://a/"+strings.Repeat("x", 2048), "url"), "card.url", "at most 2048"},
		{"grpc url", "v03-minimal", set("grpc://10.0.0.7:50051", "url"), "", ""},
		{"transport unknown", "v03-minimal", set("websocket", "preferredTransport"),
			"card.preferredTransport", "is not one of"},
		{"v10 url mailto", "v10-minimal", set("mailto:a@b.c", "supportedInterfaces", 0, "url"),
			"card.supportedInterfaces[0].url", "must be an absolute URL"},
		{"v10 interfaces an object", "v10-minimal", set(map[string]any{}, "supportedInterfaces"),
			"card.supportedInterfaces", "must be an array"},
		{"v10 tenant a number", "v10-minimal", set(1, "supportedInterfaces", 0, "tenant"),
			"card.supportedInterfaces[0].tenant", "must be a string"},
		{"security schemes a string", "v03-minimal", set("none", "securitySchemes"),
			"card.securitySchemes", "must be an object"},
		{"scope description a number", "v03-minimal", set(map[string]any{"corp_auth": map[string]any{
			"type": "oauth2", "flows": map[string]any{"implicit": map[string]any{
				"authorizationUrl": "https://a", "scopes": map[string]any{"read_all": 1}}}}}, "securitySchemes"),
			"card.securitySchemes.corp_auth.flows.implicit.scopes.read_all", "must be a string"},
		{"security requirement scopes a string", "v03-minimal", set([]any{map[string]any{"oauth": "read"}}, "security"),
			"card.security[0].oauth", "must be an array"},
		{"snake key reported by its camelCase path", "v03-minimal", func(m map[string]any) {
			delete(m, "defaultInputModes")
			m["default_input_modes"] = "text"
		}, "card.defaultInputModes", "must be an array"},
		{"optional fields may be null", "v03-minimal", func(m map[string]any) {
			for _, k := range []string{"iconUrl", "documentationUrl", "provider", "security", "securitySchemes",
				"preferredTransport", "additionalInterfaces", "signatures", "supportsAuthenticatedExtendedCard"} {
				m[k] = nil
			}
			m["capabilities"] = map[string]any{"streaming": nil, "extensions": nil}
			m["skills"] = []any{map[string]any{"id": "a", "name": "A", "description": "d", "tags": []any{},
				"examples": nil, "inputModes": nil, "security": nil}}
		}, "", ""},
		{"v1.0 optional fields may be null", "v10-minimal", func(m map[string]any) {
			m["securityRequirements"], m["url"] = nil, nil
			m["supportedInterfaces"].([]any)[0].(map[string]any)["tenant"] = nil
		}, "", ""},
		{"unknown fields may hold anything", "v03-minimal", set(map[string]any{"a": []any{nil, 1.5, "x"}}, "x-extra"), "", ""},
		{"too many skills", "v03-minimal", func(m map[string]any) {
			skills := make([]any, 1001)
			for i := range skills {
				skills[i] = map[string]any{"id": "s", "name": "n", "description": "d", "tags": []any{}}
			}
			m["skills"] = skills
		}, "card.skills", "at most 1000 items"},
		{"too large", "v03-minimal", set(strings.Repeat("x", registry.MaxCardBytes), "description"),
			"card", "too large: "},
		{"too large once escaped", "v03-minimal", set(strings.Repeat("<", registry.MaxCardBytes/2), "description"),
			"card", "too large once normalised"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			card, err := registry.ParseCard(mutateFixture(t, tt.fixture, tt.mutate))
			if tt.wantField == "" {
				if err != nil || card == nil {
					t.Fatalf("ParseCard: %v, want a valid card", err)
				}
				return
			}
			wantFieldError(t, err, tt.wantField, tt.wantMsg)
		})
	}
}

func TestParseCardInvalidUTF8(t *testing.T) {
	data := bytes.Replace(readTestdata(t, "testdata/cards/v03-minimal.good.json"), []byte("Weather"), []byte("W\xffather"), 1)
	_, err := registry.ParseCard(data)
	wantFieldError(t, err, "card", "not valid UTF-8")
}

// TestParseCardFields checks the fields extracted for indexing and routing.
func TestParseCardFields(t *testing.T) {
	tests := []struct {
		fixture string
		want    registry.Card
	}{
		{"v03-minimal", registry.Card{
			Spec: registry.SpecV03, Name: "Weather Agent", Description: "Forecasts the weather", Version: "1.2.0",
			ProtocolVersion: "0.3.0", URL: "http://10.0.0.7:9001/a2a",
			Interfaces: []registry.Interface{{URL: "http://10.0.0.7:9001/a2a", ProtocolBinding: "JSONRPC", ProtocolVersion: "0.3.0"}},
			Skills: []registry.Skill{{ID: "forecast", Name: "Forecast", Description: "Forecast for a place and day",
				Tags: []string{"weather", "forecast"}}},
		}},
		{"v03-full", registry.Card{
			Spec: registry.SpecV03, Name: "Travel Planner", Description: "Plans trips with flights, hotels & activities <beta>",
			Version: "2.0.1", ProtocolVersion: "0.3.0", URL: "https://travel.example.com/a2a/v1",
			Interfaces: []registry.Interface{
				{URL: "https://travel.example.com/a2a/v1", ProtocolBinding: "JSONRPC", ProtocolVersion: "0.3.0"},
				{URL: "grpc://travel.example.com:8443", ProtocolBinding: "GRPC", ProtocolVersion: "0.3.0"},
				{URL: "https://travel.example.com/rest", ProtocolBinding: "HTTP+JSON", ProtocolVersion: "0.3.0"},
			},
			Skills: []registry.Skill{
				{ID: "flights", Name: "Flight search", Description: "Finds flights", Tags: []string{"travel", "flights"}},
				{ID: "hotels", Name: "Hotels", Description: "Finds hotels"},
			},
			Capabilities: registry.Capabilities{Streaming: true, StateTransitionHistory: true},
		}},
		{"v03-snake", registry.Card{
			Spec: registry.SpecV03, Name: "Snake Agent", Description: "Stored by a registry that writes snake_case",
			Version: "0.1.0", ProtocolVersion: "0.3.0", URL: "http://snake.internal:8080/",
			Interfaces: []registry.Interface{
				{URL: "http://snake.internal:8080/", ProtocolBinding: "HTTP+JSON", ProtocolVersion: "0.3.0"},
				{URL: "http://snake.internal:8081/", ProtocolBinding: "JSONRPC", ProtocolVersion: "0.3.0"},
			},
			Skills:       []registry.Skill{{ID: "hiss", Name: "Hiss", Description: "Hisses", Tags: []string{"sound"}}},
			Capabilities: registry.Capabilities{Streaming: true, PushNotifications: true},
		}},
		{"v10-full", registry.Card{
			Spec: registry.SpecV10, Name: "Multi Transport Agent", Description: "Reachable three ways", Version: "3.1.4",
			ProtocolVersion: "1.0", URL: "https://agent.example.com/a2a",
			Interfaces: []registry.Interface{
				{URL: "https://agent.example.com/a2a", ProtocolBinding: "JSONRPC", ProtocolVersion: "1.0", Tenant: "acme"},
				{URL: "grpcs://agent.example.com:443", ProtocolBinding: "GRPC", ProtocolVersion: "1.0"},
				{URL: "http://10.1.2.3:8080/rest", ProtocolBinding: "HTTP+JSON", ProtocolVersion: "1.0"},
				{URL: "https://agent.example.com/a2a", ProtocolBinding: "HTTP+JSON", ProtocolVersion: "1.0"},
			},
			Skills: []registry.Skill{
				{ID: "plan", Name: "Plan", Description: "Plans things", Tags: []string{"planning", "calendar"}},
				{ID: "summarise", Name: "Summarise", Description: "Summarises text", Tags: []string{"text"}},
			},
		}},
		{"v10-snake", registry.Card{
			Spec: registry.SpecV10, Name: "Proto JSON Agent", Description: "Written with protobuf field names",
			Version: "1.0.0", ProtocolVersion: "1.0", URL: "http://proto.internal:7000",
			Interfaces: []registry.Interface{
				{URL: "http://proto.internal:7000", ProtocolBinding: "HTTP+JSON", ProtocolVersion: "1.0", Tenant: "t_1"},
			},
			Skills:       []registry.Skill{{ID: "echo", Name: "Echo", Description: "Echoes"}},
			Capabilities: registry.Capabilities{PushNotifications: true},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			card, err := registry.ParseCard(readTestdata(t, "testdata/cards/"+tt.fixture+".good.json"))
			if err != nil {
				t.Fatalf("ParseCard: %v", err)
			}
			if got := exported(*card); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("fields:\ngot:  %+v\nwant: %+v", got, tt.want)
			}
		})
	}
}

// TestParseCardNormalisation checks which keys are renamed, at every level
// of the known structure, and which are data or unknown and kept.
func TestParseCardNormalisation(t *testing.T) {
	tests := []struct {
		fixture string
		present [][]any // paths that must exist in the normalised card
		absent  [][]any // paths that must not
	}{
		{"v03-snake", [][]any{
			{"protocolVersion"}, {"preferredTransport"}, {"additionalInterfaces", 0, "url"}, {"documentationUrl"},
			{"iconUrl"}, {"capabilities", "pushNotifications"}, {"capabilities", "stateTransitionHistory"},
			{"securitySchemes", "corp_oauth", "flows", "clientCredentials", "tokenUrl"},
			{"securitySchemes", "corp_oauth", "flows", "clientCredentials", "refreshUrl"},
			{"securitySchemes", "corp_oauth", "flows", "clientCredentials", "scopes", "read_all"},
			{"securitySchemes", "oidc_login", "openIdConnectUrl"}, {"securitySchemes", "bearer_auth", "bearerFormat"},
			{"defaultInputModes"}, {"defaultOutputModes"}, {"supportsAuthenticatedExtendedCard"},
			{"skills", 0, "inputModes"}, {"skills", 0, "outputModes"},
			{"skills", 0, "extra_field", "keep_me"}, {"custom_top_level", "nested_key", 0, "inner_key"},
		}, [][]any{
			{"protocol_version"}, {"security_schemes"}, {"securitySchemes", "corpOauth"},
			{"securitySchemes", "corp_oauth", "flows", "clientCredentials", "scopes", "readAll"},
			{"skills", 0, "extraField"}, {"customTopLevel"},
		}},
		{"v10-snake", [][]any{
			{"supportedInterfaces", 0, "protocolBinding"}, {"supportedInterfaces", 0, "protocolVersion"},
			{"capabilities", "extendedAgentCard"},
			{"securitySchemes", "bearer_tok", "httpAuthSecurityScheme", "bearerFormat"},
			{"securitySchemes", "oauth_flows", "oauth2SecurityScheme", "oauth2MetadataUrl"},
			{"securitySchemes", "oauth_flows", "oauth2SecurityScheme", "flows", "authorizationCode", "pkceRequired"},
			{"securitySchemes", "oauth_flows", "oauth2SecurityScheme", "flows", "authorizationCode", "scopes", "scope_one"},
			{"securityRequirements", 0, "schemes", "bearer_tok", "list"},
			{"skills", 0, "securityRequirements", 0, "schemes", "oauth_flows"},
		}, [][]any{{"supported_interfaces"}, {"securitySchemes", "bearerTok"}}},
		{"v03-full", [][]any{
			{"capabilities", "extensions", 0, "params", "max_radius_km"}, {"x-vendor", "deploy_zone"},
			{"securitySchemes", "oauth_main", "flows", "authorizationCode", "scopes", "trips_write"},
			{"security", 0, "oauth_main"},
		}, [][]any{{"capabilities", "extensions", 0, "params", "maxRadiusKm"}}},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			card, err := registry.ParseCard(readTestdata(t, "testdata/cards/"+tt.fixture+".good.json"))
			if err != nil {
				t.Fatalf("ParseCard: %v", err)
			}
			var doc map[string]any
			if err := json.Unmarshal(card.JSON(), &doc); err != nil {
				t.Fatal(err)
			}
			for _, p := range tt.present {
				if lookup(doc, p...) == nil {
					t.Errorf("missing %v in %s", p, card.JSON())
				}
			}
			for _, p := range tt.absent {
				if lookup(doc, p...) != nil {
					t.Errorf("unexpected %v in %s", p, card.JSON())
				}
			}
		})
	}
}

func TestParseCardKeepsOrderAndValues(t *testing.T) {
	in := `{ "z_unknown" : {"b_key": 1, "a_key": [ 1.50, "\u00e9" ]}, "URL": "ftp://x", "name_": 1,
	  "protocol_version": "0.3.0", "name": "A\u0020b", "description": "d", "url": "http://h:1",
	  "preferred_transport": "grpc", "version": "1", "capabilities": {}, "default_input_modes": ["t"],
	  "defaultOutputModes": ["t"], "skills": [] }`
	want := `{"z_unknown":{"b_key":1,"a_key":[1.50,"\u00e9"]},"URL":"ftp://x","name_":1,"protocolVersion":"0.3.0","name":"A\u0020b",` +
		`"description":"d","url":"http://h:1","preferredTransport":"GRPC","version":"1","capabilities":{},` +
		`"defaultInputModes":["t"],"defaultOutputModes":["t"],"skills":[]}`
	card, err := registry.ParseCard([]byte(in))
	if err != nil {
		t.Fatalf("ParseCard: %v", err)
	}
	if string(card.JSON()) != want {
		t.Errorf("normalised:\ngot:  %s\nwant: %s", card.JSON(), want)
	}
	if card.Name != "A b" || card.URL != "http://h:1" {
		t.Errorf("Name, URL = %q, %q; want %q, %q", card.Name, card.URL, "A b", "http://h:1")
	}
}

// TestParseCardKeys covers escaped keys, duplicates and large objects.
func TestParseCardKeys(t *testing.T) {
	minimal := readTestdata(t, "testdata/cards/v10-minimal.good.json")
	// with inserts members at the start of the minimal v1.0 card, after
	// removing the members named in drop.
	with := func(members string, drop ...string) []byte {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(minimal, &m); err != nil {
			t.Fatal(err)
		}
		for _, k := range drop {
			delete(m, k)
		}
		rest, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return []byte("{" + members + "," + string(rest[1:]))
	}
	schemes := make([]string, 20)
	for i := range schemes {
		schemes[i] = fmt.Sprintf(`"s%d": {"type": "mutualTLS"}`, i)
	}
	manySchemes := `"securitySchemes": {` + strings.Join(schemes, ",")
	tests := []struct {
		name      string
		data      []byte
		wantField string // "" for a valid card
		wantMsg   string
		wantJSON  string // a substring of the normalised JSON
	}{
		{"escaped known key", with(`"n\u0061me": "Escaped"`, "name"), "", "", `{"name":"Escaped",`},
		{"escaped snake key", with(`"default\u005finput_modes": ["t"]`, "defaultInputModes"), "", "", `{"defaultInputModes":["t"],`},
		{"escaped unknown key kept", with(`"x\u002dy": 1`), "", "", `{"x\u002dy":1,`},
		{"escaped duplicate", with(`"n\u0061me": "Escaped"`), "card.name", "duplicate key", ""},
		{"duplicate unknown key", with(`"x": 1, "x": 2`), "card.x", "duplicate key", ""},
		{"many map keys", with(manySchemes + `}`), "", "", `"s19":{"type":"mutualTLS"}`},
		{"duplicate among many map keys", with(manySchemes + `, "s3": {}}`), "card.securitySchemes.s3", "duplicate key", ""},
		{"mode too long", with(`"defaultInputModes": ["`+strings.Repeat("m", 256)+`"]`, "defaultInputModes"),
			"card.defaultInputModes[0]", "at most 255 bytes", ""},
		{"html escaped", with(`"x": "<&>` + "\u2028" + `"`), "", "", `"x":"\u003c\u0026\u003e\u2028"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			card, err := registry.ParseCard(tt.data)
			if tt.wantField != "" {
				wantFieldError(t, err, tt.wantField, tt.wantMsg)
				return
			}
			if err != nil {
				t.Fatalf("ParseCard: %v", err)
			}
			if !strings.Contains(string(card.JSON()), tt.wantJSON) {
				t.Errorf("normalised card %s does not contain %s", card.JSON(), tt.wantJSON)
			}
		})
	}
}

func TestCardJSONMethods(t *testing.T) {
	var nilCard *registry.Card
	if nilCard.JSON() != nil {
		t.Error("nil card: JSON() is not nil")
	}
	for name, c := range map[string]*registry.Card{"nil": nilCard, "zero": {}} {
		got, err := c.MarshalJSON()
		if err != nil || string(got) != "null" {
			t.Errorf("%s card: MarshalJSON = %s, %v; want null", name, got, err)
		}
	}
	data := readTestdata(t, "testdata/cards/v10-full.good.json")
	var c registry.Card
	if err := json.Unmarshal(data, &c); err != nil {
		t.Fatalf("json.Unmarshal: %v", err)
	}
	parsed, err := registry.ParseCard(data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&c, parsed) {
		t.Errorf("UnmarshalJSON differs from ParseCard")
	}
	if err := json.Unmarshal([]byte("null"), &c); err != nil || c.Name != parsed.Name {
		t.Errorf("UnmarshalJSON(null) = %v and changed the card", err)
	}
	err = json.Unmarshal([]byte(`{"name": 1}`), &c)
	if _, ok := registry.AsFieldError(err); !ok {
		t.Errorf("UnmarshalJSON of a bad card: %v, want a *FieldError", err)
	}
	out, err := json.Marshal(parsed)
	if err != nil || !bytes.Equal(out, parsed.JSON()) {
		t.Errorf("json.Marshal(card) = %s, %v; want the normalised JSON", out, err)
	}
}

func BenchmarkParseCard(b *testing.B) {
	for _, fixture := range []string{"v03-minimal", "v03-full", "v10-full"} {
		data, err := os.ReadFile("testdata/cards/" + fixture + ".good.json")
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fixture, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := registry.ParseCard(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// exported returns the card without its unexported JSON, for comparisons.
func exported(c registry.Card) registry.Card {
	return registry.Card{Spec: c.Spec, Name: c.Name, Description: c.Description, Version: c.Version,
		ProtocolVersion: c.ProtocolVersion, URL: c.URL, Interfaces: c.Interfaces, Skills: c.Skills,
		Capabilities: c.Capabilities}
}

func readTestdata(t testing.TB, file string) []byte {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// mutateFixture decodes testdata/cards/<fixture>.good.json, applies mutate
// and encodes it again.
func mutateFixture(t *testing.T, fixture string, mutate func(map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(readTestdata(t, "testdata/cards/"+fixture+".good.json"), &m); err != nil {
		t.Fatal(err)
	}
	mutate(m)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// lookup follows keys (string for objects, int for arrays) from v and
// returns the value found, or nil.
func lookup(v any, keys ...any) any {
	for _, k := range keys {
		switch c := v.(type) {
		case map[string]any:
			s, _ := k.(string)
			v = c[s]
		case []any:
			i, ok := k.(int)
			if !ok || i >= len(c) {
				return nil
			}
			v = c[i]
		default:
			return nil
		}
	}
	return v
}

// wantFieldError fails unless err is a *FieldError for field whose message
// contains msg.
func wantFieldError(t *testing.T, err error, field, msg string) {
	t.Helper()
	fe, ok := registry.AsFieldError(err)
	if !ok {
		t.Fatalf("error = %v, want a *FieldError for %q", err, field)
	}
	if fe.Field != field || !strings.Contains(fe.Message, msg) {
		t.Fatalf("error = {Field: %q, Message: %q}, want field %q with %q", fe.Field, fe.Message, field, msg)
	}
}
