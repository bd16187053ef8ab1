package store

import (
	"fmt"
	"testing"

	"github.com/sidecard/sidecard/registry"
)

// BenchmarkPut measures a durable write (encode, transaction, fsync) that
// replaces an existing entry; alternating labels make every Put a change.
func BenchmarkPut(b *testing.B) {
	s := open(b, Options{})
	variants := []*registry.Entry{entry(b, "weather", "v", "1"), entry(b, "weather", "v", "2")}
	for i := range 1000 { // a store that is not trivially small
		mustPut(b, s, entry(b, fmt.Sprintf("agent-%04d", i)), Precondition{})
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, _, err := s.Put(b.Context(), variants[i%2], Precondition{}); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkChanges measures reading a page of 100 changes from the feed,
// decoding their entries included.
func BenchmarkChanges(b *testing.B) {
	const page = 100
	s := open(b, Options{})
	for i := range 10 {
		puts := make([]*registry.Entry, page)
		for j := range puts {
			puts[j] = entry(b, fmt.Sprintf("agent-%d-%d", i, j))
		}
		if _, err := s.Apply(b.Context(), "file", puts, nil); err != nil {
			b.Fatal(err)
		}
	}
	after := s.Revision() - page
	b.ReportAllocs()
	for b.Loop() {
		changes, err := s.Changes(after, page)
		if err != nil || len(changes) != page {
			b.Fatalf("Changes = %d, %v", len(changes), err)
		}
	}
}
