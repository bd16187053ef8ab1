package registry

import (
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// FuzzParseQuery checks that ParseQuery never panics, that it fails only
// with a *FieldError, that Encode of an accepted query parses back to the
// same query, and that searching with it agrees with a brute-force search.
func FuzzParseQuery(f *testing.F) {
	for _, seed := range []string{
		"",
		"skill=forecast&tag=weather&label=team%3Dforecast&q=rain&limit=10&cursor=YWxwaGE",
		"label=k%3Da%3Db&label=k%3D",
		"limit=0",
		"limit=1001",
		"cursor=%2F%2F",
		"skill=&tag=x",
		"unknown=1",
		"q=%00%FF&q=x",
	} {
		f.Add(seed)
	}
	entries := fixtureEntries()
	ix := NewIndex(entries...)
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		q, err := ParseQuery(v)
		if err != nil {
			if _, ok := AsFieldError(err); !ok {
				t.Fatalf("ParseQuery(%q) error %v is not a *FieldError", raw, err)
			}
			return
		}
		back, err := ParseQuery(q.Encode())
		if err != nil {
			t.Fatalf("ParseQuery(Encode(%+v)): %v", q, err)
		}
		if !reflect.DeepEqual(back, q) {
			t.Fatalf("round trip of %q: got %+v, want %+v", raw, back, q)
		}
		q.Cursor, q.Limit = "", MaxLimit
		page, err := ix.Search(q)
		if err != nil {
			t.Fatalf("Search(%+v): %v", q, err)
		}
		// The index joins text fields with NUL, so only a needle without
		// NUL is guaranteed to match within one field.
		if want := referenceSearch(entries, q); !strings.Contains(q.Text, "\x00") && !slices.Equal(entryNames(page.Entries), want) {
			t.Fatalf("Search(%+v) = %v, want %v", q, entryNames(page.Entries), want)
		}
	})
}
