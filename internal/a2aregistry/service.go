package a2aregistry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"github.com/sidecard/sidecard/registry"
)

// LabelNormalised is the label a registration sets, to "true", on an entry
// whose card it completed with defaults (see registry.ParseCardLenient), so
// that the sidecard API shows which cards are not as their agent wrote them.
// It is recomputed by every compat registration and is never a selector of
// the compat API itself.
const LabelNormalised = "sidecard.io/normalised"

// Defaults and bounds of ServiceOptions and of requests.
const (
	// DefaultMaxResults bounds the agents of one listing or search.
	DefaultMaxResults = 10000
	maxQueryBytes     = 256
	maxSkills         = 16
	maxSkillBytes     = 256
)

// ServiceOptions configures a Service; zero fields mean their defaults.
type ServiceOptions struct {
	// MaxResults bounds the agents of a listing or a search: 0 means
	// DefaultMaxResults. A search's max_results is capped by it.
	MaxResults int
	// MaxRememberedBytes bounds the memory spent remembering the cards
	// registered in snake_case (see the package documentation); 0 means
	// DefaultMaxRememberedBytes.
	MaxRememberedBytes int
	// Ready reports whether the registry is ready, for health checks; nil
	// means always.
	Ready func() bool
	// Logger receives internal errors; nil discards them.
	Logger *slog.Logger
}

// Validate reports whether o is usable. It does not modify o.
func (o ServiceOptions) Validate() error {
	var errs []error
	if o.MaxResults < 0 {
		errs = append(errs, fmt.Errorf("max results %d is negative", o.MaxResults))
	}
	if o.MaxRememberedBytes < 0 {
		errs = append(errs, fmt.Errorf("max remembered bytes %d is negative", o.MaxRememberedBytes))
	}
	return errors.Join(errs...)
}

// Service is the A2A Registry API over a Registry, independent of any
// transport: the REST handlers and the JSON-RPC Dispatcher both call it. Its
// methods return either a response or an *Error. It is safe for concurrent
// use; build it with NewService.
type Service struct {
	reg        Registry
	forms      *formMemo
	maxResults int
	ready      func() bool
	log        *slog.Logger
}

// NewService returns a Service over reg.
func NewService(reg Registry, opts ServiceOptions) (*Service, error) {
	if reg == nil {
		return nil, errors.New("new compat service: nil registry")
	}
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("new compat service: %w", err)
	}
	s := &Service{
		reg:        reg,
		forms:      newFormMemo(orDefault(opts.MaxRememberedBytes, DefaultMaxRememberedBytes)),
		maxResults: orDefault(opts.MaxResults, DefaultMaxResults),
		ready:      opts.Ready,
		log:        opts.Logger,
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s, nil
}

// Register validates card leniently (registry.ParseCardLenient), derives the
// agent id from its name and creates or replaces that entry through the
// Registry. Errors name card fields in the card's own form.
func (s *Service) Register(ctx context.Context, card json.RawMessage) (*RegisterResponse, error) {
	if len(card) == 0 || card[0] != '{' {
		return nil, &Error{Kind: KindInvalidRequest, Message: "agent_card: required, a JSON object", Field: "agent_card"}
	}
	form := formOf(card)
	c, defaulted, err := registry.ParseCardLenient(card)
	if err != nil {
		return nil, asError(err, form)
	}
	name := registry.DeriveName(c.Name)
	if name == "" {
		return nil, &Error{Kind: KindInvalidCard, Field: "card.name",
			Message: fmt.Sprintf("card.name: cannot derive an agent id from %.64q; use letters or digits", c.Name)}
	}
	e := &registry.Entry{Name: name, Card: c, Endpoints: c.DefaultEndpoints()}
	if len(defaulted) > 0 {
		e.Labels = map[string]string{LabelNormalised: "true"}
	}
	stored, err := s.reg.Register(ctx, e)
	if err != nil {
		return nil, s.fail(ctx, "register", err, form)
	}
	s.forms.record(stored, form)
	resp := &RegisterResponse{Success: true, AgentID: stored.Name, Message: msgRegistered}
	for _, p := range defaulted {
		resp.DefaultedFields = append(resp.DefaultedFields, form.path(p))
	}
	return resp, nil
}

// Get returns the card of the agent id.
func (s *Service) Get(ctx context.Context, id string) (*AgentResponse, error) {
	name, err := agentName(id)
	if err != nil {
		return nil, err
	}
	e, err := s.reg.Get(ctx, name)
	if err != nil {
		return nil, s.fail(ctx, "get", err, FormCamel)
	}
	return &AgentResponse{AgentCard: s.forms.cards([]*registry.Entry{e})[0]}, nil
}

// List returns the cards of every agent, up to the Service's maximum.
func (s *Service) List(ctx context.Context) (*AgentsResponse, error) {
	entries, err := s.reg.List(ctx, s.maxResults)
	if err != nil {
		return nil, s.fail(ctx, "list", err, FormCamel)
	}
	return s.agents(entries), nil
}

// Search returns the cards of the agents matching req.
func (s *Service) Search(ctx context.Context, req SearchRequest) (*AgentsResponse, error) {
	if err := checkSearch(req); err != nil {
		return nil, err
	}
	limit := s.maxResults
	if req.MaxResults > 0 {
		limit = min(req.MaxResults, limit)
	}
	entries, err := s.reg.Search(ctx, req.Query, req.Skills, limit)
	if err != nil {
		return nil, s.fail(ctx, "search", err, FormCamel)
	}
	resp := s.agents(entries)
	resp.Query = &req.Query
	resp.SkillsFilter = req.Skills
	return resp, nil
}

// checkSearch bounds a search request.
func checkSearch(req SearchRequest) *Error {
	switch {
	case len(req.Query) > maxQueryBytes:
		return &Error{Kind: KindInvalidRequest, Field: "query",
			Message: fmt.Sprintf("query: must be at most %d bytes", maxQueryBytes)}
	case len(req.Skills) > maxSkills:
		return &Error{Kind: KindInvalidRequest, Field: "skills",
			Message: fmt.Sprintf("skills: at most %d allowed", maxSkills)}
	case req.MaxResults < 0:
		return &Error{Kind: KindInvalidRequest, Field: "max_results", Message: "max_results: must not be negative"}
	}
	for _, skill := range req.Skills {
		if skill == "" || len(skill) > maxSkillBytes {
			return &Error{Kind: KindInvalidRequest, Field: "skills",
				Message: fmt.Sprintf("skills: each must be 1 to %d bytes", maxSkillBytes)}
		}
	}
	return nil
}

// agents renders entries, each card in the form it was registered in.
func (s *Service) agents(entries []*registry.Entry) *AgentsResponse {
	cards := s.forms.cards(entries)
	resp := &AgentsResponse{Agents: make([]json.RawMessage, len(entries)), Count: len(entries)}
	for i, c := range cards {
		resp.Agents[i] = c
	}
	return resp
}

// Unregister deletes the agent id.
func (s *Service) Unregister(ctx context.Context, id string) (*UnregisterResponse, error) {
	name, err := agentName(id)
	if err != nil {
		return nil, err
	}
	if err := s.reg.Delete(ctx, name); err != nil {
		return nil, s.fail(ctx, "unregister", err, FormCamel)
	}
	s.forms.forget(name)
	return &UnregisterResponse{Success: true, Message: msgUnregistered, AgentID: name}, nil
}

// Health reports whether the registry is ready and how many agents it has.
func (s *Service) Health(ctx context.Context) (*HealthResponse, error) {
	n, err := s.reg.Count(ctx)
	if err != nil {
		return nil, s.fail(ctx, "health", err, FormCamel)
	}
	status := "healthy"
	if s.ready != nil && !s.ready() {
		status = "unhealthy"
	}
	return &HealthResponse{Status: status, Service: ServiceName, AgentsCount: n, ProtocolVersion: ProtocolVersion}, nil
}

// fail maps a Registry error to an *Error and logs it when it is internal.
func (s *Service) fail(ctx context.Context, op string, err error, form Form) *Error {
	ce := asError(err, form)
	if ce.Kind == KindInternal {
		s.log.LogAttrs(ctx, slog.LevelError, "compat API operation failed",
			slog.String("op", op), slog.Any("error", err))
	}
	return ce
}

// agentName returns the entry name of an agent id: the id itself when it is
// a valid name, else the name derived from it as from a card's name, so that
// an A2A Registry client using the card's name as the id ("Test Agent")
// finds the agent registered as "test-agent". An id nothing can be derived
// from names no agent.
func agentName(id string) (string, error) {
	if registry.ValidateName(id) == nil {
		return id, nil
	}
	if len(id) <= registry.MaxNameLen*4 {
		if name := registry.DeriveName(id); name != "" {
			return name, nil
		}
	}
	return "", newError(KindNotFound, "Agent not found")
}

// orDefault returns v, or def when v is zero.
func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}
