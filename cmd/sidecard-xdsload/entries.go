package main

import (
	"fmt"
	"strconv"

	"google.golang.org/protobuf/proto"

	"github.com/sidecard/sidecard/registry"
)

// zones and skills give the generated entries some variety.
var (
	zones  = []string{"eu-1", "eu-2", "us-1", "ap-1"}
	skills = []struct{ id, name, what string }{
		{"forecast", "Forecast", "Gives a weather forecast for a place and a day, with the confidence of each figure"},
		{"route", "Route planning", "Plans a route between two addresses by road, rail or bike, avoiding known closures"},
		{"invoice", "Invoice lookup", "Finds an invoice by customer, number or amount and explains each of its lines"},
		{"translate", "Translation", "Translates a short text between English, French, German and Spanish, keeping the tone"},
		{"summarise", "Summary", "Summarises a document or a thread in a few sentences, keeping names, dates and figures"},
	}
)

// cardTemplate is an A2A v0.3 card of about 1 KB. Its verbs: the agent's
// display name, its index, its team, its zone, its URL, its version, its
// team twice (provider), three skills.
const cardTemplate = `{"protocolVersion":"0.3.0","name":%q,` +
	`"description":"Load-test agent %d of team %s in zone %s: answers questions in its field, keeps a short memory of the conversation and hands over to a human when unsure.",` +
	`"url":%q,"preferredTransport":"JSONRPC","version":%q,` +
	`"provider":{"organization":"Team %s","url":"https://%s.example.com"},` +
	`"capabilities":{"streaming":true,"pushNotifications":false},` +
	`"defaultInputModes":["text/plain","application/json"],"defaultOutputModes":["text/plain","application/json"],` +
	`"skills":[%s,%s,%s]}`

const skillTemplate = `{"id":%q,"name":%q,"description":%q,"tags":[%q,"tag-%d","%s"],"examples":["Please help with %s number %d."]}`

// entryName returns the name of the i-th generated entry.
func entryName(i int) string { return fmt.Sprintf("agent-%06d", i) }

// generateEntry returns the i-th generated entry: valid, distinct, about
// 1 KB (3 skills, tags, labels team and zone, one endpoint), the same in
// every run.
func generateEntry(i int) (*registry.Entry, error) {
	team := "t" + strconv.Itoa(i%20)
	zone := zones[i%len(zones)]
	url := fmt.Sprintf("http://10.%d.%d.%d:9001/a2a", (i>>16)&255, (i>>8)&255, i&255)
	sk := make([]any, 3)
	for j := range sk {
		s := skills[(i+j)%len(skills)]
		sk[j] = fmt.Sprintf(skillTemplate, s.id, s.name, s.what+".", s.id, (i*7+j)%100, team, s.id, i)
	}
	raw := fmt.Sprintf(cardTemplate, "Agent "+strconv.Itoa(i), i, team, zone, url,
		"1."+strconv.Itoa(i%10)+"."+strconv.Itoa(i), team, team, sk[0], sk[1], sk[2])
	card, err := registry.ParseCard([]byte(raw))
	if err != nil {
		return nil, fmt.Errorf("generate entry %d: %w", i, err)
	}
	e := &registry.Entry{
		Name:      entryName(i),
		Labels:    map[string]string{"team": team, "zone": zone},
		Endpoints: []registry.Endpoint{{URL: url, Weight: 1}},
		Card:      card,
	}
	if err := e.Validate(); err != nil {
		return nil, fmt.Errorf("generate entry %d: %w", i, err)
	}
	return e, nil
}

// writeTargets returns the k entries the writes change, spread over the
// first m generated entries, in write order.
func writeTargets(m, k int) ([]*registry.Entry, error) {
	out := make([]*registry.Entry, k)
	for i := range out {
		e, err := generateEntry(i * m / k)
		if err != nil {
			return nil, err
		}
		out[i] = e
	}
	return out, nil
}

// meanResourceBytes returns the mean size of the first (at most 1000) of m
// generated entries as xDS resources.
func meanResourceBytes(m int) (int, error) {
	n := min(m, 1000)
	total := 0
	for i := range n {
		e, err := generateEntry(i)
		if err != nil {
			return 0, err
		}
		total += proto.Size(registry.ToProto(e))
	}
	return total / max(n, 1), nil
}
