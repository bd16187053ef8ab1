package registry

import "encoding/json"

// Codes of the error shape every sidecard HTTP API answers with (BRIEF §4),
// each with the HTTP status it goes with.
const (
	CodeInvalidArgument      = "invalid_argument"       // 400
	CodeUnauthenticated      = "unauthenticated"        // 401
	CodePermissionDenied     = "permission_denied"      // 403
	CodeNotFound             = "not_found"              // 404
	CodeMethodNotAllowed     = "method_not_allowed"     // 405
	CodeConflict             = "conflict"               // 409
	CodeFailedPrecondition   = "failed_precondition"    // 412
	CodePayloadTooLarge      = "payload_too_large"      // 413
	CodeUnsupportedMediaType = "unsupported_media_type" // 415
	CodeResourceExhausted    = "resource_exhausted"     // 429
	CodeInternal             = "internal"               // 500
	CodeBadGateway           = "bad_gateway"            // 502 (the sidecar's proxy)
	CodeUnavailable          = "unavailable"            // 503
	CodeGatewayTimeout       = "gateway_timeout"        // 504 (the sidecar's proxy)
)

// ErrorBody is the §4 error shape:
// {"error": {"code": "invalid_argument", "message": "...", "field": "..."}}.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is the object inside ErrorBody.
type ErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	// Field names the offending field or parameter, when there is one.
	Field string `json:"field,omitempty"`
}

// ErrorJSON encodes the §4 error shape, followed by a newline. The result
// is valid JSON whatever bytes message holds; the caller owns it.
func ErrorJSON(code, message, field string) []byte {
	body, err := json.Marshal(ErrorBody{Error: ErrorDetail{Code: code, Message: message, Field: field}})
	if err != nil { // unreachable: strings always encode
		body = []byte(`{"error":{"code":"internal","message":"internal error"}}`)
	}
	return append(body, '\n')
}
