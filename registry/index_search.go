package registry

import (
	"slices"
	"strings"
)

// Page is one page of search results.
type Page struct {
	// Entries are the matching entries in name order. The slice belongs to
	// the caller; the entries are shared and must not be mutated.
	Entries []*Entry
	// NextCursor resumes the search after the last entry of this page; it
	// is "" on the last page.
	NextCursor string
}

// Search returns the page of entries matching q, in name order, that
// follows q.Cursor. A Limit <= 0 means DefaultLimit, one above MaxLimit
// means MaxLimit. The only error is an invalid cursor: a *FieldError for
// "cursor". A valid cursor stays valid across later versions of the index,
// even when the entry it points after has been deleted.
//
// Skill, tag and label filters are answered from the inverted indexes: the
// filter term held by the fewest entries (counted exactly per term; ties go
// to skill, then label, then tag) drives a walk of its postings in name
// order from the cursor, and each candidate is checked against the other
// filters and Text. A term no entry holds answers at once. A query with
// only Text scans entries in name order from the cursor until the page is
// full (one match past it decides NextCursor), at worst the whole index.
func (ix *Index) Search(q Query) (Page, error) {
	after, err := decodeCursor(q.Cursor)
	if err != nil {
		return Page{}, err
	}
	limit := q.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	limit = min(limit, MaxLimit)

	m := newMatcher(q)
	var page Page
	visit := func(it *indexItem) bool {
		if !m.matches(it) {
			return true
		}
		if len(page.Entries) == limit {
			// One more match exists: this page is not the last.
			page.NextCursor = encodeCursor(page.Entries[limit-1].Name)
			return false
		}
		page.Entries = append(page.Entries, it.entry)
		return true
	}

	f, term, n, ok := ix.drivingTerm(m)
	switch {
	case !ok:
		ix.scanNames(after, visit)
	case n > 0:
		page.Entries = make([]*Entry, 0, min(n, limit))
		ix.scanPostings(f, term, after, visit)
	}
	return page, nil
}

// drivingTerm returns the filter term of m held by the fewest entries and
// that number; ok is false when m has no skill, tag or label filter.
func (ix *Index) drivingTerm(m *matcher) (f termField, term string, n int, ok bool) {
	consider := func(cf termField, ct string) {
		if cn := ix.count(cf, ct); !ok || cn < n {
			f, term, n, ok = cf, ct, cn, true
		}
	}
	for _, s := range m.skills {
		consider(fieldSkill, s)
	}
	for _, l := range m.labels {
		consider(fieldLabel, labelTerm(l.Key, l.Value))
	}
	for _, t := range m.tags {
		consider(fieldTag, t)
	}
	return f, term, n, ok
}

// scanNames calls visit for every entry after the name after, in name order,
// until visit returns false.
func (ix *Index) scanNames(after string, visit func(*indexItem) bool) {
	fn := func(ref nameRef) bool { return visit(ref.item) }
	if after == "" {
		ix.byName.Ascend(fn)
		return
	}
	ix.byName.AscendGreaterOrEqual(nameRef{name: after + "\x00"}, fn)
}

// scanPostings calls visit for every entry holding (f, term) whose name
// follows after, in name order, until visit returns false.
func (ix *Index) scanPostings(f termField, term, after string, visit func(*indexItem) bool) {
	start := posting{field: f, term: term}
	if after != "" {
		// after+"\x00" is the smallest name greater than after.
		start.name = after + "\x00"
	}
	ix.postings.AscendGreaterOrEqual(start, func(p posting) bool {
		if p.field != f || p.term != term {
			return false
		}
		ref, _ := ix.byName.Get(nameRef{name: p.name}) // present: postings follow byName
		return visit(ref.item)
	})
}

// matcher is a Query compiled for matching: its terms folded once.
type matcher struct {
	skills []string // folded
	tags   []string // folded
	labels []Label
	text   string // folded
}

func newMatcher(q Query) *matcher {
	m := &matcher{labels: q.Labels, text: foldTerm(q.Text)}
	for _, s := range q.Skills {
		m.skills = append(m.skills, foldTerm(s))
	}
	for _, t := range q.Tags {
		m.tags = append(m.tags, foldTerm(t))
	}
	return m
}

// matches reports whether it satisfies every filter of m.
func (m *matcher) matches(it *indexItem) bool {
	for _, s := range m.skills {
		if !slices.Contains(it.terms[fieldSkill], s) {
			return false
		}
	}
	for _, t := range m.tags {
		if !slices.Contains(it.terms[fieldTag], t) {
			return false
		}
	}
	for _, l := range m.labels {
		if v, ok := it.entry.Labels[l.Key]; !ok || v != l.Value {
			return false
		}
	}
	return m.text == "" || strings.Contains(it.text, m.text)
}
