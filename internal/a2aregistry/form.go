package a2aregistry

import (
	"sync"

	"github.com/sidecard/sidecard/registry"
)

// Form is the key spelling of agent cards in compat responses.
type Form uint8

const (
	// FormCamel is the A2A spec's camelCase ("protocolVersion"), the form
	// sidecard stores cards in.
	FormCamel Form = iota
	// FormSnake is snake_case ("protocol_version"), the form A2A Registry
	// clients write cards in.
	FormSnake
)

// formOf returns the form of the card JSON in a request: FormSnake when it
// writes any known card field in snake_case, else FormCamel.
func formOf(card []byte) Form {
	if registry.IsSnakeCase(card) {
		return FormSnake
	}
	return FormCamel
}

// path returns the card field path p written in form f.
func (f Form) path(p string) string {
	if f == FormSnake {
		return registry.SnakeCasePath(p)
	}
	return p
}

// DefaultMaxRememberedBytes bounds the memory a Service spends remembering
// the snake_case form of the cards it registered.
const DefaultMaxRememberedBytes = 64 << 20

// rememberedOverhead is what one remembered name costs besides its bytes.
const rememberedOverhead = 64

// formMemo remembers the entries registered in snake_case, by name, with
// the revision of that registration and the card rendered in snake_case, so
// that reads answer them in that form without rendering it again. An entry
// at another revision (written since by anything else) reads in camelCase.
// It spends at most max bytes; when full, new snake_case registrations are
// not remembered and read in camelCase. Safe for concurrent use.
type formMemo struct {
	mu    sync.RWMutex
	snake map[string]snakeCard
	used  int
	max   int
}

// snakeCard is a remembered snake_case registration.
type snakeCard struct {
	rev  int64
	json []byte // immutable
}

func newFormMemo(maxBytes int) *formMemo {
	return &formMemo{snake: make(map[string]snakeCard), max: maxBytes}
}

// record remembers how the entry e (as stored) was registered.
func (m *formMemo) record(e *registry.Entry, f Form) {
	var card []byte
	if f == FormSnake {
		card = e.Card.SnakeCaseJSON() // rendered outside the lock
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.drop(e.Name)
	if card == nil {
		return
	}
	if cost := len(e.Name) + len(card) + rememberedOverhead; m.used+cost <= m.max {
		m.snake[e.Name] = snakeCard{rev: e.Revision, json: card}
		m.used += cost
	}
}

// forget drops what is remembered of name.
func (m *formMemo) forget(name string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.drop(name)
}

// drop forgets name; m.mu is held.
func (m *formMemo) drop(name string) {
	if old, ok := m.snake[name]; ok {
		m.used -= len(name) + len(old.json) + rememberedOverhead
		delete(m.snake, name)
	}
}

// cards returns the card JSON of each entry in the form it was registered
// in. The slices are shared and must not be modified.
func (m *formMemo) cards(entries []*registry.Entry) [][]byte {
	out := make([][]byte, len(entries))
	m.mu.RLock()
	defer m.mu.RUnlock()
	for i, e := range entries {
		if s, ok := m.snake[e.Name]; ok && s.rev == e.Revision {
			out[i] = s.json
		} else {
			out[i] = e.Card.JSON()
		}
	}
	return out
}
