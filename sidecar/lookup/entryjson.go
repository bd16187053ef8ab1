package lookup

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/sidecard/sidecard/registry"
)

// entryHead and entryTail are the JSON fields of registry.Entry before and
// after "card", in order, with the same tags (TestEntryJSONFields keeps
// them in step with registry.Entry).
type entryHead struct {
	Name      string              `json:"name"`
	Labels    map[string]string   `json:"labels,omitempty"`
	Endpoints []registry.Endpoint `json:"endpoints,omitempty"`
}

type entryTail struct {
	TTLSeconds int64     `json:"ttl_seconds,omitempty"`
	Revision   int64     `json:"revision,omitempty"`
	UpdatedAt  time.Time `json:"updated_at,omitzero"`
	Source     string    `json:"source,omitempty"`
	// RegisteredBy follows Source, as in registry.Entry.
	RegisteredBy string `json:"registered_by,omitempty"`
}

// marshalEntry returns the bytes json.Marshal(e) returns, several times
// faster: encoding/json would re-validate and compact the card's JSON,
// which registry.Card keeps compact and escaped as encoding/json emits it,
// so it is copied as is between the fields around it.
func marshalEntry(e *registry.Entry) ([]byte, error) {
	head, err := json.Marshal(entryHead{Name: e.Name, Labels: e.Labels, Endpoints: e.Endpoints})
	if err != nil {
		return nil, fmt.Errorf("render entry %q: %w", e.Name, err)
	}
	tail, err := json.Marshal(entryTail{TTLSeconds: e.TTLSeconds, Revision: e.Revision, UpdatedAt: e.UpdatedAt, Source: e.Source, RegisteredBy: e.RegisteredBy})
	if err != nil {
		return nil, fmt.Errorf("render entry %q: %w", e.Name, err)
	}
	card := []byte(nil)
	if e.Card != nil {
		card = e.Card.JSON()
		if len(card) == 0 {
			card = []byte("null")
		}
	}
	// The capacity leaves room for the newline render appends.
	out := make([]byte, 0, len(head)+len(card)+len(tail)+len(`,"card":`)+2)
	out = append(out, head[:len(head)-1]...) // without its '}'
	if card != nil {
		out = append(out, `,"card":`...)
		out = append(out, card...)
	}
	if len(tail) > 2 { // not "{}"
		out = append(out, ',')
		out = append(out, tail[1:]...) // without its '{'
		return out, nil
	}
	return append(out, '}'), nil
}
