package filesource

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/sidecard/sidecard/registry"
)

func TestParseFileGood(t *testing.T) {
	tests := []struct {
		file  string
		names []string
		check func(t *testing.T, entries []fileEntry)
	}{
		{file: "single.good.yaml", names: []string{"weather"}, check: func(t *testing.T, es []fileEntry) {
			if got := es[0].entry.Labels["zone"]; got != "eu-1" {
				t.Errorf("labels.zone = %q, want eu-1", got)
			}
		}},
		{file: "list.good.yaml", names: []string{"currency", "travel"}, check: func(t *testing.T, es []fileEntry) {
			if got := es[1].entry.Card.Spec; got != registry.SpecV10 {
				t.Errorf("travel card spec = %q, want %q", got, registry.SpecV10)
			}
			if got := es[1].line; got != 18 {
				t.Errorf("travel starts at line %d, want 18", got)
			}
		}},
		{file: "bare-card.good.yaml", names: []string{"echo-agent"}},
		{file: "snake-case.good.yaml", names: []string{"snake"}, check: func(t *testing.T, es []fileEntry) {
			if !es[0].entry.Card.Capabilities.PushNotifications {
				t.Error("capabilities.push_notifications was not read")
			}
		}},
		{file: "documents.good.yaml", names: []string{"doc-one", "doc-two"}},
		{file: "merge.good.yaml", names: []string{"m-one", "m-two"}, check: func(t *testing.T, es []fileEntry) {
			e := es[1].entry
			if !reflect.DeepEqual(e.Labels, map[string]string{"team": "shared", "zone": "eu-2"}) {
				t.Errorf("merged labels = %v", e.Labels)
			}
			if e.Card.Name != "Merged" || e.Card.URL != "http://127.0.0.1:9010" {
				t.Errorf("merged card = %q at %q, want Merged at http://127.0.0.1:9010", e.Card.Name, e.Card.URL)
			}
		}},
		{file: "entries.good.json", names: []string{"json-one", "json-two"}, check: func(t *testing.T, es []fileEntry) {
			if got, want := es[0].entry.Card.Description, "Written in JSON — with an escaped slash: a/b."; got != want {
				t.Errorf("description = %q, want %q", got, want)
			}
			if es[1].line != 17 {
				t.Errorf("json-two starts at line %d, want 17", es[1].line)
			}
		}},
		{file: "empty.good.yaml", names: nil},
	}
	covered := map[string]bool{}
	for _, tt := range tests {
		covered[tt.file] = true
		t.Run(tt.file, func(t *testing.T) {
			entries, err := parseFile(tt.file, readFixture(t, tt.file))
			if err != nil {
				t.Fatalf("parseFile: %v", err)
			}
			var names []string
			for i, fe := range entries {
				names = append(names, fe.entry.Name)
				if fe.index != i {
					t.Errorf("entry %d has index %d", i, fe.index)
				}
			}
			if !reflect.DeepEqual(names, tt.names) {
				t.Fatalf("names = %q, want %q", names, tt.names)
			}
			if tt.check != nil {
				tt.check(t, entries)
			}
		})
	}
	for _, f := range fixtures(t, "*.good.*") {
		if !covered[f] && !strings.HasPrefix(f, "single-changed") && !strings.HasPrefix(f, "weather-again") {
			t.Errorf("good fixture %s has no test case", f)
		}
	}
}

func TestParseFileBad(t *testing.T) {
	// want is a substring of the error: file, line, entry and problem.
	tests := []struct {
		file string
		want string
	}{
		{"skill-missing-id.bad.yaml", "skill-missing-id.bad.yaml:24: entry[1]: card.skills[0].id"},
		{"invalid-name.bad.yaml", "invalid-name.bad.yaml:1: entry[0]: name"},
		{"duplicate-name.bad.yaml", `duplicate-name.bad.yaml:13: entry[1]: name "twice" already defined at line 1 (entry[0])`},
		{"duplicate-key.bad.yaml", `duplicate-key.bad.yaml:4: mapping key "team" already defined at line 3`},
		{"blank.bad.yaml", "blank.bad.yaml: the file is empty; its previous entries stay"},
		{"syntax.bad.yaml", "did not find expected ',' or '}'"}, // yaml.v3 picks the line
		{"scalar.bad.yaml", "scalar.bad.yaml:1: expected an entry (a mapping) or a list of entries (a sequence)"},
		{"list-of-scalars.bad.yaml", "list-of-scalars.bad.yaml:2: entry[1]: an entry must be a mapping"},
		{"agents-wrapper.bad.yaml", "agents-wrapper.bad.yaml:2: entry[0]: "},
		{"infinity.bad.yaml", "infinity.bad.yaml:4: .inf has no JSON form"},
		{"custom-tag.bad.yaml", "custom-tag.bad.yaml:3: unsupported tag !secret"},
		{"alias-bomb.bad.yaml", "too many values once aliases are expanded"},
		{"merge-cycle.bad.yaml", "merge-cycle.bad.yaml:"},
		{"duplicate-key.bad.json", `duplicate-key.bad.json:4: object key "name" already defined at line 2`},
		{"syntax.bad.json", "syntax.bad.json:3: invalid character '}'"},
		{"trailing.bad.json", "trailing.bad.json:2: unexpected data after the top-level value"},
		{"scalar.bad.json", "scalar.bad.json:1: expected an entry"},
		{"ttl.bad.yaml", "ttl.bad.yaml:3: entry[0]: ttl_seconds: not allowed in a registry file"},
	}
	covered := map[string]bool{}
	for _, tt := range tests {
		covered[tt.file] = true
		t.Run(tt.file, func(t *testing.T) {
			entries, err := parseFile(tt.file, readFixture(t, tt.file))
			if err == nil {
				t.Fatalf("parseFile succeeded with %d entries, want an error", len(entries))
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %q, want it to contain %q", err, tt.want)
			}
		})
	}
	for _, f := range fixtures(t, "*.bad.*") {
		if !covered[f] {
			t.Errorf("bad fixture %s has no test case", f)
		}
	}
}

func TestParseFileFieldErrorIsKept(t *testing.T) {
	_, err := parseFile("x.yaml", readFixture(t, "skill-missing-id.bad.yaml"))
	fe, ok := registry.AsFieldError(err)
	if !ok || fe.Field != "card.skills[0].id" {
		t.Fatalf("error %v: want a *registry.FieldError for card.skills[0].id", err)
	}
}

// FuzzDocuments checks that no input makes the YAML or JSON reader panic,
// and that every document read encodes to valid JSON.
func FuzzDocuments(f *testing.F) {
	paths, _ := filepath.Glob(filepath.Join("testdata", "*"))
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(filepath.Ext(p), data)
	}
	f.Fuzz(func(t *testing.T, ext string, data []byte) {
		docs, err := documents("f"+ext, data)
		if err != nil {
			return
		}
		for _, d := range docs {
			if out := d.encode(); !json.Valid(out) {
				t.Fatalf("invalid JSON %q from %q", out, data)
			}
		}
	})
}

// readFixture returns the content of testdata/name.
func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// fixtures returns the names of the testdata files matching pattern.
func fixtures(t *testing.T, pattern string) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", pattern))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no fixtures match %s: %v", pattern, err)
	}
	names := make([]string, len(paths))
	for i, p := range paths {
		names[i] = filepath.Base(p)
	}
	return names
}
