package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/sidecard/sidecard/controlplane/store"
	"github.com/sidecard/sidecard/registry"
)

// Error codes of the §4 error shape.
const (
	codeInvalidArgument      = "invalid_argument"       // 400
	codeUnauthenticated      = "unauthenticated"        // 401
	codePermissionDenied     = "permission_denied"      // 403
	codeNotFound             = "not_found"              // 404
	codeMethodNotAllowed     = "method_not_allowed"     // 405
	codeConflict             = "conflict"               // 409
	codeFailedPrecondition   = "failed_precondition"    // 412
	codePayloadTooLarge      = "payload_too_large"      // 413
	codeUnsupportedMediaType = "unsupported_media_type" // 415
	codeInternal             = "internal"               // 500
	codeUnavailable          = "unavailable"            // 503
)

// apiError is an error a handler answers with: its status and §4 body.
type apiError struct {
	status  int
	code    string
	message string
	field   string
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

// errorBody is the §4 error shape.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

// newError returns an *apiError with a formatted message.
func newError(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, message: fmt.Sprintf(format, args...)}
}

// invalid returns a 400 for err, naming its field when err is a
// *registry.FieldError.
func invalid(err error) *apiError {
	e := &apiError{status: http.StatusBadRequest, code: codeInvalidArgument, message: err.Error()}
	if fe, ok := registry.AsFieldError(err); ok {
		e.field = fe.Field
	}
	return e
}

// asAPIError maps an error to the API error it answers with: an *apiError as is,
// the store's sentinels and *registry.FieldError to their statuses;
// errors it does not know become a 500 whose detail is logged, not sent.
func asAPIError(err error) *apiError {
	var ae *apiError
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.Is(err, store.ErrNotFound):
		return &apiError{status: http.StatusNotFound, code: codeNotFound, message: err.Error()}
	case errors.Is(err, store.ErrForbidden):
		return &apiError{status: http.StatusForbidden, code: codePermissionDenied, message: err.Error()}
	case errors.Is(err, store.ErrOwned):
		return &apiError{status: http.StatusConflict, code: codeConflict, message: err.Error()}
	case errors.Is(err, store.ErrPrecondition):
		return &apiError{status: http.StatusPreconditionFailed, code: codeFailedPrecondition, message: err.Error()}
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return &apiError{status: http.StatusServiceUnavailable, code: codeUnavailable, message: "request cancelled or timed out"}
	}
	if _, ok := registry.AsFieldError(err); ok {
		return invalid(err)
	}
	return &apiError{status: http.StatusInternalServerError, code: codeInternal, message: "internal error"}
}

// writeError answers r with err in the §4 shape. A 500 is logged with the
// underlying error.
func (a *API) writeError(w http.ResponseWriter, r *http.Request, err error) {
	ae := asAPIError(err)
	if ae.status == http.StatusInternalServerError {
		a.log.LogAttrs(r.Context(), slog.LevelError, "control-plane API request failed",
			slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Any("error", err))
	}
	if ae.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", "Bearer")
	}
	a.writeJSON(w, r, ae.status, errorBody{Error: errorDetail{Code: ae.code, Message: ae.message, Field: ae.field}})
}
