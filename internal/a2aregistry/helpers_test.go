package a2aregistry

import (
	"context"
	"testing"

	"github.com/sidecard/sidecard/registry"
)

// loadTestCard is A2A Registry's published load-test card: snake_case and
// incomplete.
const loadTestCard = `{"name": "Test Agent", "description": "A test agent", "url": "http://localhost:8080",
	"version": "1.0.0", "protocol_version": "0.3.0", "skills": [{"id": "test", "description": "Test skill"}]}`

// failingRegistry is a Registry whose every call fails with err.
type failingRegistry struct{ err error }

func (f failingRegistry) Register(context.Context, *registry.Entry) (*registry.Entry, error) {
	return nil, f.err
}
func (f failingRegistry) Get(context.Context, string) (*registry.Entry, error) { return nil, f.err }
func (f failingRegistry) List(context.Context, int) ([]*registry.Entry, error) { return nil, f.err }
func (f failingRegistry) Search(context.Context, string, []string, int) ([]*registry.Entry, error) {
	return nil, f.err
}
func (f failingRegistry) Count(context.Context) (int, error)   { return 0, f.err }
func (f failingRegistry) Delete(context.Context, string) error { return f.err }

var _ Registry = failingRegistry{}

// card returns a complete v0.3 card named name with the given skill ids
// and URL.
func card(t *testing.T, name, url string, skills ...string) *registry.Card {
	t.Helper()
	sk := ""
	for i, id := range skills {
		if i > 0 {
			sk += ","
		}
		sk += `{"id":"` + id + `","name":"` + id + `","description":"d","tags":["t"]}`
	}
	c, err := registry.ParseCard([]byte(`{"protocolVersion":"0.3.0","name":"` + name + `","description":"about ` + name +
		`","url":"` + url + `","version":"1","capabilities":{},"defaultInputModes":["text/plain"],` +
		`"defaultOutputModes":["text/plain"],"skills":[` + sk + `]}`))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// entry returns an entry of card with its default endpoints and labels.
func entry(name string, c *registry.Card, labels map[string]string) *registry.Entry {
	return &registry.Entry{Name: name, Card: c, Endpoints: c.DefaultEndpoints(), Labels: labels}
}
