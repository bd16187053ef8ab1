package proxy

import (
	"encoding/json"
	"fmt"

	"github.com/valyala/fasthttp"
)

// Error codes of the §4 error shape that the proxy answers with.
const (
	codeInvalidArgument  = "invalid_argument"   // 400
	codeNotFound         = "not_found"          // 404
	codeMethodNotAllowed = "method_not_allowed" // 405
	codePayloadTooLarge  = "payload_too_large"  // 413
	codeTooManyRequests  = "resource_exhausted" // 429
	codeInternal         = "internal"           // 500
	codeBadGateway       = "bad_gateway"        // 502
	codeUnavailable      = "unavailable"        // 503
	codeGatewayTimeout   = "gateway_timeout"    // 504
)

// errorBody is the §4 error shape.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Byte forms of fixed header names and values.
var (
	mimeJSON   = []byte("application/json")
	hdrNoSniff = []byte("X-Content-Type-Options")
	valNoSniff = []byte("nosniff")
)

// writeError answers ctx with status and a §4 body, replacing whatever
// response was being built (headers copied from an agent included).
func writeError(ctx *fasthttp.RequestCtx, status int, code, format string, args ...any) {
	body, err := json.Marshal(errorBody{Error: errorDetail{Code: code, Message: fmt.Sprintf(format, args...)}})
	if err != nil { // unreachable: strings always encode
		body = []byte(`{"error":{"code":"internal","message":"internal error"}}`)
	}
	ctx.Response.Reset()
	ctx.SetStatusCode(status)
	ctx.SetContentTypeBytes(mimeJSON)
	ctx.Response.Header.SetCanonical(hdrNoSniff, valNoSniff)
	ctx.Response.SetBodyRaw(append(body, '\n'))
}
