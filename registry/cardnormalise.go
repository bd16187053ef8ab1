package registry

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// This file holds the normalisation of a card: snake_case keys of the known
// structure renamed to camelCase, values checked against the schema and the
// compact, HTML-escaped JSON written out.

// canonical returns the camelCase name of m's key when the key, or the
// snake_case spelling of a camelCase name, is a known field of the object
// node n; otherwise the decoded key.
func (n *node) canonical(m member) (string, bool) {
	if plain, ok := m.plainKey(); ok {
		if name, ok := n.names[string(plain)]; ok {
			return name, true
		}
		return m.key(), false
	}
	key := m.key()
	if name, ok := n.names[key]; ok {
		return name, true
	}
	return key, false
}

// camelToSnake turns "protocolVersion" into "protocol_version".
func camelToSnake(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' {
			b.WriteByte('_')
			b.WriteByte(c - 'A' + 'a')
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// pathElem is one step of the path to a value: an object key, or an array
// index when key is "" and index >= 0.
type pathElem struct {
	key   string
	index int
}

// normalizer writes the normalised form of a valid JSON document while it
// checks it against the card schema. It keeps the path to the value being
// checked as a stack, formatted only for an error.
type normalizer struct {
	buf  bytes.Buffer
	path []pathElem
}

func (n *normalizer) pushKey(key string) { n.path = append(n.path, pathElem{key: key, index: -1}) }

func (n *normalizer) pushIndex(i int) { n.path = append(n.path, pathElem{index: i}) }

func (n *normalizer) pop() { n.path = n.path[:len(n.path)-1] }

// err returns a *FieldError for the current path, rooted at "card".
func (n *normalizer) err(msg string) error {
	var b strings.Builder
	b.WriteString("card")
	for _, e := range n.path {
		if e.index >= 0 {
			b.WriteString("[" + strconv.Itoa(e.index) + "]")
		} else {
			b.WriteString("." + e.key)
		}
	}
	return fieldErr(b.String(), msg)
}

// errAt returns a *FieldError for key below the current path.
func (n *normalizer) errAt(key, msg string) error {
	n.pushKey(key)
	return n.err(msg)
}

// value checks and writes v, a valid JSON value, as node nd.
func (n *normalizer) value(nd *node, v []byte) error {
	switch nd.kind {
	case kindObject:
		return n.object(nd, v)
	case kindMap:
		return n.mapValue(nd, v)
	case kindArray:
		return n.array(nd, v)
	case kindString:
		return n.str(nd, v)
	case kindBool:
		if v[0] != 't' && v[0] != 'f' {
			return n.err("must be a boolean")
		}
		n.buf.Write(v)
		return nil
	default:
		return json.Compact(&n.buf, v)
	}
}

func (n *normalizer) object(nd *node, v []byte) error {
	if v[0] != '{' {
		return n.err("must be an object")
	}
	var seen keySet
	var present uint64 // bit i: nd.required[i] is there and not null
	n.buf.WriteByte('{')
	for m := range members(v) {
		key, known := nd.canonical(m)
		if seen.add(key) {
			return n.errAt(key, "duplicate key")
		}
		if seen.len() > 1 {
			n.buf.WriteByte(',')
		}
		if !known {
			n.buf.Write(m.rawKey)
			n.buf.WriteByte(':')
			if err := json.Compact(&n.buf, m.val); err != nil {
				return n.errAt(key, err.Error())
			}
			continue
		}
		n.buf.WriteByte('"')
		n.buf.WriteString(key)
		n.buf.WriteString(`":`)
		if isNull(m.val) {
			n.buf.WriteString("null")
			continue
		}
		if i := slices.Index(nd.required, key); i >= 0 {
			present |= 1 << i
		}
		n.pushKey(key)
		if err := n.value(nd.fields[key], m.val); err != nil {
			return err
		}
		n.pop()
	}
	n.buf.WriteByte('}')
	for i, name := range nd.required {
		if present&(1<<i) == 0 {
			return n.errAt(name, "required")
		}
	}
	return nil
}

func (n *normalizer) mapValue(nd *node, v []byte) error {
	if v[0] != '{' {
		return n.err("must be an object")
	}
	var seen keySet
	n.buf.WriteByte('{')
	for m := range members(v) {
		key := m.key()
		if seen.add(key) {
			return n.errAt(key, "duplicate key")
		}
		if seen.len() > 1 {
			n.buf.WriteByte(',')
		}
		n.buf.Write(m.rawKey)
		n.buf.WriteByte(':')
		n.pushKey(key)
		if err := n.value(nd.elem, m.val); err != nil {
			return err
		}
		n.pop()
	}
	n.buf.WriteByte('}')
	return nil
}

func (n *normalizer) array(nd *node, v []byte) error {
	if v[0] != '[' {
		return n.err("must be an array")
	}
	count := 0
	n.buf.WriteByte('[')
	for i, el := range elements(v) {
		if nd.max > 0 && i >= nd.max {
			return n.err(fmt.Sprintf("must have at most %d items", nd.max))
		}
		if i > 0 {
			n.buf.WriteByte(',')
		}
		n.pushIndex(i)
		if err := n.value(nd.elem, el); err != nil {
			return err
		}
		n.pop()
		count++
	}
	n.buf.WriteByte(']')
	if count < nd.min {
		return n.err("must not be empty")
	}
	return nil
}

func (n *normalizer) str(nd *node, v []byte) error {
	switch {
	case v[0] != '"':
		return n.err("must be a string")
	case nd.nonEmpty && len(v) == 2: // any escape decodes to a character
		return n.err(errEmpty.Error())
	case nd.check == nil:
		n.buf.Write(v)
		return nil
	}
	s := decodeString(v)
	normal, err := nd.check(s)
	if err != nil {
		return n.err(err.Error())
	}
	if normal == s {
		n.buf.Write(v)
		return nil
	}
	quoted, err := json.Marshal(normal)
	if err != nil {
		return n.err(err.Error())
	}
	n.buf.Write(quoted)
	return nil
}

// result returns the written document, HTML-escaped the way encoding/json
// escapes the output of a json.Marshaler, in a slice of its own.
func (n *normalizer) result() []byte {
	b := n.buf.Bytes()
	if !bytes.ContainsAny(b, "<>&") && !bytes.Contains(b, []byte("\u2028")) && !bytes.Contains(b, []byte("\u2029")) {
		return bytes.Clone(b)
	}
	var escaped bytes.Buffer
	escaped.Grow(len(b) + len(b)/8)
	json.HTMLEscape(&escaped, b)
	return escaped.Bytes()
}

// keySet detects repeated object keys: linearly for small objects, with a
// map once it grows. The zero value is empty.
type keySet struct {
	small [keySetLinear]string
	n     int
	big   map[string]struct{}
}

const keySetLinear = 16

// add adds key and reports whether it was already there.
func (s *keySet) add(key string) bool {
	if s.big == nil {
		if slices.Contains(s.small[:s.n], key) {
			return true
		}
		if s.n < keySetLinear {
			s.small[s.n] = key
			s.n++
			return false
		}
		s.big = make(map[string]struct{}, 4*keySetLinear)
		for _, k := range s.small {
			s.big[k] = struct{}{}
		}
	}
	if _, ok := s.big[key]; ok {
		return true
	}
	s.big[key] = struct{}{}
	return false
}

// len returns the number of keys added.
func (s *keySet) len() int {
	if s.big != nil {
		return len(s.big)
	}
	return s.n
}
