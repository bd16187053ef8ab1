package registry

import (
	"sort"
	"strings"
	"sync"

	"github.com/google/btree"
)

// indexDegree is the degree of the index's btrees: nodes hold up to 31
// items, which keeps a copy-on-write path copy small and trees shallow.
const indexDegree = 16

// Index is an immutable set of entries keyed by name, with inverted indexes
// on skills, tags and labels that answer a Query without scanning every
// entry.
//
// An Index is safe for concurrent use by any number of goroutines and is
// never mutated after construction: With returns a new Index sharing
// structure with the old one. The zero value is not usable; use NewIndex.
// The *Entry values it returns are shared and must not be mutated.
type Index struct {
	byName   *btree.BTreeG[nameRef]   // every entry, by name
	postings *btree.BTreeG[posting]   // (field, term, name) for every indexed term
	counts   *btree.BTreeG[termCount] // (field, term) → number of postings

	// cloneMu serialises the O(1) Clone of the trees above in With: Clone
	// rewrites the source tree's copy-on-write context, which concurrent
	// readers never look at but concurrent Clones would race on.
	cloneMu sync.Mutex
}

// termField names the part of an entry a term was taken from.
type termField uint8

const (
	fieldSkill termField = iota // a skill's id or name, folded
	fieldTag                    // a skill tag, folded
	fieldLabel                  // a label, key + "\x00" + value, exact
	numTermFields
)

// indexItem is one indexed entry with what Search needs precomputed.
type indexItem struct {
	name  string // entry.Name
	entry *Entry
	text  string                  // folded search text, fields joined by "\x00"
	terms [numTermFields][]string // distinct terms per field, sorted
}

// nameRef is an element of Index.byName. The name is held by value so that
// a lookup probe needs no allocation.
type nameRef struct {
	name string
	item *indexItem
}

// posting is an element of Index.postings, ordered by (field, term, name).
// It holds the name, not the item, so that an update which leaves an
// entry's terms unchanged does not touch the postings at all.
type posting struct {
	field termField
	term  string // interned: the string held by Index.counts
	name  string
}

// termCount is an element of Index.counts: how many entries hold a term.
type termCount struct {
	field termField
	term  string
	n     int
}

func lessNameRef(a, b nameRef) bool { return a.name < b.name }

func lessPosting(a, b posting) bool {
	if a.field != b.field {
		return a.field < b.field
	}
	if a.term != b.term {
		return a.term < b.term
	}
	return a.name < b.name
}

func lessTermCount(a, b termCount) bool {
	if a.field != b.field {
		return a.field < b.field
	}
	return a.term < b.term
}

// NewIndex returns an index of entries. When several entries have the same
// name the last one wins. Nil entries and entries with an empty name are
// ignored. The entries are shared, not copied: they must not be mutated.
func NewIndex(entries ...*Entry) *Index {
	ix := &Index{
		byName:   btree.NewG(indexDegree, lessNameRef),
		postings: btree.NewG(indexDegree, lessPosting),
		counts:   btree.NewG(indexDegree, lessTermCount),
	}
	for _, e := range entries {
		ix.upsert(e)
	}
	return ix
}

// With returns a new index holding ix's entries with upserts applied in
// order (an upsert replaces the entry of the same name) and then deletes
// removed (names that are absent are ignored). Nil upserts and upserts with
// an empty name are ignored.
//
// ix stays valid and unchanged, and With may be called concurrently with
// any other method of ix, including With. The new index shares structure
// with ix: the cost is O((len(upserts)+len(deletes)) × changed terms per
// entry × log n), independent of the size of ix. An upsert that leaves an
// entry's skills, tags and labels unchanged touches no inverted index.
func (ix *Index) With(upserts []*Entry, deletes []string) *Index {
	ix.cloneMu.Lock()
	next := &Index{
		byName:   ix.byName.Clone(),
		postings: ix.postings.Clone(),
		counts:   ix.counts.Clone(),
	}
	ix.cloneMu.Unlock()
	for _, e := range upserts {
		next.upsert(e)
	}
	for _, name := range deletes {
		next.remove(name)
	}
	return next
}

// Get returns the entry named name.
func (ix *Index) Get(name string) (*Entry, bool) {
	ref, ok := ix.byName.Get(nameRef{name: name})
	if !ok {
		return nil, false
	}
	return ref.item.entry, true
}

// Len returns the number of entries.
func (ix *Index) Len() int { return ix.byName.Len() }

// Range calls fn for every entry in name order until fn returns false.
func (ix *Index) Range(fn func(*Entry) bool) {
	ix.byName.Ascend(func(ref nameRef) bool { return fn(ref.item.entry) })
}

// upsert adds e or replaces the entry of the same name, adding and
// removing only the postings of terms that changed. It mutates ix and is
// only called on an index that has not been published yet.
func (ix *Index) upsert(e *Entry) {
	if e == nil || e.Name == "" {
		return
	}
	it := newIndexItem(e)
	old, replaced := ix.byName.ReplaceOrInsert(nameRef{name: it.name, item: it})
	var oldItem indexItem
	if replaced {
		oldItem = *old.item
	}
	for f := range numTermFields {
		ix.updateTerms(f, it.name, oldItem.terms[f], it.terms[f])
	}
}

// updateTerms moves the postings of name for field f from the sorted terms
// old to the sorted terms cur, and interns cur in place: each element is
// replaced by the equal string the index already holds.
func (ix *Index) updateTerms(f termField, name string, old, cur []string) {
	i, j := 0, 0
	for i < len(old) || j < len(cur) {
		switch {
		case j == len(cur) || (i < len(old) && old[i] < cur[j]):
			ix.removePosting(posting{field: f, term: old[i], name: name})
			i++
		case i == len(old) || cur[j] < old[i]:
			cur[j] = ix.addPosting(posting{field: f, term: cur[j], name: name})
			j++
		default: // unchanged: keep the posting, share its interned term
			cur[j] = old[i]
			i++
			j++
		}
	}
}

// remove deletes the entry named name, if any, and its postings. It mutates
// ix and is only called on an index that has not been published yet.
func (ix *Index) remove(name string) {
	old, ok := ix.byName.Delete(nameRef{name: name})
	if !ok {
		return
	}
	for f := range numTermFields {
		ix.updateTerms(f, name, old.item.terms[f], nil)
	}
}

// addPosting inserts p, counts it and returns its interned term. A term new
// to the index is cloned, so that the index never pins the memory of the
// string it was derived from.
func (ix *Index) addPosting(p posting) string {
	key, ok := ix.counts.Get(termCount{field: p.field, term: p.term})
	if !ok {
		key = termCount{field: p.field, term: strings.Clone(p.term)}
	}
	key.n++
	ix.counts.ReplaceOrInsert(key)
	p.term = key.term
	ix.postings.ReplaceOrInsert(p)
	return key.term
}

// removePosting deletes p and uncounts it, dropping a term no entry holds.
func (ix *Index) removePosting(p posting) {
	ix.postings.Delete(p)
	key, _ := ix.counts.Get(termCount{field: p.field, term: p.term})
	if key.n--; key.n <= 0 {
		ix.counts.Delete(key)
		return
	}
	ix.counts.ReplaceOrInsert(key)
}

// count returns the number of entries holding (f, term).
func (ix *Index) count(f termField, term string) int {
	c, _ := ix.counts.Get(termCount{field: f, term: term})
	return c.n
}

// newIndexItem precomputes the folded terms and search text of e.
func newIndexItem(e *Entry) *indexItem {
	it := &indexItem{name: e.Name, entry: e}
	text := []string{e.Name}
	for k, v := range e.Labels {
		it.terms[fieldLabel] = append(it.terms[fieldLabel], labelTerm(k, v))
	}
	if c := e.Card; c != nil {
		text = append(text, c.Name, c.Description)
		for _, s := range c.Skills {
			it.terms[fieldSkill] = append(it.terms[fieldSkill], foldTerm(s.ID), foldTerm(s.Name))
			text = append(text, s.ID, s.Name, s.Description)
			for _, tag := range s.Tags {
				it.terms[fieldTag] = append(it.terms[fieldTag], foldTerm(tag))
				text = append(text, tag)
			}
		}
	}
	for f := range numTermFields {
		it.terms[f] = sortedDistinct(it.terms[f])
	}
	it.text = foldTerm(strings.Join(text, "\x00"))
	return it
}

// foldTerm is the case folding shared by indexing and searching.
func foldTerm(s string) string { return strings.ToLower(s) }

// labelTerm is the posting term of the label k=v.
func labelTerm(k, v string) string { return k + "\x00" + v }

// sortedDistinct sorts terms, drops duplicates and empty terms, and returns
// nil for an empty result.
func sortedDistinct(terms []string) []string {
	sort.Strings(terms)
	out := terms[:0]
	for i, t := range terms {
		if t != "" && (i == 0 || t != terms[i-1]) {
			out = append(out, t)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}
