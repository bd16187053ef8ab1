package lookup

import (
	"fmt"

	"github.com/valyala/fasthttp"

	"github.com/sidecard/sidecard/registry"
)

// Error codes of the §4 error shape (registry owns the shape).
const (
	codeInvalidArgument  = registry.CodeInvalidArgument
	codeNotFound         = registry.CodeNotFound
	codeMethodNotAllowed = registry.CodeMethodNotAllowed
	codeInternal         = registry.CodeInternal
	codeUnavailable      = registry.CodeUnavailable
)

// apiError is an error response: its status and §4 body.
type apiError struct {
	status  int
	code    string
	message string
	field   string
}

// newError returns an *apiError with a formatted message.
func newError(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, message: fmt.Sprintf(format, args...)}
}

// invalid returns a 400 for err, naming its field when err is a
// *registry.FieldError.
func invalid(err error) *apiError {
	e := &apiError{status: fasthttp.StatusBadRequest, code: codeInvalidArgument, message: err.Error()}
	if fe, ok := registry.AsFieldError(err); ok {
		e.field = fe.Field
	}
	return e
}

// writeError answers ctx with e in the §4 shape. The message is copied; the
// body is valid JSON whatever bytes the message holds.
func writeError(ctx *fasthttp.RequestCtx, e *apiError) {
	writeJSON(ctx, e.status, registry.ErrorJSON(e.code, e.message, e.field))
}

// writeJSON answers ctx with status and a JSON body, which fasthttp owns
// from then on.
func writeJSON(ctx *fasthttp.RequestCtx, status int, body []byte) {
	ctx.SetStatusCode(status)
	ctx.SetContentTypeBytes(mimeJSON)
	ctx.Response.Header.SetCanonical(hdrNoSniff, valNoSniff)
	ctx.Response.SetBodyRaw(body)
}
