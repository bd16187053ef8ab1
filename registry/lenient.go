package registry

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
)

// Defaults ParseCardLenient fills in for card fields that registries such as
// A2A Registry do not require but the A2A v0.3 and v1.0 schemas do.
const (
	defaultCapabilities = `{}`
	defaultModes        = `["text/plain"]`
	defaultSkills       = `[]`
	defaultTags         = `[]`
)

// ParseCardLenient parses a card as registries that require less than the A2A
// schema store it, filling in what the schema requires and they do not, and
// then parses the result with ParseCard. It returns the card and the paths of
// the fields it filled in, in the order met ("card.capabilities",
// "card.skills[0].name"); none means the card was already complete.
//
// A field that is absent or null gets a default: capabilities {},
// defaultInputModes and defaultOutputModes ["text/plain"], skills [], and in
// each skill that is an object: name = its id, description = its name (or its
// id), tags []. A name or description is only copied from a non-empty string.
// Either key spelling (camelCase or snake_case) counts as present. Everything
// else, including name, description, version and v0.3 url and
// protocolVersion, is required as ParseCard requires it, and its errors are
// ParseCard's. The input is not modified.
func ParseCardLenient(data []byte) (*Card, []string, error) {
	doc, err := checkDocument(data, "card", MaxCardBytes)
	if err != nil {
		return nil, nil, err
	}
	if doc[0] != '{' {
		card, err := ParseCard(doc)
		return card, nil, err
	}
	var f filler
	f.buf.Grow(len(doc) + 64)
	f.root(doc)
	card, err := ParseCard(f.buf.Bytes())
	if err != nil {
		return nil, nil, err
	}
	return card, f.defaulted, nil
}

// filler writes a card object with the lenient defaults filled in and
// records the paths it defaulted.
type filler struct {
	buf       bytes.Buffer
	defaulted []string
}

// cardDefault is a top-level field and its default JSON value.
type cardDefault struct{ name, value string }

// cardDefaults are the top-level fields ParseCardLenient fills in, by their
// camelCase name.
var cardDefaults = []cardDefault{
	{"capabilities", defaultCapabilities},
	{"defaultInputModes", defaultModes},
	{"defaultOutputModes", defaultModes},
	{"skills", defaultSkills},
}

// root writes doc, the card's JSON object, with its defaults.
func (f *filler) root(doc []byte) {
	present := make([]bool, len(cardDefaults))
	f.buf.WriteByte('{')
	n := 0
	for m := range members(doc) {
		if n > 0 {
			f.buf.WriteByte(',')
		}
		n++
		f.buf.Write(m.rawKey)
		f.buf.WriteByte(':')
		key, _ := cardV03.canonical(m)
		i := slices.IndexFunc(cardDefaults, func(d cardDefault) bool { return d.name == key })
		if i >= 0 {
			present[i] = true
		}
		switch {
		case i >= 0 && isNull(m.val):
			f.fill("card."+key, cardDefaults[i].value)
		case key == "skills":
			f.skills(m.val)
		default:
			f.buf.Write(m.val)
		}
	}
	for i, d := range cardDefaults {
		if !present[i] {
			f.add(&n, "card", d.name, d.value)
		}
	}
	f.buf.WriteByte('}')
}

// skills writes the skills array v, filling in each skill object.
func (f *filler) skills(v []byte) {
	if v[0] != '[' {
		f.buf.Write(v)
		return
	}
	f.buf.WriteByte('[')
	for i, el := range elements(v) {
		if i > 0 {
			f.buf.WriteByte(',')
		}
		f.skill("card.skills["+strconv.Itoa(i)+"]", el)
	}
	f.buf.WriteByte(']')
}

// skill writes one skill v at path with its name, description and tags
// defaulted.
func (f *filler) skill(path string, v []byte) {
	if v[0] != '{' {
		f.buf.Write(v)
		return
	}
	skillNode := cardV03.fields["skills"].elem
	var id, name []byte // raw non-empty strings, or nil
	var hasName, hasDescription, hasTags bool
	for m := range members(v) {
		key, _ := skillNode.canonical(m)
		switch key {
		case "id":
			id = nonEmptyString(m.val)
		case "name":
			name, hasName = nonEmptyString(m.val), !isNull(m.val)
		case "description":
			hasDescription = !isNull(m.val)
		case "tags":
			hasTags = !isNull(m.val)
		}
	}
	if name == nil && !hasName {
		name = id
	}
	description := name
	if description == nil {
		description = id
	}
	f.buf.WriteByte('{')
	n := 0
	for m := range members(v) {
		key, _ := skillNode.canonical(m)
		if isNull(m.val) && (key == "name" && id != nil || key == "description" && description != nil ||
			key == "tags") {
			continue // written with its default below
		}
		if n > 0 {
			f.buf.WriteByte(',')
		}
		n++
		f.buf.Write(m.rawKey)
		f.buf.WriteByte(':')
		f.buf.Write(m.val)
	}
	if !hasName && id != nil {
		f.add(&n, path, "name", string(id))
	}
	if !hasDescription && description != nil {
		f.add(&n, path, "description", string(description))
	}
	if !hasTags {
		f.add(&n, path, "tags", defaultTags)
	}
	f.buf.WriteByte('}')
}

// add writes the member "name": value after the n members already written
// in the current object, and records path.name as defaulted.
func (f *filler) add(n *int, path, name, value string) {
	if *n > 0 {
		f.buf.WriteByte(',')
	}
	*n++
	f.buf.WriteString(`"` + name + `":`)
	f.fill(path+"."+name, value)
}

// fill writes value as a defaulted field at path.
func (f *filler) fill(path, value string) {
	f.buf.WriteString(value)
	f.defaulted = append(f.defaulted, path)
}

// nonEmptyString returns v when it is a JSON string other than "", else nil.
func nonEmptyString(v []byte) []byte {
	if v[0] != '"' || len(v) == 2 {
		return nil
	}
	return v
}

// IsSnakeCase reports whether the card JSON data writes at least one field
// of the known card structure in snake_case ("protocol_version",
// "capabilities.push_notifications"), as some registries store cards. Keys
// that are data (security scheme and scope names) and unknown fields do not
// count. Invalid JSON reports false.
func IsSnakeCase(data []byte) bool {
	if !json.Valid(data) {
		return false
	}
	return hasSnakeKey(cardV03, trimSpace(data))
}

// hasSnakeKey reports whether v, valid JSON checked as node nd, has a known
// key spelled in snake_case.
func hasSnakeKey(nd *node, v []byte) bool {
	switch nd.kind {
	case kindObject:
		for m := range members(v) {
			key, known := nd.canonical(m)
			if !known {
				continue
			}
			if written, _ := m.plainKey(); string(written) != key && bytes.IndexByte(written, '_') >= 0 {
				return true
			}
			if hasSnakeKey(nd.fields[key], m.val) {
				return true
			}
		}
	case kindMap:
		for m := range members(v) {
			if hasSnakeKey(nd.elem, m.val) {
				return true
			}
		}
	case kindArray:
		for _, el := range elements(v) {
			if hasSnakeKey(nd.elem, el) {
				return true
			}
		}
	}
	return false
}

// SnakeCaseJSON returns the card's JSON with every key of the known card
// structure written in snake_case ("protocol_version"), the form some
// registries store cards in; unknown fields, security scheme and scope names
// and all values are kept as they are. ParseCard of the result gives back
// the card's JSON. The slice is new and owned by the caller; nil for a nil or
// zero card.
func (c *Card) SnakeCaseJSON() []byte {
	if c == nil || c.raw == nil {
		return nil
	}
	var b bytes.Buffer
	b.Grow(len(c.raw) + len(c.raw)/16)
	writeSnake(&b, cardV03, c.raw)
	return b.Bytes()
}

// writeSnake writes v, a valid JSON value checked as node nd, with the known
// keys below it in snake_case.
func writeSnake(b *bytes.Buffer, nd *node, v []byte) {
	switch {
	case nd.kind == kindObject && v[0] == '{':
		b.WriteByte('{')
		n := 0
		for m := range members(v) {
			if n > 0 {
				b.WriteByte(',')
			}
			n++
			key, known := nd.canonical(m)
			if !known {
				b.Write(m.rawKey)
				b.WriteByte(':')
				b.Write(m.val)
				continue
			}
			b.WriteByte('"')
			writeSnakeName(b, key)
			b.WriteString(`":`)
			writeSnake(b, nd.fields[key], m.val)
		}
		b.WriteByte('}')
	case nd.kind == kindMap && v[0] == '{':
		b.WriteByte('{')
		n := 0
		for m := range members(v) {
			if n > 0 {
				b.WriteByte(',')
			}
			n++
			b.Write(m.rawKey)
			b.WriteByte(':')
			writeSnake(b, nd.elem, m.val)
		}
		b.WriteByte('}')
	case nd.kind == kindArray && v[0] == '[':
		b.WriteByte('[')
		for i, el := range elements(v) {
			if i > 0 {
				b.WriteByte(',')
			}
			writeSnake(b, nd.elem, el)
		}
		b.WriteByte(']')
	default:
		b.Write(v)
	}
}

// writeSnakeName writes camelToSnake(name) without allocating.
func writeSnakeName(b *bytes.Buffer, name string) {
	for i := 0; i < len(name); i++ {
		if c := name[i]; 'A' <= c && c <= 'Z' {
			b.WriteByte('_')
			b.WriteByte(c - 'A' + 'a')
		} else {
			b.WriteByte(c)
		}
	}
}

// SnakeCasePath returns a field path of the card ("card.skills[0].inputModes",
// as FieldError and ParseCardLenient report them) with the known keys along
// it in snake_case ("card.skills[0].input_modes"). Parts that are data or
// unknown keys, and everything after them, are kept as they are; a path that
// does not start with "card" is returned unchanged.
func SnakeCasePath(path string) string {
	rest, ok := strings.CutPrefix(path, "card")
	if !ok || rest != "" && rest[0] != '.' && rest[0] != '[' {
		return path
	}
	var b strings.Builder
	b.Grow(len(path) + 8)
	b.WriteString("card")
	nd := cardV03
	for rest != "" && nd != nil {
		var part string
		switch rest[0] {
		case '[':
			end := strings.IndexByte(rest, ']')
			if end < 0 || nd.kind != kindArray {
				nd = nil
				continue
			}
			b.WriteString(rest[:end+1])
			rest, nd = rest[end+1:], nd.elem
			continue
		case '.':
			rest = rest[1:]
			end := strings.IndexAny(rest, ".[")
			if end < 0 {
				end = len(rest)
			}
			part, rest = rest[:end], rest[end:]
		default:
			nd = nil
			continue
		}
		b.WriteByte('.')
		switch nd.kind {
		case kindObject:
			name, known := nd.names[part]
			if !known {
				b.WriteString(part)
				nd = nil
				continue
			}
			b.WriteString(camelToSnake(name))
			nd = nd.fields[name]
		case kindMap:
			b.WriteString(part)
			nd = nd.elem
		default:
			b.WriteString(part)
			nd = nil
		}
	}
	b.WriteString(rest)
	return b.String()
}
