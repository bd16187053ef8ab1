package a2aregistry

import (
	"maps"
	"slices"

	"github.com/sidecard/sidecard/registry"
)

// Helpers for Registry implementations that read a registry.Index (the
// control plane's view, a sidecar's replica) and write through an API that
// stores whole entries.

// ListIndex returns the first limit entries of ix in name order, as
// Reader.List. The slice is new; the entries are ix's, shared.
func ListIndex(ix *registry.Index, limit int) []*registry.Entry {
	out := make([]*registry.Entry, 0, min(limit, ix.Len()))
	if limit <= 0 {
		return out
	}
	ix.Range(func(e *registry.Entry) bool {
		out = append(out, e)
		return len(out) < limit
	})
	return out
}

// SearchIndex returns, in name order, the first limit entries of ix whose
// text contains query and that have at least one of skills (every entry
// when skills is empty), as Reader.Search. The slice is new; the entries
// are ix's, shared.
func SearchIndex(ix *registry.Index, query string, skills []string, limit int) ([]*registry.Entry, error) {
	if len(skills) == 0 {
		return searchAll(ix, registry.Query{Text: query}, limit)
	}
	// Skills OR together: the union of the first limit entries of each skill
	// holds the first limit entries of the union.
	byName := make(map[string]*registry.Entry)
	for _, skill := range skills {
		found, err := searchAll(ix, registry.Query{Text: query, Skills: []string{skill}}, limit)
		if err != nil {
			return nil, err
		}
		for _, e := range found {
			byName[e.Name] = e
		}
	}
	names := slices.Sorted(maps.Keys(byName))
	out := make([]*registry.Entry, 0, min(limit, len(names)))
	for _, name := range names[:min(limit, len(names))] {
		out = append(out, byName[name])
	}
	return out, nil
}

// searchAll pages through ix until it has limit matches of q or no more.
func searchAll(ix *registry.Index, q registry.Query, limit int) ([]*registry.Entry, error) {
	var out []*registry.Entry
	for len(out) < limit {
		q.Limit = min(limit-len(out), registry.MaxLimit)
		page, err := ix.Search(q)
		if err != nil {
			return nil, err
		}
		out = append(out, page.Entries...)
		if page.NextCursor == "" {
			break
		}
		q.Cursor = page.NextCursor
	}
	return out, nil
}

// MergeRegistration returns the entry a registration of e stores over
// existing, the entry of that name already there: a copy of e that keeps
// what a card cannot say — existing's labels other than LabelNormalised
// (e's labels win), its ttl_seconds, and its endpoints unless they were the
// defaults of its old card (then they follow e's card). Neither argument
// is modified.
func MergeRegistration(e, existing *registry.Entry) *registry.Entry {
	out := e.Clone()
	labels := maps.Clone(existing.Labels)
	delete(labels, LabelNormalised)
	if labels == nil && len(e.Labels) > 0 {
		labels = make(map[string]string, len(e.Labels))
	}
	maps.Copy(labels, e.Labels)
	if len(labels) == 0 {
		labels = nil
	}
	out.Labels = labels
	out.TTLSeconds = existing.TTLSeconds
	if !slices.Equal(existing.Endpoints, existing.Card.DefaultEndpoints()) {
		out.Endpoints = slices.Clone(existing.Endpoints)
	}
	return out
}
