package registry

import (
	"fmt"
	"maps"

	"google.golang.org/protobuf/types/known/timestamppb"

	registryv1 "github.com/sidecard/sidecard/registry/v1"
)

// ToProto returns the xDS resource form of e (type registryv1.TypeURL): every
// field of the entry, the card as its normalised JSON bytes. The message is
// new and owned by the caller; its card_json bytes are shared with e.Card and
// must not be modified. ToProto of nil is nil.
func ToProto(e *Entry) *registryv1.Agent {
	if e == nil {
		return nil
	}
	a := &registryv1.Agent{
		Name:         e.Name,
		Labels:       maps.Clone(e.Labels),
		CardJson:     e.Card.JSON(),
		Revision:     e.Revision,
		Source:       e.Source,
		TtlSeconds:   e.TTLSeconds,
		RegisteredBy: e.RegisteredBy,
	}
	if len(e.Endpoints) > 0 {
		a.Endpoints = make([]*registryv1.Endpoint, len(e.Endpoints))
		for i, ep := range e.Endpoints {
			a.Endpoints[i] = &registryv1.Endpoint{Url: ep.URL, Weight: ep.Weight}
		}
	}
	if !e.UpdatedAt.IsZero() {
		a.UpdatedAt = timestamppb.New(e.UpdatedAt)
	}
	return a
}

// FromProto converts an xDS Agent resource back into an entry: the card JSON
// is parsed with ParseCard and the result is checked with Validate, so an
// entry it returns is as valid as one the control plane stored. The entry is
// new and owned by the caller (it shares nothing with a). The error is, or
// wraps, a *FieldError naming the offending field.
func FromProto(a *registryv1.Agent) (*Entry, error) {
	if a == nil {
		return nil, fieldErr("", "no agent")
	}
	e := &Entry{
		Name:         a.GetName(),
		Revision:     a.GetRevision(),
		Source:       a.GetSource(),
		TTLSeconds:   a.GetTtlSeconds(),
		RegisteredBy: a.GetRegisteredBy(),
	}
	if len(a.GetLabels()) > 0 {
		e.Labels = maps.Clone(a.GetLabels())
	}
	if eps := a.GetEndpoints(); len(eps) > 0 {
		e.Endpoints = make([]Endpoint, len(eps))
		for i, ep := range eps {
			e.Endpoints[i] = Endpoint{URL: ep.GetUrl(), Weight: ep.GetWeight()}
		}
	}
	if ts := a.GetUpdatedAt(); ts != nil {
		if err := ts.CheckValid(); err != nil {
			return nil, fieldErr("updated_at", err.Error())
		}
		e.UpdatedAt = ts.AsTime() // UTC
	}
	if len(a.GetCardJson()) > 0 {
		card, err := ParseCard(a.GetCardJson())
		if err != nil {
			return nil, fmt.Errorf("agent %q: %w", a.GetName(), err)
		}
		e.Card = card
	}
	if err := e.Validate(); err != nil {
		return nil, fmt.Errorf("agent %q: %w", a.GetName(), err)
	}
	return e, nil
}
