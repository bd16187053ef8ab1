package a2aregistry

import (
	"encoding/json"
	"strconv"
)

// ServiceName is the "service" of health answers, as A2A Registry names
// itself, so that clients checking it keep working.
const ServiceName = "A2A Registry"

// ProtocolVersion is the A2A protocol version health answers report.
const ProtocolVersion = "0.3.0"

// TransportJSONRPC is the "transport" of JSON-RPC results.
const TransportJSONRPC = "JSONRPC"

// Messages of successful writes, as A2A Registry words them.
const (
	msgRegistered   = "Agent registered successfully"
	msgUnregistered = "Agent unregistered successfully"
)

// RegisterRequest is the body of POST /agents and the params of
// register_agent.
type RegisterRequest struct {
	// AgentCard is the card, in camelCase or snake_case.
	AgentCard json.RawMessage `json:"agent_card"`
}

// IDRequest is the params of get_agent and unregister_agent.
type IDRequest struct {
	AgentID string `json:"agent_id"`
}

// SearchRequest is the body of POST /agents/search and the params of
// search_agents. Every field is optional.
type SearchRequest struct {
	// Query is a case-insensitive substring of an agent's name, description
	// or skills; "" matches every agent.
	Query string `json:"query"`
	// Skills keeps agents with at least one of these skills (id or name,
	// ignoring case); none keeps every agent.
	Skills []string `json:"skills,omitempty"`
	// MaxResults bounds the agents returned; 0 means the Service's maximum,
	// which also caps it.
	MaxResults int `json:"max_results,omitempty"`
}

// RegisterResponse answers a registration.
type RegisterResponse struct {
	Success bool `json:"success"`
	// AgentID is the entry name derived from the card's name: the id of
	// later reads and of unregistration.
	AgentID string `json:"agent_id"`
	Message string `json:"message"`
	// DefaultedFields lists the card fields the registration filled in with
	// defaults, written in the request's form; absent when none.
	DefaultedFields []string `json:"defaulted_fields,omitempty"`
	// Transport is "JSONRPC" in JSON-RPC results, absent in REST.
	Transport string `json:"transport,omitempty"`
}

// AgentResponse answers a read of one agent.
type AgentResponse struct {
	// AgentCard is the card, in the form it was registered in (see the
	// package documentation).
	AgentCard json.RawMessage `json:"agent_card"`
	// Found is true in JSON-RPC results and absent in REST.
	Found bool `json:"found,omitempty"`
}

// AgentsResponse answers a listing or a search.
type AgentsResponse struct {
	// Agents are the cards, each in the form it was registered in.
	Agents []json.RawMessage `json:"agents"`
	// Count is len(Agents).
	Count int `json:"count"`
	// Query echoes a search's query; nil for a listing.
	Query *string `json:"query,omitempty"`
	// SkillsFilter echoes a search's skills, when there were any.
	SkillsFilter []string `json:"skills_filter,omitempty"`
	// Transport is "JSONRPC" in JSON-RPC results, absent in REST.
	Transport string `json:"transport,omitempty"`
}

// AppendJSON appends r's JSON, the same as json.Marshal gives, to b. The
// cards are copied as they are, without the validation and compaction
// json.Marshal does on each.
func (r *AgentsResponse) AppendJSON(b []byte) []byte {
	b = append(b, `{"agents":[`...)
	for i, a := range r.Agents {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, a...)
	}
	b = append(b, `],"count":`...)
	b = strconv.AppendInt(b, int64(r.Count), 10)
	if r.Query != nil {
		b = append(b, `,"query":`...)
		b = appendJSONValue(b, *r.Query)
	}
	if len(r.SkillsFilter) > 0 {
		b = append(b, `,"skills_filter":`...)
		b = appendJSONValue(b, r.SkillsFilter)
	}
	if r.Transport != "" {
		b = append(b, `,"transport":`...)
		b = appendJSONValue(b, r.Transport)
	}
	return append(b, '}')
}

// JSON returns r's JSON, as AppendJSON, in a new buffer sized to hold it.
func (r *AgentsResponse) JSON() []byte { return r.AppendJSON(make([]byte, 0, r.sizeHint())) }

// sizeHint returns about the length of r's JSON, at least that of its cards
// plus the fixed keys, so that a buffer of that capacity rarely grows.
func (r *AgentsResponse) sizeHint() int {
	n := 128 + len(r.Transport)
	if r.Query != nil {
		n += 2 * len(*r.Query)
	}
	for _, s := range r.SkillsFilter {
		n += 2*len(s) + 3
	}
	for _, a := range r.Agents {
		n += len(a) + 1
	}
	return n
}

// appendJSONValue appends the JSON of v to b. v is one of the package's
// strings, string slices or response types, which always encode.
func appendJSONValue(b []byte, v any) []byte {
	out, err := json.Marshal(v)
	if err != nil { // unreachable for the values above
		return append(b, "null"...)
	}
	return append(b, out...)
}

// UnregisterResponse answers an unregistration.
type UnregisterResponse struct {
	Success bool   `json:"success"`
	Message string `json:"message"`
	AgentID string `json:"agent_id"`
}

// HealthResponse answers a health check.
type HealthResponse struct {
	// Status is "healthy", or "unhealthy" while the registry is not ready.
	Status  string `json:"status"`
	Service string `json:"service"`
	// Transport is "JSONRPC" in JSON-RPC results, absent in REST.
	Transport       string `json:"transport,omitempty"`
	AgentsCount     int    `json:"agents_count"`
	ProtocolVersion string `json:"protocol_version"`
}

// MethodsResponse is the result of list_methods.
type MethodsResponse struct {
	Methods []string `json:"methods"`
}
