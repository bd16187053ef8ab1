package compat_test

import (
	"context"
	"maps"
	"slices"
	"testing"

	"github.com/sidecard/sidecard/controlplane/compat"
	"github.com/sidecard/sidecard/controlplane/store"
	"github.com/sidecard/sidecard/internal/a2aregistry"
	"github.com/sidecard/sidecard/registry"
)

// TestRegisterKeepsMetadata checks what a compat registration keeps of an
// existing entry and how it marks completed cards.
func TestRegisterKeepsMetadata(t *testing.T) {
	e := newEnv(t, compat.Options{})
	ctx := context.Background()
	card := func(url string) string {
		return `{"name":"Planner","description":"d","url":"` + url + `","version":"1","protocol_version":"0.3.0"}`
	}
	register := func(body string) {
		t.Helper()
		if rec := e.do(req{method: "POST", path: "/agents", body: registerBody(body)}); rec.Code != 201 {
			t.Fatalf("register: status %d, body %s", rec.Code, rec.Body)
		}
	}
	get := func() *registry.Entry {
		t.Helper()
		got, err := e.store.Get("planner")
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	wantEntry := func(step string, labels map[string]string, endpoints ...string) *registry.Entry {
		t.Helper()
		got := get()
		if !maps.Equal(got.Labels, labels) {
			t.Errorf("%s: labels %v, want %v", step, got.Labels, labels)
		}
		var urls []string
		for _, ep := range got.Endpoints {
			urls = append(urls, ep.URL)
		}
		if !slices.Equal(urls, endpoints) {
			t.Errorf("%s: endpoints %v, want %v", step, urls, endpoints)
		}
		if got.Source != registry.SourceAPI {
			t.Errorf("%s: source %q, want api", step, got.Source)
		}
		return got
	}

	if err := registry.ValidateLabels(map[string]string{a2aregistry.LabelNormalised: "true"}); err != nil {
		t.Fatalf("the normalised label is not a valid label: %v", err)
	}
	register(card("http://planner-a:1"))
	wantEntry("incomplete card", map[string]string{a2aregistry.LabelNormalised: "true"}, "http://planner-a:1")

	// An operator labels the entry through the sidecard API.
	labelled := get()
	labelled.Labels = map[string]string{"team": "travel", a2aregistry.LabelNormalised: "true"}
	labelled.TTLSeconds = 600
	if _, _, err := e.store.Put(ctx, labelled, store.Precondition{Source: registry.SourceAPI}); err != nil {
		t.Fatal(err)
	}
	register(card("http://planner-b:1"))
	leased := wantEntry("new URL: default endpoints follow the card",
		map[string]string{"team": "travel", a2aregistry.LabelNormalised: "true"}, "http://planner-b:1")
	if leased.TTLSeconds != 600 {
		t.Errorf("ttl_seconds %d, want the lease kept (600)", leased.TTLSeconds)
	}

	complete := `{"protocolVersion":"0.3.0","name":"Planner","description":"d","url":"http://planner-b:1",
		"version":"2","capabilities":{},"defaultInputModes":[],"defaultOutputModes":[],"skills":[]}`
	register(complete)
	wantEntry("complete card: the normalised label goes", map[string]string{"team": "travel"}, "http://planner-b:1")

	// The operator sets endpoints of their own.
	custom := get()
	custom.Endpoints = []registry.Endpoint{{URL: "http://10.0.0.1:1", Weight: 3}, {URL: "http://10.0.0.2:1", Weight: 1}}
	if _, _, err := e.store.Put(ctx, custom, store.Precondition{Source: registry.SourceAPI}); err != nil {
		t.Fatal(err)
	}
	register(card("http://planner-c:1"))
	got := wantEntry("explicit endpoints are kept", map[string]string{"team": "travel", a2aregistry.LabelNormalised: "true"},
		"http://10.0.0.1:1", "http://10.0.0.2:1")
	if got.Endpoints[0].Weight != 3 || got.Card.URL != "http://planner-c:1" {
		t.Errorf("entry %+v, want the weights kept and the new card", got)
	}
}

// TestReadFormFollowsRevision checks that reads answer snake_case only for
// the revision registered in snake_case.
func TestReadFormFollowsRevision(t *testing.T) {
	e := newEnv(t, compat.Options{})
	getCard := func() string {
		t.Helper()
		rec := e.do(req{method: "GET", path: "/agents/test-agent"})
		if rec.Code != 200 {
			t.Fatalf("get: status %d, body %s", rec.Code, rec.Body)
		}
		return rec.Body.String()
	}
	if rec := e.do(req{method: "POST", path: "/agents", body: registerBody(loadTestCard)}); rec.Code != 201 {
		t.Fatalf("register: %d %s", rec.Code, rec.Body)
	}
	wantJSONEqual(t, []byte(getCard()), `{"agent_card":`+loadTestCardStored+`}`)

	// Rewritten by another writer (the sidecard API, say): camelCase.
	stored, err := e.store.Get("test-agent")
	if err != nil {
		t.Fatal(err)
	}
	stored.Labels = map[string]string{"team": "qa"}
	if _, _, err := e.store.Put(context.Background(), stored, store.Precondition{Source: registry.SourceAPI}); err != nil {
		t.Fatal(err)
	}
	wantJSONEqual(t, []byte(getCard()), `{"agent_card":`+string(stored.Card.JSON())+`}`)

	// Registered again in camelCase: camelCase.
	camel := stored.Card.JSON()
	if rec := e.do(req{method: "POST", path: "/agents", body: registerBody(string(camel))}); rec.Code != 201 {
		t.Fatalf("register: %d %s", rec.Code, rec.Body)
	}
	wantJSONEqual(t, []byte(getCard()), `{"agent_card":`+string(camel)+`}`)
}

// TestServiceRememberedBudget drives the Service without a transport and
// checks that the snake_case forms it remembers stay within their budget.
func TestServiceRememberedBudget(t *testing.T) {
	e := newEnv(t, compat.Options{})
	ctx := context.Background()
	card := func(name string) []byte {
		return []byte(`{"name":"` + name + `","description":"d","url":"http://x:1","version":"1","protocol_version":"0.3.0"}`)
	}
	snakeLen := func(name string) int {
		c, _, err := registry.ParseCardLenient(card(name))
		if err != nil {
			t.Fatal(err)
		}
		return len(c.SnakeCaseJSON())
	}
	// Room for one remembered card (name, JSON and 64 bytes of overhead).
	svc, err := a2aregistry.NewService(e.registry, a2aregistry.ServiceOptions{MaxRememberedBytes: 1 + snakeLen("aa") + 2 + 64})
	if err != nil {
		t.Fatal(err)
	}
	register := func(name string) {
		t.Helper()
		if _, err := svc.Register(ctx, card(name)); err != nil {
			t.Fatal(err)
		}
	}
	wantSnake := func(name string, want bool) {
		t.Helper()
		resp, err := svc.Get(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if got := registry.IsSnakeCase(resp.AgentCard); got != want {
			t.Errorf("%s: snake_case %v, want %v: %s", name, got, want, resp.AgentCard)
		}
	}
	register("aa")
	register("bb")
	wantSnake("aa", true)
	wantSnake("bb", false) // over the budget: camelCase
	if _, err := svc.Unregister(ctx, "aa"); err != nil {
		t.Fatal(err)
	}
	register("bb")
	wantSnake("bb", true) // room again
}
