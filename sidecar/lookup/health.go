package lookup

import (
	"encoding/json"

	"github.com/valyala/fasthttp"
)

// okBody is the body of a healthy /healthz or /readyz; shared, never modified.
var okBody = []byte("{\"status\":\"ok\"}\n")

// serveStatus answers GET /v1/status with the StatusSource's Status.
func (h *Handler) serveStatus(ctx *fasthttp.RequestCtx, _ []byte) {
	body, err := json.Marshal(h.status.Status())
	if err != nil {
		writeError(ctx, newError(fasthttp.StatusInternalServerError, codeInternal, "encode status: %v", err))
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, append(body, '\n'))
}

// serveHealthz answers GET /healthz: 200 while the process serves.
func (h *Handler) serveHealthz(ctx *fasthttp.RequestCtx, _ []byte) {
	writeJSON(ctx, fasthttp.StatusOK, okBody)
}

// serveReadyz answers GET /readyz: 200 once a replica is loaded, 503 before.
func (h *Handler) serveReadyz(ctx *fasthttp.RequestCtx, _ []byte) {
	if !h.ready() {
		writeError(ctx, newError(fasthttp.StatusServiceUnavailable, codeUnavailable,
			"no replica loaded yet: waiting for a control plane or a snapshot on disk"))
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, okBody)
}

// serveMetrics answers GET /metrics from the Gatherer, 404 without one.
func (h *Handler) serveMetrics(ctx *fasthttp.RequestCtx, _ []byte) {
	if h.promHandler == nil {
		writeError(ctx, newError(fasthttp.StatusNotFound, codeNotFound, "metrics are not served here"))
		return
	}
	h.promHandler(ctx)
}

// serveUnknown answers a path no route matches: 404.
func (h *Handler) serveUnknown(ctx *fasthttp.RequestCtx, _ []byte) {
	writeError(ctx, newError(fasthttp.StatusNotFound, codeNotFound, "no such path: %s", ctx.Path()))
}
