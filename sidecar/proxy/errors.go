package proxy

import (
	"fmt"

	"github.com/valyala/fasthttp"

	"github.com/sidecard/sidecard/registry"
)

// Error codes of the §4 error shape that the proxy answers with (registry
// owns the shape).
const (
	codeInvalidArgument  = registry.CodeInvalidArgument
	codeNotFound         = registry.CodeNotFound
	codeMethodNotAllowed = registry.CodeMethodNotAllowed
	codePayloadTooLarge  = registry.CodePayloadTooLarge
	codeTooManyRequests  = registry.CodeResourceExhausted
	codeInternal         = registry.CodeInternal
	codeBadGateway       = registry.CodeBadGateway
	codeUnavailable      = registry.CodeUnavailable
	codeGatewayTimeout   = registry.CodeGatewayTimeout
)

// Byte forms of fixed header names and values.
var (
	mimeJSON   = []byte("application/json")
	hdrNoSniff = []byte("X-Content-Type-Options")
	valNoSniff = []byte("nosniff")
)

// writeError answers ctx with status and a §4 body, replacing whatever
// response was being built (headers copied from an agent included).
func writeError(ctx *fasthttp.RequestCtx, status int, code, format string, args ...any) {
	body := registry.ErrorJSON(code, fmt.Sprintf(format, args...), "")
	ctx.Response.Reset()
	ctx.SetStatusCode(status)
	ctx.SetContentTypeBytes(mimeJSON)
	ctx.Response.Header.SetCanonical(hdrNoSniff, valNoSniff)
	ctx.Response.SetBodyRaw(body)
}
