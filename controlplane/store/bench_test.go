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

// listCard is an A2A v0.3 card of about 1 KB, like those of the load tool
// (cmd/sidecard-xdsload); %d is the agent's index.
const listCard = `{"protocolVersion":"0.3.0","name":"Agent %d","description":"Load-test agent: answers questions in ` +
	`its field, keeps a short memory of the conversation and hands over to a human when unsure.",` +
	`"url":"http://10.0.0.7:9001/a2a","preferredTransport":"JSONRPC","version":"1.0.0",` +
	`"provider":{"organization":"Team t1","url":"https://t1.example.com"},` +
	`"capabilities":{"streaming":true,"pushNotifications":false},` +
	`"defaultInputModes":["text/plain","application/json"],"defaultOutputModes":["text/plain","application/json"],` +
	`"skills":[{"id":"forecast","name":"Forecast","description":"Gives a weather forecast for a place and a day.",` +
	`"tags":["forecast","tag-1","t1"],"examples":["Please help with forecast number 1."]},` +
	`{"id":"route","name":"Route planning","description":"Plans a route between two addresses by road or rail.",` +
	`"tags":["route","tag-2","t1"],"examples":["Please help with route number 2."]},` +
	`{"id":"invoice","name":"Invoice lookup","description":"Finds an invoice by customer, number or amount.",` +
	`"tags":["invoice","tag-3","t1"],"examples":["Please help with invoice number 3."]}]}`

// BenchmarkList measures listing a store of listEntries entries of about
// 1.3 KB each (the cache load at start-up and after a compacted feed).
func BenchmarkList(b *testing.B) {
	const listEntries = 10_000
	s := open(b, Options{})
	for i := 0; i < listEntries; i += 1000 {
		puts := make([]*registry.Entry, 1000)
		for j := range puts {
			card, err := registry.ParseCard(fmt.Appendf(nil, listCard, i+j))
			if err != nil {
				b.Fatal(err)
			}
			puts[j] = &registry.Entry{Name: fmt.Sprintf("agent-%06d", i+j), Card: card,
				Labels:    map[string]string{"team": "t1", "zone": "eu-1"},
				Endpoints: []registry.Endpoint{{URL: "http://10.0.0.7:9001/a2a", Weight: 1}}}
		}
		if _, err := s.Apply(b.Context(), "file", puts, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		entries, _, err := s.List()
		if err != nil || len(entries) != listEntries {
			b.Fatalf("List = %d entries, %v", len(entries), err)
		}
	}
}
