package a2aregistry

import (
	"encoding/json"
	"mime"
	"strings"
)

// What both REST bindings (net/http on the control plane, fasthttp on the
// sidecar) share, so that the two surfaces answer alike.

// DefaultMaxBodyBytes bounds request bodies of the REST and JSON-RPC
// surfaces unless a binding is configured otherwise.
const DefaultMaxBodyBytes = 1 << 20

// Details of the REST refusals that are not a Service error.
const (
	DetailNotFound         = "Not Found"
	DetailMethodNotAllowed = "Method Not Allowed"
)

// DetailJSON returns the body of a REST error, {"detail": "..."} as A2A
// Registry (FastAPI) answers errors, followed by a newline. The message is
// escaped: the body is valid JSON whatever bytes detail holds.
func DetailJSON(detail string) []byte {
	body, _ := json.Marshal(struct {
		Detail string `json:"detail"`
	}{detail}) // a struct of one string always encodes
	return append(body, '\n')
}

// IsJSONContentType reports whether a request's Content-Type header is one
// the API reads: absent, application/json, or a +json type, with any
// parameters.
func IsJSONContentType(ct string) bool {
	if ct == "" {
		return true
	}
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

// DecodeBody decodes a REST request body, a JSON object, into dst (a
// RegisterRequest or a SearchRequest). Unknown fields are ignored, as A2A
// Registry ignores them; a body that is not a JSON object of the right
// types is a KindInvalidRequest *Error (a 422).
func DecodeBody(body []byte, dst any) error {
	if err := json.Unmarshal(body, dst); err != nil {
		return &Error{Kind: KindInvalidRequest, Message: "invalid request body: " + paramTypeError(err), Err: err}
	}
	return nil
}

// Allow returns the Allow header of a 405 on path, the methods the REST and
// JSON-RPC surfaces serve there, or "" for a path they do not serve.
func Allow(path string) string {
	switch {
	case path == "/agents":
		return "GET, HEAD, POST"
	case path == "/agents/search":
		return "GET, HEAD, POST, DELETE" // search, or the agent named "search"
	case strings.HasPrefix(path, "/agents/") && !strings.Contains(path[len("/agents/"):], "/") && path != "/agents/":
		return "GET, HEAD, DELETE"
	case path == "/health":
		return "GET, HEAD"
	case path == "/jsonrpc":
		return "POST"
	}
	return ""
}
