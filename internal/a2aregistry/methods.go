package a2aregistry

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// JSON-RPC method names, A2A Registry's and list_methods.
const (
	MethodRegisterAgent   = "register_agent"
	MethodGetAgent        = "get_agent"
	MethodListAgents      = "list_agents"
	MethodUnregisterAgent = "unregister_agent"
	MethodSearchAgents    = "search_agents"
	MethodHealthCheck     = "health_check"
	MethodListMethods     = "list_methods"
)

// rpcMethod is one JSON-RPC method.
type rpcMethod struct {
	// params are the parameter names, in the order of positional params.
	params []string
	// read and write methods need a caller Access allows to read or to
	// write.
	read, write bool
	// call runs the method with params, an object holding only known names.
	call func(ctx context.Context, s *Service, params json.RawMessage) (any, error)
}

// rpcMethods are the methods the Dispatcher serves, by name.
var rpcMethods = map[string]rpcMethod{
	MethodRegisterAgent: {params: []string{"agent_card"}, write: true, call: callRegister},
	MethodGetAgent:      {params: []string{"agent_id"}, read: true, call: callGet},
	MethodListAgents: {read: true, call: func(ctx context.Context, s *Service, _ json.RawMessage) (any, error) {
		resp, err := s.List(ctx)
		if err != nil {
			return nil, err
		}
		resp.Transport = TransportJSONRPC
		return resp, nil
	}},
	MethodUnregisterAgent: {params: []string{"agent_id"}, write: true, call: callUnregister},
	MethodSearchAgents:    {params: []string{"query", "skills", "max_results"}, read: true, call: callSearch},
	MethodHealthCheck: {call: func(ctx context.Context, s *Service, _ json.RawMessage) (any, error) {
		resp, err := s.Health(ctx)
		if err != nil {
			return nil, err
		}
		resp.Transport = TransportJSONRPC
		return resp, nil
	}},
	MethodListMethods: {call: func(context.Context, *Service, json.RawMessage) (any, error) {
		return &MethodsResponse{Methods: MethodNames()}, nil
	}},
}

// methodNames lists the keys of rpcMethods, sorted.
var methodNames = []string{MethodGetAgent, MethodHealthCheck, MethodListAgents, MethodListMethods,
	MethodRegisterAgent, MethodSearchAgents, MethodUnregisterAgent}

// MethodNames returns the names of the JSON-RPC methods, sorted. The slice
// is new and belongs to the caller.
func MethodNames() []string { return slices.Clone(methodNames) }

func callRegister(ctx context.Context, s *Service, params json.RawMessage) (any, error) {
	var req RegisterRequest
	if err := decodeParams(params, &req); err != nil {
		return nil, err
	}
	if req.AgentCard == nil {
		return nil, missingParam("agent_card")
	}
	resp, err := s.Register(ctx, req.AgentCard)
	if err != nil {
		return nil, err
	}
	resp.Transport = TransportJSONRPC
	return resp, nil
}

func callGet(ctx context.Context, s *Service, params json.RawMessage) (any, error) {
	id, err := agentIDParam(params)
	if err != nil {
		return nil, err
	}
	resp, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	resp.Found = true
	return resp, nil
}

func callUnregister(ctx context.Context, s *Service, params json.RawMessage) (any, error) {
	id, err := agentIDParam(params)
	if err != nil {
		return nil, err
	}
	return s.Unregister(ctx, id)
}

func callSearch(ctx context.Context, s *Service, params json.RawMessage) (any, error) {
	var req SearchRequest
	if err := decodeParams(params, &req); err != nil {
		return nil, err
	}
	resp, err := s.Search(ctx, req)
	if err != nil {
		return nil, err
	}
	resp.Transport = TransportJSONRPC
	return resp, nil
}

// agentIDParam returns the non-empty agent_id of params.
func agentIDParam(params json.RawMessage) (string, error) {
	var req IDRequest
	if err := decodeParams(params, &req); err != nil {
		return "", err
	}
	if req.AgentID == "" {
		return "", missingParam("agent_id")
	}
	return req.AgentID, nil
}

func missingParam(name string) *Error {
	return &Error{Kind: KindInvalidRequest, Field: name,
		Message: fmt.Sprintf("Invalid params: %s is required", name)}
}

// namedParams returns params as an object: an object as it is (its names
// checked against names), an array by position in names, and {} when
// absent. Unknown names and surplus positions are invalid params.
func namedParams(params json.RawMessage, names []string) (json.RawMessage, error) {
	if params == nil {
		return json.RawMessage(`{}`), nil
	}
	if params[0] == '{' {
		var members map[string]json.RawMessage
		if err := json.Unmarshal(params, &members); err != nil {
			return nil, newError(KindInvalidRequest, "Invalid params: "+err.Error())
		}
		for name := range members {
			if !slices.Contains(names, name) {
				return nil, unknownParam(name, names)
			}
		}
		return params, nil
	}
	var values []json.RawMessage
	if err := json.Unmarshal(params, &values); err != nil {
		return nil, newError(KindInvalidRequest, "Invalid params: "+err.Error())
	}
	if len(values) > len(names) {
		return nil, newError(KindInvalidRequest,
			fmt.Sprintf("Invalid params: at most %d positional params (%s)", len(names), strings.Join(names, ", ")))
	}
	obj := make(map[string]json.RawMessage, len(values))
	for i, v := range values {
		obj[names[i]] = v
	}
	out, err := json.Marshal(obj)
	if err != nil {
		return nil, newError(KindInvalidRequest, "Invalid params: "+err.Error())
	}
	return out, nil
}

func unknownParam(name string, names []string) *Error {
	want := "none"
	if len(names) > 0 {
		want = strings.Join(names, ", ")
	}
	return &Error{Kind: KindInvalidRequest, Field: name,
		Message: fmt.Sprintf("Invalid params: unexpected parameter %.64q; the method takes %s", name, want)}
}

// decodeParams decodes params, an object of known names, into dst, whose
// fields are matched exactly by their JSON names.
func decodeParams(params json.RawMessage, dst any) error {
	dec := json.NewDecoder(bytes.NewReader(params))
	if err := dec.Decode(dst); err != nil {
		return newError(KindInvalidRequest, "Invalid params: "+paramTypeError(err))
	}
	return nil
}

// DescribeDecodeError describes an encoding/json decoding error of a
// request body or of params, naming the field of a type error ("skills
// must be an array, not string").
func DescribeDecodeError(err error) string { return paramTypeError(err) }

// paramTypeError describes a decoding error of params by the param's name.
func paramTypeError(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return fmt.Sprintf("%s must be %s, not %s", te.Field, jsonType(te.Type.Kind().String()), te.Value)
	}
	return err.Error()
}

// jsonType names the JSON type of a Go kind.
func jsonType(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "slice":
		return "an array"
	case "int":
		return "an integer"
	}
	return kind
}
