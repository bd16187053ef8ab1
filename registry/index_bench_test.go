package registry

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// Benchmark registry shape: ~3 skills per entry from 200 skill ids, 2 tags
// per skill from 100 tags, team and zone labels.
const (
	benchSkills = 200
	benchTags   = 100
)

// benchIndex returns an index of n generated entries and the entries.
func benchIndex(b *testing.B, n int) (*Index, []*Entry) {
	b.Helper()
	entries := generateEntries(rand.New(rand.NewPCG(42, 42)), n, benchSkills, benchTags)
	return NewIndex(entries...), entries
}

// benchSearch runs q against a 10k-entry index and reports entries per page.
func benchSearch(b *testing.B, q Query) {
	ix, _ := benchIndex(b, 10_000)
	var n int
	for b.Loop() {
		page, err := ix.Search(q)
		if err != nil {
			b.Fatal(err)
		}
		n = len(page.Entries)
	}
	if n == 0 {
		b.Fatalf("query %+v matched nothing", q)
	}
	b.ReportMetric(float64(n), "entries/op")
}

func BenchmarkSearchSkill(b *testing.B) { benchSearch(b, Query{Skills: []string{"skill-7"}}) }

func BenchmarkSearchTag(b *testing.B) { benchSearch(b, Query{Tags: []string{"tag-7"}}) }

func BenchmarkSearchLabel(b *testing.B) {
	benchSearch(b, Query{Labels: []Label{{Key: "team", Value: "team-7"}}})
}

// BenchmarkSearchSkillAndLabel has a selective skill drive the walk and a
// broad label filter candidates.
func BenchmarkSearchSkillAndLabel(b *testing.B) {
	benchSearch(b, Query{Skills: []string{"skill-7"}, Labels: []Label{{Key: "zone", Value: "zone-1"}}})
}

// BenchmarkSearchText matches few entries, so it scans most of the index.
func BenchmarkSearchText(b *testing.B) { benchSearch(b, Query{Text: "does thing 7 well"}) }

// BenchmarkSearchPaginate walks every page of a tag filter, 100 per page.
func BenchmarkSearchPaginate(b *testing.B) {
	ix, _ := benchIndex(b, 10_000)
	var total int
	for b.Loop() {
		total = 0
		q := Query{Tags: []string{"tag-3"}, Limit: 100}
		for {
			page, err := ix.Search(q)
			if err != nil {
				b.Fatal(err)
			}
			total += len(page.Entries)
			if page.NextCursor == "" {
				break
			}
			q.Cursor = page.NextCursor
		}
	}
	b.ReportMetric(float64(total), "entries/op")
}

func BenchmarkGet(b *testing.B) {
	ix, entries := benchIndex(b, 10_000)
	i := 0
	for b.Loop() {
		if _, ok := ix.Get(entries[i%len(entries)].Name); !ok {
			b.Fatal("entry missing")
		}
		i++
	}
}

// BenchmarkWithOneChange derives a new version with one entry replaced, the
// way a replica applies one update; its cost must not grow with the index.
// terms=same replaces an entry by a copy with a new revision (a lease
// renewal, an endpoint change); terms=changed gives it another entry's card.
func BenchmarkWithOneChange(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		ix, entries := benchIndex(b, n)
		for _, changed := range []bool{false, true} {
			name := fmt.Sprintf("entries=%d/terms=same", n)
			if changed {
				name = fmt.Sprintf("entries=%d/terms=changed", n)
			}
			b.Run(name, func(b *testing.B) {
				rng := rand.New(rand.NewPCG(1, 1))
				next := ix
				for b.Loop() {
					e := *entries[rng.IntN(len(entries))]
					e.Revision++
					if changed {
						e.Card = entries[rng.IntN(len(entries))].Card
					}
					next = next.With([]*Entry{&e}, nil)
				}
			})
		}
	}
}
