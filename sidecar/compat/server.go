package compat

import (
	"bytes"
	"errors"

	"github.com/valyala/fasthttp"

	"github.com/sidecard/sidecard/internal/a2aregistry"
)

// The hooks below fit the Handler into the sidecar's fasthttp.Server,
// whose limits suit its read API: they give the API's requests its own body
// limit, and answer a body over it in the API's shape.

// RequestConfig wraps a fasthttp.Server HeaderReceived hook: requests to
// the API's paths may carry bodies of the Handler's MaxBodyBytes; the
// others get next's configuration (nil: the server's).
func (h *Handler) RequestConfig(next func(*fasthttp.RequestHeader) fasthttp.RequestConfig) func(*fasthttp.RequestHeader) fasthttp.RequestConfig {
	return func(hdr *fasthttp.RequestHeader) fasthttp.RequestConfig {
		if servesPath(requestPath(hdr.RequestURI())) {
			return fasthttp.RequestConfig{MaxRequestBodySize: h.maxBody}
		}
		if next == nil {
			return fasthttp.RequestConfig{}
		}
		return next(hdr)
	}
}

// ErrorHandler wraps a fasthttp.Server ErrorHandler: a request to the
// API's paths whose body is over the limit gets a 413 in the API's shape
// ({"detail": ...}, or a JSON-RPC error at /jsonrpc); every other error
// goes to next.
func (h *Handler) ErrorHandler(next func(*fasthttp.RequestCtx, error)) func(*fasthttp.RequestCtx, error) {
	return func(ctx *fasthttp.RequestCtx, err error) {
		path := ctx.Path()
		switch {
		case !errors.Is(err, fasthttp.ErrBodyTooLarge) || !servesPath(path):
			if next != nil {
				next(ctx, err)
			}
		case string(path) == "/jsonrpc":
			h.rpcRefusal(ctx, h.tooLarge())
		default:
			e := h.tooLarge()
			h.metrics.Observe(a2aregistry.APIREST, a2aregistry.MethodUnknown, e.status)
			writeDetail(ctx, e.status, e.detail)
		}
	}
}

// requestPath returns the path of a request-target in origin form
// ("/p?q") or absolute form ("http://h/p?q").
func requestPath(uri []byte) []byte {
	if len(uri) > 0 && uri[0] != '/' {
		if i := bytes.Index(uri, []byte("://")); i >= 0 {
			uri = uri[i+3:]
			if j := bytes.IndexByte(uri, '/'); j >= 0 {
				uri = uri[j:]
			} else {
				uri = nil
			}
		}
	}
	if i := bytes.IndexByte(uri, '?'); i >= 0 {
		uri = uri[:i]
	}
	return uri
}
