package registry_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/sidecard/sidecard/registry"
)

// FuzzParseCard checks the invariants of checkCard on arbitrary input.
func FuzzParseCard(f *testing.F) {
	for _, data := range fuzzSeeds(f, "testdata/cards/*.json", "testdata/entries/*.json") {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkCard(t, data) })
}

// FuzzParseEntry checks the invariants of checkEntry on arbitrary input.
func FuzzParseEntry(f *testing.F) {
	for _, data := range fuzzSeeds(f, "testdata/entries/*.json", "testdata/cards/*.good.json") {
		f.Add(data, "")
		f.Add(data, "weather")
	}
	f.Fuzz(checkEntry)
}

// TestParseTypeSubstitutions replaces every value of every good card fixture
// with values of each JSON type in turn, a systematic complement to the
// fuzzers for errors such as a null where an array was expected.
func TestParseTypeSubstitutions(t *testing.T) {
	files, err := filepath.Glob("testdata/cards/*.good.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no good card fixtures: %v", err)
	}
	replacements := []any{nil, 1, "", []any{nil}, map[string]any{}}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			var doc any
			if err := json.Unmarshal(readTestdata(t, file), &doc); err != nil {
				t.Fatal(err)
			}
			for _, p := range valuePaths(doc, nil) {
				for _, r := range replacements {
					data := substitute(t, doc, p, r)
					checkCard(t, data)
					checkEntry(t, data, "")
				}
			}
		})
	}
}

// checkCard checks that ParseCard fails only with a *FieldError for a "card"
// path, and that a parsed card's JSON is valid, re-emitted verbatim by
// encoding/json and parses to the same card.
func checkCard(t *testing.T, data []byte) {
	t.Helper()
	card, err := registry.ParseCard(data)
	if err != nil {
		fe, ok := registry.AsFieldError(err)
		if !ok || !strings.HasPrefix(fe.Field, "card") || card != nil {
			t.Fatalf("ParseCard(%s) error %v (%T) with card %v", data, err, err, card)
		}
		return
	}
	if !json.Valid(card.JSON()) {
		t.Fatalf("normalised card is not valid JSON: %s", card.JSON())
	}
	if out, err := json.Marshal(card); err != nil || !bytes.Equal(out, card.JSON()) {
		t.Fatalf("json.Marshal(card) = %s, %v; want %s", out, err, card.JSON())
	}
	again, err := registry.ParseCard(card.JSON())
	if err != nil {
		t.Fatalf("normalised card does not parse: %v\n%s", err, card.JSON())
	}
	if !reflect.DeepEqual(card, again) {
		t.Fatalf("reparsing changed the card:\nfirst:  %+v\nsecond: %+v", card, again)
	}
}

// checkEntry checks that ParseEntry fails only with a *FieldError, returns
// valid entries named by the path name when there is one, and that a parsed
// entry marshals to a form that parses back to a ContentEqual entry.
func checkEntry(t *testing.T, data []byte, name string) {
	t.Helper()
	e, err := registry.ParseEntry(data, name)
	if err != nil {
		if _, ok := registry.AsFieldError(err); !ok || e != nil {
			t.Fatalf("ParseEntry(%s) error %v (%T) with entry %v", data, err, err, e)
		}
		return
	}
	if err := e.Validate(); err != nil {
		t.Fatalf("parsed entry does not validate: %v", err)
	}
	if name != "" && e.Name != name {
		t.Fatalf("name = %q, want the path name %q", e.Name, name)
	}
	out, err := json.Marshal(e)
	if err != nil {
		t.Fatalf("json.Marshal(entry): %v", err)
	}
	for _, pathName := range []string{"", e.Name} {
		again, err := registry.ParseEntry(out, pathName)
		if err != nil {
			t.Fatalf("marshalled entry does not parse with path name %q: %v\n%s", pathName, err, out)
		}
		if !e.ContentEqual(again) {
			t.Fatalf("round trip changed the entry:\nfirst:  %+v\nsecond: %+v", *e, *again)
		}
	}
}

// fuzzSeeds reads the files matching patterns.
func fuzzSeeds(f *testing.F, patterns ...string) [][]byte {
	f.Helper()
	var seeds [][]byte
	for _, pattern := range patterns {
		files, err := filepath.Glob(pattern)
		if err != nil || len(files) == 0 {
			f.Fatalf("no seed files match %s: %v", pattern, err)
		}
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			seeds = append(seeds, data)
		}
	}
	return seeds
}

// valuePaths lists the paths (keys and indexes, as for lookup) of every
// value below v.
func valuePaths(v any, prefix []any) [][]any {
	var paths [][]any
	add := func(k, child any) {
		p := append(append([]any(nil), prefix...), k)
		paths = append(append(paths, p), valuePaths(child, p)...)
	}
	switch c := v.(type) {
	case map[string]any:
		for k, child := range c {
			add(k, child)
		}
	case []any:
		for i, child := range c {
			add(i, child)
		}
	}
	return paths
}

// substitute returns doc encoded with the value at path p replaced by r;
// doc itself is left unchanged.
func substitute(t *testing.T, doc any, p []any, r any) []byte {
	t.Helper()
	parent := lookup(doc, p[:len(p)-1]...)
	var old any
	switch c := parent.(type) {
	case map[string]any:
		k := p[len(p)-1].(string)
		old, c[k] = c[k], r
		defer func() { c[k] = old }()
	case []any:
		i := p[len(p)-1].(int)
		old, c[i] = c[i], r
		defer func() { c[i] = old }()
	}
	data, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
