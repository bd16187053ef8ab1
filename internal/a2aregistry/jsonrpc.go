package a2aregistry

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
)

// JSON-RPC 2.0 error codes of the compat API: the spec's, and A2A Registry's
// -32001 for an unknown agent, followed by sidecard's own.
const (
	CodeParseError      = -32700 // the body is not JSON
	CodeInvalidRequest  = -32600 // not a JSON-RPC 2.0 request object, or an empty or oversized batch
	CodeMethodNotFound  = -32601 // no such method
	CodeInvalidParams   = -32602 // missing, unknown or mistyped params, or an invalid card
	CodeInternalError   = -32603 // an unexpected failure (logged)
	CodeNotFound        = -32001 // no agent has that id
	CodeConflict        = -32002 // the agent is owned by another source (a registry file)
	CodeUnauthenticated = -32003 // a write without a valid bearer token
	CodeUnavailable     = -32004 // the registry cannot answer now; retry
	// CodePermissionDenied: a token without the scope the call needs, or a
	// change of an agent another token registered.
	CodePermissionDenied = -32005
)

// DefaultMaxBatch bounds the calls of one JSON-RPC batch.
const DefaultMaxBatch = 100

// MethodUnknown is the method label of calls to no known method.
const MethodUnknown = "unknown"

// Dispatcher answers JSON-RPC 2.0 requests and batches with a Service,
// independent of any transport. It is safe for concurrent use.
type Dispatcher struct {
	svc      *Service
	metrics  *Metrics
	maxBatch int
}

// NewDispatcher returns a Dispatcher calling svc. Each call is counted in m
// with api "jsonrpc"; m may be nil.
func NewDispatcher(svc *Service, m *Metrics) *Dispatcher {
	return &Dispatcher{svc: svc, metrics: m, maxBatch: DefaultMaxBatch}
}

// Access is what the caller of a JSON-RPC request may do, as its transport
// authenticated it: per kind of method, nil when allowed, else the error
// its calls fail with (an *Error of KindUnauthenticated or
// KindPermissionDenied; its message is prefixed with the method). The
// zero value allows every method. health_check and list_methods are always
// allowed.
type Access struct {
	// Read is the error of get_agent, list_agents and search_agents.
	Read error
	// Write is the error of register_agent and unregister_agent.
	Write error
}

// of returns the error of a call of m, nil when access allows it.
func (a Access) of(m rpcMethod) error {
	switch {
	case m.write:
		return a.Write
	case m.read:
		return a.Read
	}
	return nil
}

// Serve answers body, a request object or a batch (an array of them), and
// returns the response to send: an object, an array in the order of the
// calls, or nil when there is nothing to answer because every call was a
// notification (no "id"). access says which methods the caller may call;
// the caller's identity, for the Registry, travels in ctx. Calls of a batch
// run in order.
func (d *Dispatcher) Serve(ctx context.Context, body []byte, access Access) []byte {
	body = bytes.TrimSpace(body)
	if !json.Valid(body) {
		d.observe(MethodUnknown, CodeParseError)
		return appendError(nil, nil, &rpcError{code: CodeParseError, message: "Parse error: the body is not valid JSON"})
	}
	if body[0] != '[' {
		return d.call(ctx, nil, body, access)
	}
	var calls []json.RawMessage
	if err := json.Unmarshal(body, &calls); err != nil || len(calls) == 0 || len(calls) > d.maxBatch {
		d.observe(MethodUnknown, CodeInvalidRequest)
		return appendError(nil, nil, &rpcError{code: CodeInvalidRequest,
			message: fmt.Sprintf("Invalid Request: a batch must hold 1 to %d calls", d.maxBatch)})
	}
	out := []byte{'['}
	answered := 0
	for _, raw := range calls {
		n := len(out)
		if answered > 0 {
			out = append(out, ',')
		}
		if next := d.call(ctx, out, raw, access); len(next) > len(out) {
			out = next
			answered++
		} else {
			out = out[:n]
		}
	}
	if answered == 0 {
		return nil
	}
	return append(out, ']')
}

// request is a parsed JSON-RPC request object.
type request struct {
	method string
	params json.RawMessage // an object or an array; nil when absent
	id     json.RawMessage // nil for a notification
}

// call runs one request object and appends its response to out; it
// appends nothing for a notification.
func (d *Dispatcher) call(ctx context.Context, out []byte, raw json.RawMessage, access Access) []byte {
	req, rerr := parseRequest(raw)
	if rerr != nil {
		d.observe(MethodUnknown, rerr.code)
		return appendError(out, req.id, rerr)
	}
	m, ok := rpcMethods[req.method]
	if !ok {
		d.observe(MethodUnknown, CodeMethodNotFound)
		if req.id == nil {
			return out
		}
		return appendError(out, req.id, &rpcError{code: CodeMethodNotFound,
			message: fmt.Sprintf("Method not found: %.64q", req.method)})
	}
	var result any
	var err error
	if denied := access.of(m); denied != nil {
		ce := asError(denied, FormCamel)
		err = &Error{Kind: ce.Kind, Message: req.method + ": " + ce.Message, Err: ce.Err}
	} else if params, perr := namedParams(req.params, m.params); perr != nil {
		err = perr
	} else {
		result, err = m.call(ctx, d.svc, params)
	}
	if err != nil {
		rerr := toRPCError(asError(err, FormCamel))
		d.observe(req.method, rerr.code)
		if req.id == nil {
			return out
		}
		return appendError(out, req.id, rerr)
	}
	d.observe(req.method, 0)
	if req.id == nil {
		return out
	}
	return appendResult(out, req.id, result)
}

func (d *Dispatcher) observe(method string, code int) {
	d.metrics.Observe(APIJSONRPC, method, code)
}

// parseRequest parses a request object. On error, the request returned has
// the id when one could be read, for the error response.
func parseRequest(raw json.RawMessage) (request, *rpcError) {
	var req request
	var members map[string]json.RawMessage
	if raw[0] != '{' || json.Unmarshal(raw, &members) != nil {
		return req, invalidRequest("a request must be a JSON object")
	}
	if id, ok := members["id"]; ok {
		if !validID(id) {
			return req, invalidRequest("id must be a string, a number or null")
		}
		req.id = id
	}
	if string(members["jsonrpc"]) != `"2.0"` {
		return req, invalidRequest(`jsonrpc must be "2.0"`)
	}
	method, ok := members["method"]
	if !ok || method[0] != '"' || json.Unmarshal(method, &req.method) != nil {
		return req, invalidRequest("method must be a string")
	}
	if params, ok := members["params"]; ok {
		if params[0] != '{' && params[0] != '[' {
			return req, invalidRequest("params must be an object or an array")
		}
		req.params = params
	}
	return req, nil
}

// validID reports whether id is a string, a number or null.
func validID(id json.RawMessage) bool {
	switch c := id[0]; {
	case c == '"', c == 'n', c == '-', '0' <= c && c <= '9':
		return true
	}
	return false
}

// rpcError is a JSON-RPC error object.
type rpcError struct {
	code    int
	message string
	field   string
}

func invalidRequest(reason string) *rpcError {
	return &rpcError{code: CodeInvalidRequest, message: "Invalid Request: " + reason}
}

// InvalidRequestResponse returns a JSON-RPC response with id null and error
// -32600 "Invalid Request: <reason>", for a transport to answer a request
// it refuses before the Dispatcher sees it (a body too large or not JSON, a
// method other than POST).
func InvalidRequestResponse(reason string) []byte {
	return appendError(nil, nil, invalidRequest(reason))
}

// toRPCError maps a compat error to its JSON-RPC error.
func toRPCError(e *Error) *rpcError {
	code := CodeInternalError
	switch e.Kind {
	case KindInvalidRequest, KindInvalidCard:
		code = CodeInvalidParams
	case KindNotFound:
		code = CodeNotFound
	case KindConflict:
		code = CodeConflict
	case KindUnauthenticated:
		code = CodeUnauthenticated
	case KindPermissionDenied:
		code = CodePermissionDenied
	case KindUnavailable:
		code = CodeUnavailable
	}
	return &rpcError{code: code, message: e.Message, field: e.Field}
}

// appendError appends an error response for id (null when nil) to out.
func appendError(out []byte, id json.RawMessage, e *rpcError) []byte {
	out = append(out, `{"jsonrpc":"2.0","error":{"code":`...)
	out = strconv.AppendInt(out, int64(e.code), 10)
	out = append(out, `,"message":`...)
	out = appendJSONValue(out, e.message)
	if e.field != "" {
		out = append(out, `,"data":{"field":`...)
		out = appendJSONValue(out, e.field)
		out = append(out, '}')
	}
	out = append(out, `},"id":`...)
	return appendID(out, id)
}

// appendResult appends a result response for id to out.
func appendResult(out []byte, id json.RawMessage, result any) []byte {
	out = append(out, `{"jsonrpc":"2.0","result":`...)
	if r, ok := result.(interface{ AppendJSON([]byte) []byte }); ok {
		out = r.AppendJSON(out)
	} else {
		out = appendJSONValue(out, result)
	}
	out = append(out, `,"id":`...)
	return appendID(out, id)
}

func appendID(out []byte, id json.RawMessage) []byte {
	if id == nil {
		return append(out, "null}"...)
	}
	return append(append(out, id...), '}')
}
