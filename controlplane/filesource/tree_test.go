package filesource

import (
	"reflect"
	"strings"
	"testing"
)

func TestYAMLToJSON(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want string
	}{
		{"keeps key order", "b: 1\na: 2\n", `{"b":1,"a":2}`},
		{"scalars by tag", "s: yes\nn: ~\nt: true\ni: 0x1F\nf: 1.5\nq: '12'\n", `{"s":"yes","n":null,"t":true,"i":31,"f":1.5,"q":"12"}`},
		{"timestamps stay strings", "at: 2026-01-02T03:04:05Z\n", `{"at":"2026-01-02T03:04:05Z"}`},
		{"aliases expand", "a: &x [1, 2]\nb: *x\n", `{"a":[1,2],"b":[1,2]}`},
		{"explicit keys win over merged ones", "base: &b {k: 1, j: 2}\nm: {k: 3, <<: *b}\n", `{"base":{"k":1,"j":2},"m":{"k":3,"j":2}}`},
		{"earlier merged mappings win", "a: &a {k: 1}\nb: &b {k: 2, j: 3}\nm: {<<: [*a, *b]}\n", `{"a":{"k":1},"b":{"k":2,"j":3},"m":{"k":1,"j":3}}`},
		{"strings are escaped", "s: \"quote \\\" and <tag>\"\n", `{"s":"quote \" and \u003ctag\u003e"}`},
		{"numeric keys are strings", "1: one\n", `{"1":"one"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			docs, err := yamlDocuments([]byte(tt.yaml))
			if err != nil {
				t.Fatalf("yamlDocuments: %v", err)
			}
			if len(docs) != 1 {
				t.Fatalf("got %d documents, want 1", len(docs))
			}
			if got := string(docs[0].encode()); got != tt.want {
				t.Errorf("JSON = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestYAMLErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want string
	}{
		{"duplicate key", "a: 1\nb: 2\na: 3\n", `line 3: mapping key "a" already defined at line 1`},
		{"mapping key", "? [a]\n: 1\n", "line 1: mapping keys must be scalars"},
		{"nan", "a: .nan\n", "line 1: .nan has no JSON form"},
		{"merge of a scalar", "a: {<<: 1}\n", "line 1: a merge key (<<) needs a mapping"},
		{"too deep", strings.Repeat("[", maxDepth+2) + strings.Repeat("]", maxDepth+2), "nested more than"},
		{"syntax", "a: b: c\n", "line 1: mapping values are not allowed in this context"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := yamlDocuments([]byte(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestJSONDocument(t *testing.T) {
	tests := []struct {
		name string
		json string
		want string // "" for no document
		err  string
	}{
		{"object", `{"b": 1, "a": [true, null, "x"]}`, `{"b":1,"a":[true,null,"x"]}`, ""},
		{"numbers kept as written", `[1.50, -2e3, 12345678901234567890]`, `[1.50,-2e3,12345678901234567890]`, ""},
		{"escapes", `{"s": "a\/b \u00e9"}`, `{"s":"a/b é"}`, ""},
		{"white space only", " \n\t", "", ""},
		{"duplicate key", "{\"a\": 1,\n \"a\": 2}", "", `line 2: object key "a" already defined at line 1`},
		{"nested duplicate key", "[{\"a\": {\"k\": 1, \"k\": 2}}]", "", `line 1: object key "k" already defined`},
		{"truncated", "{\"a\": [1,\n", "", "unexpected EOF"},
		{"bad token", "{\n\"a\": nope}", "", "line 2: invalid character 'o'"},
		{"trailing", "{}\n[]", "", "line 2: unexpected data after the top-level value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := jsonDocument([]byte(tt.json))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error = %v, want one containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("jsonDocument: %v", err)
			}
			got := ""
			if v != nil {
				got = string(v.encode())
			}
			if got != tt.want {
				t.Errorf("JSON = %s, want %s", got, tt.want)
			}
		})
	}
}

// lineDoc is a YAML entry and the same entry in JSON, with the fields at
// the same lines, for TestLineOf.
const lineDocYAML = `name: weather
labels:
  team: forecast
card:
  default_input_modes: [text/plain]
  skills:
    - id: a
      name: A
    - name: B
      tags:
        - x
`

const lineDocJSON = `{"name": "weather",
"labels": {
  "team": "forecast"},
"card": {
  "default_input_modes": ["text/plain"],
  "skills": [
    {"id": "a",
     "name": "A"},
    {"name": "B",
     "tags": [
        "x"]}]}}
`

func TestLineOf(t *testing.T) {
	tests := []struct {
		path string
		want int
	}{
		{"", 1},
		{"name", 1},
		{"labels.team", 3},
		{"labels.zone", 2},
		{"card.defaultInputModes", 5},
		{"card.defaultInputModes[0]", 5},
		{"card.skills", 6},
		{"card.skills[0].name", 8},
		{"card.skills[1].id", 9},
		{"card.skills[1].tags[0]", 11},
		{"card.skills[7].id", 6},
		{"ttl_seconds", 1},
	}
	yamlDocs, err := yamlDocuments([]byte(lineDocYAML))
	if err != nil {
		t.Fatal(err)
	}
	jsonDoc, err := jsonDocument([]byte(lineDocJSON))
	if err != nil {
		t.Fatal(err)
	}
	for _, format := range []struct {
		name string
		doc  *value
	}{{"yaml", yamlDocs[0]}, {"json", jsonDoc}} {
		for _, tt := range tests {
			t.Run(format.name+"/"+tt.path, func(t *testing.T) {
				if got := format.doc.lineOf(tt.path); got != tt.want {
					t.Errorf("lineOf(%q) = %d, want %d", tt.path, got, tt.want)
				}
			})
		}
	}
}

func TestLineOfBareCard(t *testing.T) {
	docs, err := yamlDocuments([]byte("name: Echo\nskills:\n  - name: x\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := docs[0].lineOf("card.skills[0].id"); got != 3 {
		t.Errorf("lineOf on a bare card = %d, want 3", got)
	}
}

func TestSplitPath(t *testing.T) {
	tests := []struct {
		path string
		want []string
	}{
		{"", nil},
		{"name", []string{"name"}},
		{"card.skills[0].id", []string{"card", "skills", "[0]", "id"}},
		{"a[1][2]", []string{"a", "[1]", "[2]"}},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			if got := splitPath(tt.path); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("splitPath(%q) = %q, want %q", tt.path, got, tt.want)
			}
		})
	}
}
