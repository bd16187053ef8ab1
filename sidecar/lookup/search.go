package lookup

import (
	"encoding/json"
	"net/url"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/sidecard/sidecard/cache"
	"github.com/sidecard/sidecard/registry"
)

// Fixed parts of a search page.
const (
	pageStart  = `{"agents":[`
	pageCursor = `],"next_cursor":`
)

// serveSearch answers GET /v1/agents?skill=&tag=&label=k=v&q=&limit=&cursor=
// with {"agents": [...], "next_cursor": "..."}, next_cursor absent on the
// last page; 400 naming the parameter for a bad query.
//
// Pages are cached by the raw query string for one snapshot (see the
// package comment): a hit writes ready bytes; a miss parses the query,
// searches the snapshot and assembles the page from cached entry bodies.
func (h *Handler) serveSearch(ctx *fasthttp.RequestCtx, _ []byte) {
	raw := transient(ctx.URI().QueryString())
	snap := h.src.Load()
	seq := h.sequence(snap)
	r := h.cache.get(kindPage, raw, seq)
	if r == nil {
		var e *apiError
		if r, e = h.renderPage(ctx.QueryArgs(), raw, snap, seq); e != nil {
			writeError(ctx, e)
			return
		}
	}
	writeJSON(ctx, fasthttp.StatusOK, r.body)
}

// renderPage runs the query of args (whose raw form is raw) on snap, the
// snapshot numbered seq, and offers the page to the cache.
func (h *Handler) renderPage(args *fasthttp.Args, raw string, snap *cache.Snapshot, seq uint64) (*rendered, *apiError) {
	q, err := registry.ParseQuery(queryValues(args))
	if err != nil {
		return nil, invalid(err)
	}
	page, err := snap.Index().Search(q)
	if err != nil {
		return nil, invalid(err)
	}
	body, err := h.assemble(page)
	if err != nil {
		return nil, newError(fasthttp.StatusInternalServerError, codeInternal, "%v", err)
	}
	r := &rendered{kind: kindPage, key: strings.Clone(raw), version: seq, body: body}
	h.cache.set(r)
	return r, nil
}

// assemble returns the body of page, made of the entries' cached bodies.
// It equals the JSON encoding of {"agents": [...], "next_cursor": "..."}
// followed by a newline.
func (h *Handler) assemble(page registry.Page) ([]byte, error) {
	parts := make([]*rendered, len(page.Entries))
	size := len(pageStart) + len(pageCursor) + len(page.NextCursor) + 8
	for i, e := range page.Entries {
		r, err := h.cache.entry(kindEntry, e)
		if err != nil {
			return nil, err
		}
		parts[i] = r
		size += len(r.body)
	}
	body := make([]byte, 0, size)
	body = append(body, pageStart...)
	for i, r := range parts {
		if i > 0 {
			body = append(body, ',')
		}
		body = append(body, r.body[:len(r.body)-1]...) // without its newline
	}
	if page.NextCursor == "" {
		return append(body, "]}\n"...), nil
	}
	cursor, err := json.Marshal(page.NextCursor)
	if err != nil {
		return nil, err
	}
	body = append(body, pageCursor...)
	body = append(body, cursor...)
	return append(body, "}\n"...), nil
}

// queryValues copies the query arguments into url.Values for
// registry.ParseQuery, keeping repeated keys in order.
func queryValues(args *fasthttp.Args) url.Values {
	v := make(url.Values, args.Len())
	for key, value := range args.All() {
		k := string(key)
		v[k] = append(v[k], string(value))
	}
	return v
}
