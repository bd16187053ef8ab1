package proxy

import (
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/valyala/fasthttp"

	"github.com/sidecard/sidecard/registry"
)

// The well-known card paths, relative to /a2a/{name}: the A2A v0.3+ one
// and the one before 0.3.
const (
	cardPath       = "/.well-known/agent-card.json"
	legacyCardPath = "/.well-known/agent.json"
)

// Byte forms for the card route.
var (
	hdrAllow    = []byte("Allow")
	valGetHead  = []byte("GET, HEAD")
	grpcBinding = "GRPC"
)

// isCardPath reports whether rest (the path after /a2a/{name}) asks for
// the agent's card.
func isCardPath(rest []byte) bool {
	return string(rest) == cardPath || string(rest) == legacyCardPath
}

// serveCard answers the card of e with its URLs pointing at the sidecar.
func (p *Proxy) serveCard(ctx *fasthttp.RequestCtx, a *agent, e *registry.Entry) {
	if !ctx.IsGet() && !ctx.IsHead() {
		writeError(ctx, fasthttp.StatusMethodNotAllowed, codeMethodNotAllowed,
			"method %s is not allowed on an agent card; use GET or HEAD", ctx.Method())
		ctx.Response.Header.SetCanonical(hdrAllow, valGetHead)
		return
	}
	base := "http://" + p.advertised(ctx) + Prefix + e.Name
	body, err := a.cards.get(e, base)
	if err != nil {
		writeError(ctx, fasthttp.StatusInternalServerError, codeInternal, "rewrite the card of %q: %v", e.Name, err)
		return
	}
	ctx.SetStatusCode(fasthttp.StatusOK)
	ctx.SetContentTypeBytes(mimeJSON)
	ctx.Response.SetBodyRaw(body) // shared and never modified
}

// advertised returns the host:port cards point at: the Host the client
// used when it is a loopback address this sidecar listens on, else the
// configured advertise address, else the local address of the connection.
func (p *Proxy) advertised(ctx *fasthttp.RequestCtx) string {
	if host := ctx.Host(); loopbackOfSidecar(string(host), ctx.LocalAddr()) {
		return string(host)
	}
	if a := p.opts.Load().AdvertiseAddr; a != "" {
		return a
	}
	return ctx.LocalAddr().String()
}

// loopbackOfSidecar reports whether host (a Host header) names a loopback
// address ("localhost" or a loopback IP) and the port of local, the
// sidecar's end of a loopback connection.
func loopbackOfSidecar(host string, local net.Addr) bool {
	la, ok := local.(*net.TCPAddr)
	if !ok || !la.IP.IsLoopback() {
		return false
	}
	h, port, err := net.SplitHostPort(host)
	if err != nil {
		h, port = host, "80"
	}
	if port != strconv.Itoa(la.Port) {
		return false
	}
	ip := net.ParseIP(h)
	return h == "localhost" || (ip != nil && ip.IsLoopback())
}

// cardCache keeps the last few rewritten forms of an agent's card, keyed
// by card (one per entry revision) and base URL (one per Host a client
// used). Safe for concurrent use; the zero value is empty.
type cardCache struct {
	mu    sync.Mutex
	items [4]cardItem
	next  int // the slot the next miss fills
}

type cardItem struct {
	card *registry.Card
	base string
	body []byte // never modified once stored
}

// get returns e's card rewritten for base, from the cache or rendered.
func (c *cardCache) get(e *registry.Entry, base string) ([]byte, error) {
	c.mu.Lock()
	for _, it := range c.items {
		if it.card == e.Card && it.base == base {
			c.mu.Unlock()
			return it.body, nil
		}
	}
	c.mu.Unlock()
	body, err := rewriteCard(e.Card, e.Endpoints, base)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.items[c.next] = cardItem{card: e.Card, base: base, body: body}
	c.next = (c.next + 1) % len(c.items)
	c.mu.Unlock()
	return body, nil
}

// rewriteCard returns the JSON of card with the URL of every http(s)
// interface that is not gRPC pointing at base: v0.3 url (per
// preferredTransport) and additionalInterfaces[].url (per transport),
// v1.0 supportedInterfaces[].url (per protocolBinding). Everything else is
// kept verbatim, key order included. A URL whose path lies under the path
// of one of eps keeps the rest of its path (see relativeTo).
func rewriteCard(card *registry.Card, eps []registry.Endpoint, base string) ([]byte, error) {
	if card == nil {
		return nil, fmt.Errorf("the entry has no card")
	}
	members, err := objectMembers(card.JSON())
	if err != nil {
		return nil, err
	}
	iface := func(bindingKey string) func(json.RawMessage) (json.RawMessage, error) {
		return func(raw json.RawMessage) (json.RawMessage, error) {
			return rewriteInterface(raw, bindingKey, eps, base)
		}
	}
	for i, m := range members {
		switch {
		case m.key == "url" && card.Spec == registry.SpecV03:
			members[i].val, err = rewriteURL(m.val, card.Interfaces[0].ProtocolBinding, eps, base)
		case m.key == "additionalInterfaces" && card.Spec == registry.SpecV03:
			members[i].val, err = editArray(m.val, iface("transport"))
		case m.key == "supportedInterfaces" && card.Spec == registry.SpecV10:
			members[i].val, err = editArray(m.val, iface("protocolBinding"))
		}
		if err != nil {
			return nil, fmt.Errorf("card.%s: %w", m.key, err)
		}
	}
	return appendObject(make([]byte, 0, len(card.JSON())+64), members)
}

// rewriteInterface rewrites the url of one interface object, whose binding
// is under bindingKey.
func rewriteInterface(raw []byte, bindingKey string, eps []registry.Endpoint, base string) ([]byte, error) {
	members, err := objectMembers(raw)
	if err != nil {
		return nil, err
	}
	binding := ""
	for _, m := range members {
		if m.key == bindingKey {
			binding = stringOf(m.val)
		}
	}
	for i, m := range members {
		if m.key == "url" {
			if members[i].val, err = rewriteURL(m.val, binding, eps, base); err != nil {
				return nil, err
			}
		}
	}
	return appendObject(make([]byte, 0, len(raw)+32), members)
}

// rewriteURL returns the JSON string val pointed at base, unless binding
// is gRPC or val is no http(s) URL.
func rewriteURL(val json.RawMessage, binding string, eps []registry.Endpoint, base string) (json.RawMessage, error) {
	u, err := url.Parse(stringOf(val))
	if err != nil || binding == grpcBinding || (u.Scheme != "http" && u.Scheme != "https") {
		return val, nil
	}
	return json.Marshal(base + relativeTo(u, eps))
}

// relativeTo returns the part of u below the longest endpoint path its
// path starts with (whole segments; "" when it equals it), with u's query
// unless that endpoint has the same. The proxy forwards base+rel to an
// endpoint's path + rel, so a card URL http://h/a2a/v1 of an agent whose
// endpoint is http://h becomes <base>/a2a/v1 and is forwarded to
// http://h/a2a/v1. When no endpoint path matches it returns "".
func relativeTo(u *url.URL, eps []registry.Endpoint) string {
	path := u.EscapedPath()
	best, bestLen, epQuery := -1, -1, ""
	for i, ep := range eps {
		eu, err := url.Parse(ep.URL)
		if err != nil {
			continue
		}
		p := strings.TrimSuffix(eu.EscapedPath(), "/")
		if (path == p || strings.HasPrefix(path, p+"/")) && len(p) > bestLen {
			best, bestLen, epQuery = i, len(p), eu.RawQuery
		}
	}
	if best < 0 {
		return ""
	}
	rel := path[bestLen:]
	if u.RawQuery != "" && u.RawQuery != epQuery {
		rel += "?" + u.RawQuery
	}
	return rel
}
