package registry

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"unsafe"
)

// testEntry builds an entry; a nil card leaves Card nil.
func testEntry(name string, labels map[string]string, card *Card) *Entry {
	return &Entry{Name: name, Labels: labels, Card: card}
}

// fixtureEntries is a small registry exercising every searchable field.
func fixtureEntries() []*Entry {
	return []*Entry{
		testEntry("alpha", map[string]string{"team": "forecast", "zone": "eu-1"}, &Card{
			Name: "Alpha Weather", Description: "Forecasts the weather",
			Skills: []Skill{{ID: "forecast", Name: "Forecast", Description: "Daily forecast", Tags: []string{"Weather", "daily"}}},
		}),
		testEntry("bravo", map[string]string{"team": "forecast", "zone": "us-1"}, &Card{
			Name: "Bravo",
			Skills: []Skill{
				{ID: "nowcast", Name: "Nowcasting", Tags: []string{"weather", "radar"}},
				{ID: "translate", Name: "Translate", Tags: []string{"language"}},
			},
		}),
		testEntry("charlie", map[string]string{"team": "lang"}, &Card{
			Name:   "Charlie",
			Skills: []Skill{{ID: "translate-doc", Name: "Translate", Tags: []string{"Language", "documents"}}},
		}),
		testEntry("delta", map[string]string{"team": "forecast"}, nil),
		testEntry("echo", nil, &Card{Name: "Echo", Description: "Echoes RAIN back"}),
		testEntry("foxtrot", map[string]string{"zone": "eu-1"}, &Card{
			Name:   "Foxtrot",
			Skills: []Skill{{ID: "FORECAST", Name: "Long range", Tags: []string{"WEATHER"}}},
		}),
		testEntry("golf", map[string]string{"tier": ""}, &Card{Name: "Golf"}),
	}
}

func TestIndexSearch(t *testing.T) {
	ix := NewIndex(fixtureEntries()...)
	lbl := func(k, v string) []Label { return []Label{{Key: k, Value: v}} }
	tests := []struct {
		name string
		q    Query
		want []string
	}{
		{name: "no filter returns all", q: Query{}, want: []string{"alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf"}},
		{name: "skill by id ignores case", q: Query{Skills: []string{"forecast"}}, want: []string{"alpha", "foxtrot"}},
		{name: "skill by name", q: Query{Skills: []string{"translate"}}, want: []string{"bravo", "charlie"}},
		{name: "skill upper case", q: Query{Skills: []string{"NOWCASTING"}}, want: []string{"bravo"}},
		{name: "skill does not match a tag", q: Query{Skills: []string{"weather"}}, want: nil},
		{name: "skill does not match a substring", q: Query{Skills: []string{"fore"}}, want: nil},
		{name: "tag ignores case", q: Query{Tags: []string{"weather"}}, want: []string{"alpha", "bravo", "foxtrot"}},
		{name: "tag upper case", q: Query{Tags: []string{"LANGUAGE"}}, want: []string{"bravo", "charlie"}},
		{name: "label exact", q: Query{Labels: lbl("team", "forecast")}, want: []string{"alpha", "bravo", "delta"}},
		{name: "label value is case sensitive", q: Query{Labels: lbl("team", "Forecast")}, want: nil},
		{name: "label key is case sensitive", q: Query{Labels: lbl("Team", "forecast")}, want: nil},
		{name: "label with empty value", q: Query{Labels: lbl("tier", "")}, want: []string{"golf"}},
		{name: "two skills AND", q: Query{Skills: []string{"nowcast", "Translate"}}, want: []string{"bravo"}},
		{name: "two labels AND", q: Query{Labels: []Label{{Key: "team", Value: "forecast"}, {Key: "zone", Value: "eu-1"}}}, want: []string{"alpha"}},
		{name: "tag and label", q: Query{Tags: []string{"weather"}, Labels: lbl("zone", "eu-1")}, want: []string{"alpha", "foxtrot"}},
		{name: "skill tag and label", q: Query{Skills: []string{"forecast"}, Tags: []string{"daily"}, Labels: lbl("team", "forecast")}, want: []string{"alpha"}},
		{name: "unknown skill", q: Query{Skills: []string{"nope"}}, want: nil},
		{name: "known and unknown tag", q: Query{Tags: []string{"weather", "nope"}}, want: nil},
		{name: "text in description ignores case", q: Query{Text: "rain"}, want: []string{"echo"}},
		{name: "text in entry name", q: Query{Text: "HARL"}, want: []string{"charlie"}},
		{name: "text in card name", q: Query{Text: "alpha weather"}, want: []string{"alpha"}},
		{name: "text in skill description", q: Query{Text: "daily forecast"}, want: []string{"alpha"}},
		{name: "text in skill tag", q: Query{Text: "radar"}, want: []string{"bravo"}},
		{name: "text in skill id", q: Query{Text: "translate-doc"}, want: []string{"charlie"}},
		{name: "text in skill name", q: Query{Text: "long range"}, want: []string{"foxtrot"}},
		{name: "text does not span fields", q: Query{Text: "weather forecasts"}, want: nil},
		{name: "text does not search labels", q: Query{Text: "eu-1"}, want: nil},
		{name: "text and skill", q: Query{Text: "long", Skills: []string{"forecast"}}, want: []string{"foxtrot"}},
		{name: "text and label", q: Query{Text: "a", Labels: lbl("team", "forecast")}, want: []string{"alpha", "bravo", "delta"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page, err := ix.Search(tt.q)
			if err != nil {
				t.Fatalf("Search: %v", err)
			}
			if got := entryNames(page.Entries); !slices.Equal(got, tt.want) {
				t.Fatalf("Search(%+v) = %v, want %v", tt.q, got, tt.want)
			}
			if page.NextCursor != "" {
				t.Fatalf("NextCursor = %q on the only page", page.NextCursor)
			}
		})
	}
}

func TestIndexSearchPagination(t *testing.T) {
	entries := generateEntries(rand.New(rand.NewPCG(1, 2)), 300, 20, 10)
	ix := NewIndex(entries...)
	queries := map[string]Query{
		"all":           {},
		"skill":         {Skills: []string{"skill-3"}},
		"skill by name": {Skills: []string{"SKILL NAME 4"}},
		"tag":           {Tags: []string{"tag-1"}},
		"label":         {Labels: []Label{{Key: "zone", Value: "zone-2"}}},
		"text":          {Text: "agent-1"},
		"combined":      {Skills: []string{"skill-2"}, Tags: []string{"tag-5"}, Labels: []Label{{Key: "team", Value: "team-1"}}},
		"no match":      {Skills: []string{"skill-999"}},
	}
	for qname, q := range queries {
		want := referenceSearch(entries, q)
		for _, limit := range []int{1, 3, 7, 100, MaxLimit} {
			t.Run(fmt.Sprintf("%s/limit=%d", qname, limit), func(t *testing.T) {
				q.Limit = limit
				got := walkPages(t, ix, q)
				if !slices.Equal(got, want) {
					t.Fatalf("pages returned %d names %v, want %d names %v", len(got), got, len(want), want)
				}
			})
		}
	}
}

func TestIndexSearchLimit(t *testing.T) {
	var entries []*Entry
	for i := range MaxLimit + 50 {
		entries = append(entries, testEntry(fmt.Sprintf("agent-%05d", i), nil, nil))
	}
	ix := NewIndex(entries...)
	tests := []struct {
		name     string
		limit    int
		wantLen  int
		wantNext bool
	}{
		{name: "zero means default", limit: 0, wantLen: DefaultLimit, wantNext: true},
		{name: "negative means default", limit: -5, wantLen: DefaultLimit, wantNext: true},
		{name: "explicit", limit: 10, wantLen: 10, wantNext: true},
		{name: "capped at max", limit: MaxLimit + 40, wantLen: MaxLimit, wantNext: true},
		{name: "exactly all", limit: len(entries), wantLen: MaxLimit, wantNext: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page, err := ix.Search(Query{Limit: tt.limit})
			if err != nil {
				t.Fatalf("Search: %v", err)
			}
			if len(page.Entries) != tt.wantLen || (page.NextCursor != "") != tt.wantNext {
				t.Fatalf("got %d entries, next %q; want %d, next %v", len(page.Entries), page.NextCursor, tt.wantLen, tt.wantNext)
			}
		})
	}
}

func TestIndexSearchCursor(t *testing.T) {
	ix := NewIndex(fixtureEntries()...)
	first, err := ix.Search(Query{Limit: 2})
	if err != nil {
		t.Fatalf("Search: %v", err)
	}
	if got := entryNames(first.Entries); !slices.Equal(got, []string{"alpha", "bravo"}) {
		t.Fatalf("first page = %v", got)
	}
	// bravo, the entry the cursor points after, and charlie are deleted meanwhile.
	after := ix.With(nil, []string{"bravo", "charlie"})
	tests := []struct {
		name   string
		ix     *Index
		q      Query
		want   []string
		wantOK bool
	}{
		{name: "resumes after a deleted name", ix: after, q: Query{Cursor: first.NextCursor}, want: []string{"delta", "echo", "foxtrot", "golf"}, wantOK: true},
		{name: "resumes on the old index", ix: ix, q: Query{Cursor: first.NextCursor, Limit: 1}, want: []string{"charlie"}, wantOK: true},
		{name: "postings resume after a deleted name", ix: after, q: Query{Tags: []string{"weather"}, Cursor: first.NextCursor}, want: []string{"foxtrot"}, wantOK: true},
		{name: "name that never existed", ix: ix, q: Query{Cursor: encodeCursor("charliez")}, want: []string{"delta", "echo", "foxtrot", "golf"}, wantOK: true},
		{name: "after the last name", ix: ix, q: Query{Cursor: encodeCursor("zulu"), Skills: []string{"forecast"}}, want: nil, wantOK: true},
		{name: "not base64url", ix: ix, q: Query{Cursor: "!!"}},
		{name: "decodes to nothing", ix: ix, q: Query{Cursor: "A"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page, err := tt.ix.Search(tt.q)
			if !tt.wantOK {
				fe, ok := AsFieldError(err)
				if !ok || fe.Field != "cursor" {
					t.Fatalf("Search error = %v, want a *FieldError for cursor", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Search: %v", err)
			}
			if got := entryNames(page.Entries); !slices.Equal(got, tt.want) {
				t.Fatalf("Search = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestIndexWith(t *testing.T) {
	base := NewIndex(fixtureEntries()...)
	newAlpha := testEntry("alpha", map[string]string{"team": "lang"}, &Card{
		Name: "Alpha", Skills: []Skill{{ID: "summarize", Name: "Summarize", Tags: []string{"language"}}},
	})
	tests := []struct {
		name    string
		upserts []*Entry
		deletes []string
		q       Query
		want    []string
		wantLen int
	}{
		{name: "old skill posting removed", upserts: []*Entry{newAlpha}, q: Query{Skills: []string{"forecast"}}, want: []string{"foxtrot"}, wantLen: 7},
		{name: "old label posting removed", upserts: []*Entry{newAlpha}, q: Query{Labels: []Label{{Key: "zone", Value: "eu-1"}}}, want: []string{"foxtrot"}, wantLen: 7},
		{name: "new skill posting added", upserts: []*Entry{newAlpha}, q: Query{Skills: []string{"SUMMARIZE"}}, want: []string{"alpha"}, wantLen: 7},
		{name: "surviving tag posting points at the new entry", upserts: []*Entry{newAlpha}, q: Query{Tags: []string{"language"}, Labels: []Label{{Key: "team", Value: "lang"}}}, want: []string{"alpha", "charlie"}, wantLen: 7},
		{name: "old text gone", upserts: []*Entry{newAlpha}, q: Query{Text: "forecasts the weather"}, want: nil, wantLen: 7},
		{name: "insert", upserts: []*Entry{testEntry("aaa", map[string]string{"team": "forecast"}, nil)}, q: Query{Labels: []Label{{Key: "team", Value: "forecast"}}}, want: []string{"aaa", "alpha", "bravo", "delta"}, wantLen: 8},
		{name: "delete", deletes: []string{"bravo"}, q: Query{Tags: []string{"weather"}}, want: []string{"alpha", "foxtrot"}, wantLen: 6},
		{name: "delete absent name", deletes: []string{"nope"}, q: Query{Tags: []string{"weather"}}, want: []string{"alpha", "bravo", "foxtrot"}, wantLen: 7},
		{name: "upsert then delete in one call", upserts: []*Entry{newAlpha}, deletes: []string{"alpha"}, q: Query{Text: "alpha"}, want: nil, wantLen: 6},
		{name: "later upsert wins", upserts: []*Entry{testEntry("alpha", nil, nil), newAlpha}, q: Query{Skills: []string{"summarize"}}, want: []string{"alpha"}, wantLen: 7},
		{name: "nil and unnamed upserts ignored", upserts: []*Entry{nil, {}}, q: Query{}, want: []string{"alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf"}, wantLen: 7},
		{name: "card removed", upserts: []*Entry{testEntry("foxtrot", nil, nil)}, q: Query{Tags: []string{"weather"}}, want: []string{"alpha", "bravo"}, wantLen: 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := snapshot(t, base)
			next := base.With(tt.upserts, tt.deletes)
			page, err := next.Search(tt.q)
			if err != nil {
				t.Fatalf("Search: %v", err)
			}
			if got := entryNames(page.Entries); !slices.Equal(got, tt.want) {
				t.Fatalf("Search = %v, want %v", got, tt.want)
			}
			if next.Len() != tt.wantLen {
				t.Fatalf("Len = %d, want %d", next.Len(), tt.wantLen)
			}
			checkInvariants(t, next)
			checkInvariants(t, base)
			if after := snapshot(t, base); !reflect.DeepEqual(after, before) {
				t.Fatalf("old index changed:\nbefore %v\nafter  %v", before, after)
			}
		})
	}
}

func TestIndexGet(t *testing.T) {
	entries := fixtureEntries()
	dup := testEntry("alpha", nil, nil)
	ix := NewIndex(append(entries, dup, nil)...)
	tests := []struct {
		name   string
		lookup string
		want   *Entry
	}{
		{name: "last duplicate wins", lookup: "alpha", want: dup},
		{name: "entry without card", lookup: "delta", want: entries[3]},
		{name: "absent", lookup: "zulu", want: nil},
		{name: "empty name", lookup: "", want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ix.Get(tt.lookup)
			if got != tt.want || ok != (tt.want != nil) {
				t.Fatalf("Get(%q) = %v, %v; want %v", tt.lookup, got, ok, tt.want)
			}
		})
	}
	if ix.Len() != len(entries) {
		t.Fatalf("Len = %d, want %d", ix.Len(), len(entries))
	}
}

func TestIndexRange(t *testing.T) {
	ix := NewIndex(fixtureEntries()...)
	tests := []struct {
		name  string
		stopN int
		want  []string
	}{
		{name: "all in name order", stopN: -1, want: []string{"alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf"}},
		{name: "stops when fn returns false", stopN: 2, want: []string{"alpha", "bravo"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			ix.Range(func(e *Entry) bool {
				got = append(got, e.Name)
				return len(got) != tt.stopN
			})
			if !slices.Equal(got, tt.want) {
				t.Fatalf("Range = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestIndexWithRandom applies random changes and compares every version of
// the index with a plain map searched by brute force.
func TestIndexWithRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 9))
	pool := generateEntries(rng, 120, 15, 8)
	model := map[string]*Entry{}
	ix := NewIndex()
	var versions []*Index
	var models [][]*Entry
	for range 60 {
		var upserts []*Entry
		var deletes []string
		for range rng.IntN(6) {
			e := *pool[rng.IntN(len(pool))]
			e.Card = pool[rng.IntN(len(pool))].Card // same name, other content
			upserts = append(upserts, &e)
			model[e.Name] = &e
		}
		for range rng.IntN(4) {
			name := pool[rng.IntN(len(pool))].Name
			deletes = append(deletes, name)
			delete(model, name)
		}
		ix = ix.With(upserts, deletes)
		versions = append(versions, ix)
		models = append(models, modelEntries(model))
	}
	queries := []Query{{}, {Skills: []string{"skill-1"}}, {Tags: []string{"tag-2"}}, {Labels: []Label{{Key: "team", Value: "team-0"}}}, {Text: "skill name 3"}}
	for i, v := range versions {
		checkInvariants(t, v)
		for _, q := range queries {
			q.Limit = 4
			if got, want := walkPages(t, v, q), referenceSearch(models[i], q); !slices.Equal(got, want) {
				t.Fatalf("version %d, query %+v: got %v, want %v", i, q, got, want)
			}
		}
	}
}

// TestIndexConcurrentUse derives new versions from one index while others
// read it; run with -race.
func TestIndexConcurrentUse(t *testing.T) {
	entries := generateEntries(rand.New(rand.NewPCG(3, 4)), 200, 10, 5)
	ix := NewIndex(entries...)
	want := referenceSearch(entries, Query{Tags: []string{"tag-1"}})
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 4 {
		wg.Go(func() {
			for i := range 50 {
				next := ix.With([]*Entry{testEntry(fmt.Sprintf("w%d-%d", w, i), nil, nil)}, []string{entries[i].Name})
				if next.Len() != ix.Len() {
					errs <- fmt.Errorf("writer %d: Len %d, want %d", w, next.Len(), ix.Len())
					return
				}
			}
		})
		wg.Go(func() {
			for range 50 {
				page, err := ix.Search(Query{Tags: []string{"tag-1"}, Limit: MaxLimit})
				if err != nil || !slices.Equal(entryNames(page.Entries), want) {
					errs <- fmt.Errorf("reader %d: got %v, %v", w, entryNames(page.Entries), err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// walkPages follows NextCursor from the first page to the last and returns
// every name, failing on an empty page before the last.
func walkPages(t *testing.T, ix *Index, q Query) []string {
	t.Helper()
	var names []string
	for pages := 0; ; pages++ {
		if pages > ix.Len()+1 {
			t.Fatalf("pagination does not terminate")
		}
		page, err := ix.Search(q)
		if err != nil {
			t.Fatalf("Search(%+v): %v", q, err)
		}
		names = append(names, entryNames(page.Entries)...)
		if page.NextCursor == "" {
			return names
		}
		if len(page.Entries) != max(q.Limit, 1) {
			t.Fatalf("page of %d entries with limit %d has a next cursor", len(page.Entries), q.Limit)
		}
		q.Cursor = page.NextCursor
	}
}

// referenceSearch answers q by brute force over entries, independently of
// the index, and returns the names in order.
func referenceSearch(entries []*Entry, q Query) []string {
	var names []string
	for _, e := range entries {
		if referenceMatch(e, q) {
			names = append(names, e.Name)
		}
	}
	slices.Sort(names)
	return names
}

func referenceMatch(e *Entry, q Query) bool {
	for _, l := range q.Labels {
		if v, ok := e.Labels[l.Key]; !ok || v != l.Value {
			return false
		}
	}
	var skills []Skill
	fields := []string{e.Name}
	if e.Card != nil {
		skills = e.Card.Skills
		fields = append(fields, e.Card.Name, e.Card.Description)
	}
	for _, want := range q.Skills {
		if !slices.ContainsFunc(skills, func(s Skill) bool { return strings.EqualFold(s.ID, want) || strings.EqualFold(s.Name, want) }) {
			return false
		}
	}
	for _, want := range q.Tags {
		if !slices.ContainsFunc(skills, func(s Skill) bool {
			return slices.ContainsFunc(s.Tags, func(tag string) bool { return strings.EqualFold(tag, want) })
		}) {
			return false
		}
	}
	if q.Text == "" {
		return true
	}
	for _, s := range skills {
		fields = append(fields, s.ID, s.Name, s.Description)
		fields = append(fields, s.Tags...)
	}
	return slices.ContainsFunc(fields, func(f string) bool { return strings.Contains(strings.ToLower(f), strings.ToLower(q.Text)) })
}

// checkInvariants verifies that the postings and counts of ix describe
// exactly the entries of ix.
func checkInvariants(t *testing.T, ix *Index) {
	t.Helper()
	wantCounts := map[termCount]int{}
	ix.byName.Ascend(func(ref nameRef) bool {
		fresh := newIndexItem(ref.item.entry)
		if ref.name != ref.item.name || !reflect.DeepEqual(fresh.terms, ref.item.terms) || fresh.text != ref.item.text {
			t.Errorf("item %q is stale", ref.name)
		}
		for f := range numTermFields {
			for _, term := range ref.item.terms[f] {
				wantCounts[termCount{field: f, term: term}]++
				if !ix.postings.Has(posting{field: f, term: term, name: ref.name}) {
					t.Errorf("posting (%d, %q, %q) missing", f, term, ref.name)
				}
				if c, _ := ix.counts.Get(termCount{field: f, term: term}); unsafe.StringData(c.term) != unsafe.StringData(term) {
					t.Errorf("term (%d, %q) of %q is not interned", f, term, ref.name)
				}
			}
		}
		return true
	})
	postings := 0
	ix.postings.Ascend(func(p posting) bool {
		postings++
		if ref, ok := ix.byName.Get(nameRef{name: p.name}); !ok || !slices.Contains(ref.item.terms[p.field], p.term) {
			t.Errorf("posting (%d, %q, %q) has no current entry holding its term", p.field, p.term, p.name)
		}
		return true
	})
	gotCounts := map[termCount]int{}
	ix.counts.Ascend(func(c termCount) bool {
		gotCounts[termCount{field: c.field, term: c.term}] = c.n
		return true
	})
	if !reflect.DeepEqual(gotCounts, wantCounts) {
		t.Errorf("term counts = %v, want %v", gotCounts, wantCounts)
	}
	total := 0
	for _, n := range wantCounts {
		total += n
	}
	if postings != total {
		t.Errorf("%d postings, want %d", postings, total)
	}
}

// snapshot renders everything observable about ix, to detect mutation.
func snapshot(t *testing.T, ix *Index) []string {
	t.Helper()
	var out []string
	ix.byName.Ascend(func(ref nameRef) bool {
		out = append(out, fmt.Sprintf("entry %s %p", ref.name, ref.item.entry))
		return true
	})
	ix.postings.Ascend(func(p posting) bool {
		out = append(out, fmt.Sprintf("posting %d %q %s", p.field, p.term, p.name))
		return true
	})
	ix.counts.Ascend(func(c termCount) bool {
		out = append(out, fmt.Sprintf("count %d %q %d", c.field, c.term, c.n))
		return true
	})
	return out
}

func entryNames(entries []*Entry) []string {
	var names []string
	for _, e := range entries {
		names = append(names, e.Name)
	}
	return names
}

func modelEntries(m map[string]*Entry) []*Entry {
	out := make([]*Entry, 0, len(m))
	for _, e := range m {
		out = append(out, e)
	}
	return out
}

// generateEntries returns n entries named agent-NNNNNN with about three
// skills each from a vocabulary of nSkills ids, two tags per skill from
// nTags, and team and zone labels. Every tenth entry has no card.
func generateEntries(rng *rand.Rand, n, nSkills, nTags int) []*Entry {
	entries := make([]*Entry, n)
	for i := range entries {
		e := &Entry{
			Name:   fmt.Sprintf("agent-%06d", i),
			Labels: map[string]string{"team": fmt.Sprintf("team-%d", rng.IntN(20)), "zone": fmt.Sprintf("zone-%d", rng.IntN(5))},
		}
		if i%10 != 9 {
			e.Card = &Card{Name: fmt.Sprintf("Agent %d", i), Description: fmt.Sprintf("Agent number %d, generated for tests", i)}
			for range 2 + rng.IntN(3) {
				k := rng.IntN(nSkills)
				e.Card.Skills = append(e.Card.Skills, Skill{
					ID:          fmt.Sprintf("skill-%d", k),
					Name:        fmt.Sprintf("Skill Name %d", k),
					Description: fmt.Sprintf("Does thing %d well", k),
					Tags:        []string{fmt.Sprintf("tag-%d", rng.IntN(nTags)), fmt.Sprintf("Tag-%d", rng.IntN(nTags))},
				})
			}
		}
		entries[i] = e
	}
	return entries
}
