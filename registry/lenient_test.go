package registry_test

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/sidecard/sidecard/registry"
)

// loadTestCard is the card of A2A Registry's published load test: snake_case,
// no capabilities, no modes, a skill with only an id and a description.
const loadTestCard = `{"name": "Test Agent", "description": "A test agent", "url": "http://localhost:8080",
	"version": "1.0.0", "protocol_version": "0.3.0", "skills": [{"id": "test", "description": "Test skill"}]}`

func TestParseCardLenient(t *testing.T) {
	tests := []struct {
		name          string
		card          string
		wantDefaulted []string
		check         func(t *testing.T, c *registry.Card)
	}{
		{
			name: "load-test card",
			card: loadTestCard,
			wantDefaulted: []string{"card.skills[0].name", "card.skills[0].tags", "card.capabilities",
				"card.defaultInputModes", "card.defaultOutputModes"},
			check: func(t *testing.T, c *registry.Card) {
				want := []registry.Skill{{ID: "test", Name: "test", Description: "Test skill"}}
				if !reflect.DeepEqual(c.Skills, want) {
					t.Errorf("skills = %+v, want %+v", c.Skills, want)
				}
				wantJSON := `{"name":"Test Agent","description":"A test agent","url":"http://localhost:8080",` +
					`"version":"1.0.0","protocolVersion":"0.3.0","skills":[{"id":"test","description":"Test skill",` +
					`"name":"test","tags":[]}],"capabilities":{},"defaultInputModes":["text/plain"],` +
					`"defaultOutputModes":["text/plain"]}`
				if string(c.JSON()) != wantJSON {
					t.Errorf("JSON = %s\nwant   %s", c.JSON(), wantJSON)
				}
			},
		},
		{
			name: "nulls are defaulted in place",
			card: `{"protocolVersion":"0.3.0","name":"N","description":"d","url":"http://n:1","version":"1",
				"capabilities":null,"defaultInputModes":null,"defaultOutputModes":["application/json"],
				"skills":[{"id":"s","name":null,"description":null,"tags":null}]}`,
			wantDefaulted: []string{"card.capabilities", "card.defaultInputModes", "card.skills[0].name",
				"card.skills[0].description", "card.skills[0].tags"},
			check: func(t *testing.T, c *registry.Card) {
				if got := c.Skills[0]; got.Name != "s" || got.Description != "s" || got.Tags != nil {
					t.Errorf("skill = %+v, want name and description from the id", got)
				}
				if !bytes.HasPrefix(c.JSON(), []byte(`{"protocolVersion":"0.3.0","name":"N","description":"d",`+
					`"url":"http://n:1","version":"1","capabilities":{},"defaultInputModes":["text/plain"]`)) {
					t.Errorf("defaults not in place: %s", c.JSON())
				}
			},
		},
		{
			name:          "skill description from its name",
			card:          `{"protocolVersion":"0.3.0","name":"N","description":"d","url":"http://n:1","version":"1","capabilities":{},"defaultInputModes":[],"defaultOutputModes":[],"skills":[{"id":"s","name":"Say \"hi\"","tags":["t"]}]}`,
			wantDefaulted: []string{"card.skills[0].description"},
			check: func(t *testing.T, c *registry.Card) {
				if got := c.Skills[0].Description; got != `Say "hi"` {
					t.Errorf("description = %q, want the skill's name", got)
				}
			},
		},
		{
			name: "snake_case spellings count as present",
			card: `{"protocol_version":"0.3.0","name":"N","description":"d","url":"http://n:1","version":"1",
				"default_input_modes":["a/b"],"default_output_modes":["c/d"],"capabilities":{"push_notifications":true},
				"skills":[{"id":"s","name":"S","description":"D","tags":[],"input_modes":["x/y"]}]}`,
			wantDefaulted: []string{},
			check: func(t *testing.T, c *registry.Card) {
				if !c.Capabilities.PushNotifications {
					t.Error("capabilities were replaced")
				}
			},
		},
		{
			name:          "v1.0 card",
			card:          `{"name":"V","description":"d","version":"1","supportedInterfaces":[{"url":"http://v:1","protocolBinding":"JSONRPC","protocolVersion":"1.0"}]}`,
			wantDefaulted: []string{"card.capabilities", "card.defaultInputModes", "card.defaultOutputModes", "card.skills"},
			check: func(t *testing.T, c *registry.Card) {
				if c.Spec != registry.SpecV10 || len(c.Skills) != 0 {
					t.Errorf("card = %+v, want a v1.0 card without skills", c)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			input := []byte(tt.card)
			before := bytes.Clone(input)
			card, defaulted, err := registry.ParseCardLenient(input)
			if !bytes.Equal(input, before) {
				t.Fatal("ParseCardLenient modified its input")
			}
			if err != nil {
				t.Fatalf("ParseCardLenient: %v", err)
			}
			if len(defaulted) != 0 || len(tt.wantDefaulted) != 0 {
				if !slices.Equal(defaulted, tt.wantDefaulted) {
					t.Errorf("defaulted = %q, want %q", defaulted, tt.wantDefaulted)
				}
			}
			tt.check(t, card)
			checkCard(t, card.JSON())
		})
	}
}

func TestParseCardLenientErrors(t *testing.T) {
	tests := []struct {
		name, card       string
		wantField, wantM string
	}{
		{"not an object", `["x"]`, "card", "must be a JSON object"},
		{"syntax", `{"name":`, "card", "invalid JSON"},
		{"card name required", `{"protocol_version":"0.3.0","description":"d","url":"http://n:1","version":"1"}`, "card.name", "required"},
		{"url required", `{"protocol_version":"0.3.0","name":"N","description":"d","version":"1"}`, "card.url", "required"},
		{"protocol version required", `{"name":"N","description":"d","url":"http://n:1","version":"1"}`, "card.protocolVersion", "required"},
		{"version required", `{"protocol_version":"0.3.0","name":"N","description":"d","url":"http://n:1"}`, "card.version", "required"},
		{"skills not an array", `{"protocol_version":"0.3.0","name":"N","description":"d","url":"http://n:1","version":"1","skills":{}}`, "card.skills", "must be an array"},
		{"skill not an object", `{"protocol_version":"0.3.0","name":"N","description":"d","url":"http://n:1","version":"1","skills":["s"]}`, "card.skills[0]", "must be an object"},
		{"skill without id", `{"protocol_version":"0.3.0","name":"N","description":"d","url":"http://n:1","version":"1","skills":[{"description":"x"}]}`, "card.skills[0].id", "required"},
		{"skill with an empty name", `{"protocol_version":"0.3.0","name":"N","description":"d","url":"http://n:1","version":"1","skills":[{"id":"s","name":""}]}`, "card.skills[0].name", "must not be empty"},
		{"capabilities of the wrong type", `{"protocol_version":"0.3.0","name":"N","description":"d","url":"http://n:1","version":"1","capabilities":[]}`, "card.capabilities", "must be an object"},
		{"snake and camel", `{"protocol_version":"0.3.0","name":"N","description":"d","url":"http://n:1","version":"1","default_input_modes":[],"defaultInputModes":[]}`, "card.defaultInputModes", "duplicate key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			card, defaulted, err := registry.ParseCardLenient([]byte(tt.card))
			if card != nil || defaulted != nil {
				t.Errorf("got card %v and defaults %q with the error", card, defaulted)
			}
			wantFieldError(t, err, tt.wantField, tt.wantM)
		})
	}
}

// TestParseCardLenientCompleteCards checks that a card ParseCard accepts
// comes out of ParseCardLenient unchanged and without defaults.
func TestParseCardLenientCompleteCards(t *testing.T) {
	for _, file := range goodCardFixtures(t) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data := readTestdata(t, file)
			strict, err := registry.ParseCard(data)
			if err != nil {
				t.Fatal(err)
			}
			lenient, defaulted, err := registry.ParseCardLenient(data)
			if err != nil {
				t.Fatalf("ParseCardLenient: %v", err)
			}
			if len(defaulted) != 0 || !reflect.DeepEqual(strict, lenient) {
				t.Errorf("ParseCardLenient = %s with defaults %q, want %s", lenient.JSON(), defaulted, strict.JSON())
			}
		})
	}
}

func TestSnakeCaseJSON(t *testing.T) {
	for _, file := range goodCardFixtures(t) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			card, err := registry.ParseCard(readTestdata(t, file))
			if err != nil {
				t.Fatal(err)
			}
			snake := card.SnakeCaseJSON()
			if !json.Valid(snake) {
				t.Fatalf("not valid JSON: %s", snake)
			}
			again, err := registry.ParseCard(snake)
			if err != nil {
				t.Fatalf("ParseCard(snake): %v\n%s", err, snake)
			}
			if !bytes.Equal(again.JSON(), card.JSON()) {
				t.Errorf("round trip changed the card:\nsnake: %s\ngot:   %s\nwant:  %s", snake, again.JSON(), card.JSON())
			}
			if registry.IsSnakeCase(card.JSON()) {
				t.Errorf("the normalised card reads as snake_case: %s", card.JSON())
			}
			if !registry.IsSnakeCase(snake) {
				t.Errorf("the snake_case form does not read as snake_case: %s", snake)
			}
		})
	}
	t.Run("written as stored", func(t *testing.T) {
		data := readTestdata(t, "testdata/cards/v03-snake.good.json")
		card, err := registry.ParseCard(data)
		if err != nil {
			t.Fatal(err)
		}
		var want bytes.Buffer
		if err := json.Compact(&want, data); err != nil {
			t.Fatal(err)
		}
		if got := card.SnakeCaseJSON(); !bytes.Equal(got, want.Bytes()) {
			t.Errorf("SnakeCaseJSON =\n%s\nwant the fixture as written:\n%s", got, want.Bytes())
		}
	})
	t.Run("nil card", func(t *testing.T) {
		var card *registry.Card
		if got := card.SnakeCaseJSON(); got != nil {
			t.Errorf("SnakeCaseJSON of nil = %s", got)
		}
	})
}

func TestIsSnakeCase(t *testing.T) {
	tests := []struct {
		name string
		card string
		want bool
	}{
		{"camelCase", `{"protocolVersion":"0.3.0","defaultInputModes":[]}`, false},
		{"top-level snake_case", `{"protocol_version":"0.3.0"}`, true},
		{"nested snake_case", `{"capabilities":{"push_notifications":true}}`, true},
		{"in a skill", `{"skills":[{"id":"s","input_modes":[]}]}`, true},
		{"one-word keys only", `{"name":"n","url":"http://u","skills":[{"id":"s","tags":[]}]}`, false},
		{"scheme names are data", `{"securitySchemes":{"corp_oauth":{"type":"oauth2"}}}`, false},
		{"scope names are data", `{"security":[{"read_all":["x_y"]}]}`, false},
		{"unknown fields", `{"custom_field":{"nested_key":1}}`, false},
		{"invalid JSON", `{"protocol_version":`, false},
		{"not an object", `"protocol_version"`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := registry.IsSnakeCase([]byte(tt.card)); got != tt.want {
				t.Errorf("IsSnakeCase(%s) = %v, want %v", tt.card, got, tt.want)
			}
		})
	}
}

func TestSnakeCasePath(t *testing.T) {
	tests := []struct{ path, want string }{
		{"card", "card"},
		{"card.protocolVersion", "card.protocol_version"},
		{"card.skills[3].inputModes[0]", "card.skills[3].input_modes[0]"},
		{"card.capabilities.pushNotifications", "card.capabilities.push_notifications"},
		{"card.securitySchemes.MyScheme.flows.clientCredentials.tokenUrl",
			"card.security_schemes.MyScheme.flows.client_credentials.token_url"},
		{"card.securitySchemes.MyScheme.flows.clientCredentials.scopes.readAll",
			"card.security_schemes.MyScheme.flows.client_credentials.scopes.readAll"},
		{"card.capabilities.extensions[0].params.someKey", "card.capabilities.extensions[0].params.someKey"},
		{"card.unknownField.innerKey", "card.unknownField.innerKey"},
		{"card.name[0]", "card.name[0]"},
		{"card.skills.id", "card.skills.id"},
		{"cardinal", "cardinal"},
		{"endpoints[0].url", "endpoints[0].url"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			if got := registry.SnakeCasePath(tt.path); got != tt.want {
				t.Errorf("SnakeCasePath(%q) = %q, want %q", tt.path, got, tt.want)
			}
		})
	}
}

// FuzzParseCardLenient checks that ParseCardLenient fails only with a
// *FieldError, that what it accepts is a valid card whose snake_case form
// parses back to it, and that it changes nothing of a card ParseCard accepts.
func FuzzParseCardLenient(f *testing.F) {
	for _, data := range fuzzSeeds(f, "testdata/cards/*.json") {
		f.Add(data)
	}
	f.Add([]byte(loadTestCard))
	f.Fuzz(func(t *testing.T, data []byte) {
		card, defaulted, err := registry.ParseCardLenient(data)
		if err != nil {
			if fe, ok := registry.AsFieldError(err); !ok || !strings.HasPrefix(fe.Field, "card") || card != nil {
				t.Fatalf("ParseCardLenient(%s) error %v (%T) with card %v", data, err, err, card)
			}
			return
		}
		checkCard(t, card.JSON())
		for _, path := range defaulted {
			if !strings.HasPrefix(path, "card.") {
				t.Fatalf("defaulted path %q is not a card path", path)
			}
		}
		again, err := registry.ParseCard(card.SnakeCaseJSON())
		if err != nil || !bytes.Equal(again.JSON(), card.JSON()) {
			t.Fatalf("snake_case round trip: %v\n%s\n%s", err, card.SnakeCaseJSON(), card.JSON())
		}
		if strict, err := registry.ParseCard(data); err == nil {
			if len(defaulted) != 0 || !bytes.Equal(strict.JSON(), card.JSON()) {
				t.Fatalf("a complete card was changed: defaults %q\n%s\n%s", defaulted, card.JSON(), strict.JSON())
			}
		}
	})
}

func goodCardFixtures(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("testdata/cards/*.good.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no good card fixtures: %v", err)
	}
	return files
}
