package proxy

import (
	"encoding/json"
	"net"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/sidecard/sidecard/registry"
)

// cardURLs returns the interface URLs of a card JSON and its provider URL,
// which must never change.
func cardURLs(t *testing.T, raw []byte) (urls []string, provider string) {
	t.Helper()
	var c struct {
		URL        string `json:"url"`
		Additional []struct {
			URL string `json:"url"`
		} `json:"additionalInterfaces"`
		Supported []struct {
			URL string `json:"url"`
		} `json:"supportedInterfaces"`
		Provider struct {
			URL string `json:"url"`
		} `json:"provider"`
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatalf("card %q: %v", raw, err)
	}
	if c.URL != "" {
		urls = append(urls, c.URL)
	}
	for _, in := range c.Additional {
		urls = append(urls, in.URL)
	}
	for _, in := range c.Supported {
		urls = append(urls, in.URL)
	}
	return urls, c.Provider.URL
}

func TestRewriteCard(t *testing.T) {
	const base = "http://127.0.0.1:17000/a2a/x"
	provider := `,"provider":{"organization":"o","url":"http://10.0.0.7:9001/about"}`
	cases := []struct {
		name      string
		card      string
		endpoints []registry.Endpoint // nil: the card's
		want      []string
	}{
		{name: "v0.3 url", card: v03Card("x", "http://10.0.0.7:9001", provider), want: []string{base}},
		{name: "v0.3 trailing slash kept", card: v03Card("x", "http://10.0.0.7:9001/", provider), want: []string{base + "/"}},
		{name: "v0.3 path below the endpoint", card: v03Card("x", "http://10.0.0.7:9001/a2a/v1", provider),
			endpoints: []registry.Endpoint{ep("http://10.0.0.7:9001"), ep("http://10.0.0.8:9001")}, want: []string{base + "/a2a/v1"}},
		{name: "v0.3 path unrelated to the endpoints", card: v03Card("x", "http://card.example/other", provider),
			endpoints: []registry.Endpoint{ep("http://10.0.0.7:9001/rpc")}, want: []string{base}},
		{name: "v0.3 additional interfaces", card: v03Card("x", "http://10.0.0.7:9001/rpc", provider+
			`,"additionalInterfaces":[{"url":"http://10.0.0.7:9001/rpc","transport":"JSONRPC"},`+
			`{"transport":"HTTP+JSON","url":"https://10.0.0.7:9001/rpc/rest"},{"url":"grpc://10.0.0.7:9002","transport":"GRPC"},`+
			`{"url":"https://10.0.0.7:9003","transport":"GRPC"}]`),
			endpoints: []registry.Endpoint{ep("http://10.0.0.7:9001/rpc")},
			want:      []string{base, base, base + "/rest", "grpc://10.0.0.7:9002", "https://10.0.0.7:9003"}},
		{name: "v0.3 gRPC primary", card: v03Card("x", "https://10.0.0.7:9002", provider+`,"preferredTransport":"GRPC"`),
			endpoints: []registry.Endpoint{ep("http://10.0.0.7:9001")}, want: []string{"https://10.0.0.7:9002"}},
		{name: "v1.0 interfaces", card: v10Card("x", `[{"url":"http://10.0.0.7:9001/jsonrpc","protocolBinding":"JSONRPC","protocolVersion":"1.0"},`+
			`{"url":"http://10.0.0.7:9001/rest","protocolBinding":"HTTP+JSON","protocolVersion":"1.0","tenant":"t1"},`+
			`{"url":"https://10.0.0.7:9443","protocolBinding":"GRPC","protocolVersion":"1.0"}]`),
			endpoints: []registry.Endpoint{ep("http://10.0.0.7:9001")},
			want:      []string{base + "/jsonrpc", base + "/rest", "https://10.0.0.7:9443"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := entry(t, "x", 1, c.card, c.endpoints...)
			got, err := rewriteCard(e.Card, e.Endpoints, base)
			if err != nil {
				t.Fatal(err)
			}
			urls, prov := cardURLs(t, got)
			if !reflect.DeepEqual(urls, c.want) {
				t.Errorf("urls = %q, want %q", urls, c.want)
			}
			if _, want := cardURLs(t, e.Card.JSON()); prov != want {
				t.Errorf("provider url = %q, want it unchanged (%q)", prov, want)
			}
			if _, err := registry.ParseCard(got); err != nil {
				t.Errorf("the rewritten card no longer parses: %v", err)
			}
			if keyOrder(t, got) != keyOrder(t, e.Card.JSON()) {
				t.Errorf("key order changed:\n%s\n%s", got, e.Card.JSON())
			}
		})
	}
}

// keyOrder lists the top-level keys of a JSON object in order.
func keyOrder(t *testing.T, raw []byte) string {
	t.Helper()
	ms, err := objectMembers(raw)
	if err != nil {
		t.Fatal(err)
	}
	keys := make([]string, len(ms))
	for i, m := range ms {
		keys[i] = m.key
	}
	return strings.Join(keys, ",")
}

// TestServeCard fetches the rewritten card of a v0.3 and a v1.0 agent at
// both well-known paths, with loopback and other Host headers.
func TestServeCard(t *testing.T) {
	v03 := entry(t, "old", 1, v03Card("old", "http://10.0.0.7:9001", ""))
	v10 := entry(t, "new", 1, v10Card("new", `[{"url":"http://10.0.0.8:9001","protocolBinding":"JSONRPC","protocolVersion":"1.0"}]`))
	e := newEnv(t, []*registry.Entry{v03, v10}, func(o *Options) { o.AdvertiseAddr = "sidecar.host-a:17000" })
	_, port, _ := net.SplitHostPort(e.addr)
	cases := []struct {
		name, path, host, want string
	}{
		{name: "v0.3", path: "/a2a/old/.well-known/agent-card.json", host: e.addr, want: "http://" + e.addr + "/a2a/old"},
		{name: "v0.3 legacy path", path: "/a2a/old/.well-known/agent.json", host: e.addr, want: "http://" + e.addr + "/a2a/old"},
		{name: "v1.0", path: "/a2a/new/.well-known/agent-card.json", host: e.addr, want: "http://" + e.addr + "/a2a/new"},
		{name: "localhost", path: "/a2a/new/.well-known/agent-card.json", host: "localhost:" + port, want: "http://localhost:" + port + "/a2a/new"},
		{name: "other loopback port", path: "/a2a/new/.well-known/agent-card.json", host: "127.0.0.1:1", want: "http://sidecar.host-a:17000/a2a/new"},
		{name: "foreign host", path: "/a2a/old/.well-known/agent-card.json", host: "evil.example", want: "http://sidecar.host-a:17000/a2a/old"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.do(t, "GET", c.path, "", map[string]string{"Host": c.host})
			if r.status != 200 || r.header.Get("Content-Type") != "application/json" {
				t.Fatalf("reply = %+v", r)
			}
			if urls, _ := cardURLs(t, []byte(r.body)); len(urls) != 1 || urls[0] != c.want {
				t.Errorf("urls = %q, want %q", urls, c.want)
			}
		})
	}
}

// TestCardCache checks that the rewritten bytes are kept per card and
// host, and rendered again for a new revision.
func TestCardCache(t *testing.T) {
	e := newEnv(t, []*registry.Entry{entry(t, "x", 1, v03Card("x", "http://10.0.0.7:9001", ""))},
		func(o *Options) { o.AdvertiseAddr = "a:1" })
	path := "/a2a/x/.well-known/agent-card.json"
	first := e.do(t, "GET", path, "", nil)
	a := agentOf(e.p, "x")
	body := a.cards.items[0].body
	e.do(t, "GET", path, "", nil)
	if a.cards.next != 1 || &a.cards.items[0].body[0] != &body[0] {
		t.Errorf("a second fetch rendered the card again")
	}
	e.replica.Replace([]*registry.Entry{entry(t, "x", 2, v03Card("x", "http://10.0.0.7:9001", `,"documentationUrl":"http://docs"`))}, nil)
	second := e.do(t, "GET", path, "", nil)
	if second.body == first.body || !strings.Contains(second.body, "documentationUrl") {
		t.Errorf("the card of revision 2 was not served: %s", second.body)
	}
}

// TestCardWithoutAdvertiseAddr checks HEAD on a card, and that without
// advertise_addr a foreign Host gets the address the client connected to.
func TestCardWithoutAdvertiseAddr(t *testing.T) {
	e := newEnv(t, []*registry.Entry{entry(t, "x", 1, v03Card("x", "http://10.0.0.7:9001", ""))}, nil)
	resp, err := e.client.Head(e.base + "/a2a/x/.well-known/agent-card.json")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.ContentLength <= 0 {
		t.Errorf("HEAD: %d, length %d", resp.StatusCode, resp.ContentLength)
	}
	r := e.do(t, "GET", "/a2a/x/.well-known/agent-card.json", "", map[string]string{"Host": "evil.example"})
	if urls, _ := cardURLs(t, []byte(r.body)); len(urls) != 1 || urls[0] != "http://"+e.addr+"/a2a/x" {
		t.Errorf("urls = %q, want the sidecar's own address", urls)
	}
}
