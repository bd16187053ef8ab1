package registry

import "time"

// Sources of an entry: who wrote it and therefore who owns it.
const (
	SourceAPI  = "api"  // written through the control plane's HTTP API
	SourceFile = "file" // loaded from a registry directory; owned by the file source
)

// Endpoint is one network address of an agent.
type Endpoint struct {
	// URL is an absolute http(s) URL (scheme, host, optional port and path).
	URL string `json:"url"`
	// Weight is the relative share of traffic; 0 in input means 1.
	Weight uint32 `json:"weight,omitempty"`
}

// Entry is what the registry stores: one agent, its endpoints and its card.
//
// Entries are values: once an *Entry has been published (stored, indexed or
// sent), it must not be mutated. Copy it first.
type Entry struct {
	Name      string            `json:"name"`
	Labels    map[string]string `json:"labels,omitempty"`
	Endpoints []Endpoint        `json:"endpoints,omitempty"`
	Card      *Card             `json:"card,omitempty"`
	// TTLSeconds, when > 0, makes the entry a lease that disappears unless renewed.
	TTLSeconds int64 `json:"ttl_seconds,omitempty"`
	// Revision, UpdatedAt, Source and RegisteredBy are set by the control
	// plane's store.
	Revision  int64     `json:"revision,omitempty"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
	Source    string    `json:"source,omitempty"`
	// RegisteredBy is the name of the token that registered the entry (for
	// a sidecar forwarding its node's registrations, the node id); "" when
	// it was registered without a named token, by a registry file, or while
	// tokens were off. Only that caller, or an admin, may change the entry.
	RegisteredBy string `json:"registered_by,omitempty"`
}

// SpecVersion is the A2A AgentCard shape a card was written in.
type SpecVersion string

const (
	SpecV03 SpecVersion = "0.3" // url / preferredTransport / additionalInterfaces / protocolVersion
	SpecV10 SpecVersion = "1.0" // supportedInterfaces[]
)

// Card is an A2A AgentCard: its JSON kept verbatim (after snake_case keys
// were normalised to camelCase) plus the fields sidecard indexes and routes by.
//
// A Card is immutable once parsed; the zero value is not a valid card.
type Card struct {
	Spec            SpecVersion
	Name            string
	Description     string
	Version         string
	ProtocolVersion string // v0.3: protocolVersion; v1.0: that of the first interface
	// URL is the primary URL: v0.3 url; v1.0 the first supportedInterfaces url.
	URL string
	// Interfaces lists every interface: v0.3 {url, preferredTransport} followed by
	// additionalInterfaces; v1.0 supportedInterfaces.
	Interfaces   []Interface
	Skills       []Skill
	Capabilities Capabilities

	raw []byte // the normalised card JSON
}

// Interface is one way to reach an agent.
type Interface struct {
	URL             string
	ProtocolBinding string // JSONRPC, GRPC, HTTP+JSON
	ProtocolVersion string
	Tenant          string
}

// Skill is one skill of an agent, as far as sidecard indexes it.
type Skill struct {
	ID          string
	Name        string
	Description string
	Tags        []string
}

// Capabilities are the optional A2A capabilities of an agent.
type Capabilities struct {
	Streaming              bool
	PushNotifications      bool
	StateTransitionHistory bool
}
