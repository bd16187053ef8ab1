package lookup

import (
	"errors"

	"github.com/valyala/fasthttp"

	"github.com/sidecard/sidecard/registry"
)

// serveEntry answers GET /v1/agents/{name}: the entry JSON.
func (h *Handler) serveEntry(ctx *fasthttp.RequestCtx, name []byte) {
	h.serveRendered(ctx, kindEntry, name)
}

// serveCard answers GET /v1/agents/{name}/card: the card JSON alone.
func (h *Handler) serveCard(ctx *fasthttp.RequestCtx, name []byte) {
	h.serveRendered(ctx, kindCard, name)
}

// serveRendered answers with the entry or card of the agent named name,
// with ETag "<entry revision>", or 304 when If-None-Match lists that tag;
// 400 for a name that is not valid, 404 for an unknown agent. On a cache
// hit it allocates nothing.
func (h *Handler) serveRendered(ctx *fasthttp.RequestCtx, k kind, nameBytes []byte) {
	name := transient(nameBytes)
	if err := registry.ValidateName(name); err != nil {
		writeError(ctx, invalid(err))
		return
	}
	e, ok := h.src.Load().Index().Get(name)
	if !ok {
		writeError(ctx, newError(fasthttp.StatusNotFound, codeNotFound, "agent %q not found", name))
		return
	}
	r, err := h.cache.entry(k, e)
	if err != nil {
		writeError(ctx, renderError(e, err))
		return
	}
	ctx.Response.Header.SetCanonical(hdrETag, r.etag)
	if noneMatch(ctx.Request.Header.Peek(fasthttp.HeaderIfNoneMatch), r.etag) {
		ctx.SetStatusCode(fasthttp.StatusNotModified)
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, r.body)
}

// renderError is the response to a failed render of e.
func renderError(e *registry.Entry, err error) *apiError {
	if errors.Is(err, errNoCard) {
		return newError(fasthttp.StatusNotFound, codeNotFound, "agent %q has no card", e.Name)
	}
	return newError(fasthttp.StatusInternalServerError, codeInternal, "%v", err)
}
