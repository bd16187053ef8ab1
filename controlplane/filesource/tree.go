package filesource

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// kind is the JSON kind of a value.
type kind uint8

const (
	kindScalar kind = iota // raw holds the JSON encoding
	kindObject             // keys and items hold the members, in file order
	kindArray              // items holds the elements
)

// value is a JSON value read from a YAML or JSON file, with the line every
// part of it starts on, so that an error about a field can name its line.
// A value is built once and never modified.
type value struct {
	kind     kind
	line     int      // 1-based line the value starts on
	raw      []byte   // kindScalar: the JSON encoding
	keys     []string // kindObject: member names, in order
	keyLines []int    // kindObject: line of each member name
	items    []*value // kindObject: member values; kindArray: elements
}

// lineError is a problem found at a line of a file.
type lineError struct {
	line int
	msg  string
}

func (e *lineError) Error() string { return "line " + strconv.Itoa(e.line) + ": " + e.msg }

func errAt(line int, format string, args ...any) error {
	return &lineError{line: line, msg: fmt.Sprintf(format, args...)}
}

// encode returns the JSON encoding of v.
func (v *value) encode() []byte {
	var b bytes.Buffer
	v.encodeTo(&b)
	return b.Bytes()
}

func (v *value) encodeTo(b *bytes.Buffer) {
	switch v.kind {
	case kindScalar:
		b.Write(v.raw)
	case kindArray:
		b.WriteByte('[')
		for i, it := range v.items {
			if i > 0 {
				b.WriteByte(',')
			}
			it.encodeTo(b)
		}
		b.WriteByte(']')
	case kindObject:
		b.WriteByte('{')
		for i, k := range v.keys {
			if i > 0 {
				b.WriteByte(',')
			}
			b.Write(jsonString(k))
			b.WriteByte(':')
			v.items[i].encodeTo(b)
		}
		b.WriteByte('}')
	}
}

// jsonString returns the JSON encoding of s.
func jsonString(s string) []byte {
	out, _ := json.Marshal(s) // a string always marshals
	return out
}

// member returns the value of the member of object v named key, and the
// line of its name. A name written in snake_case or another case matches
// its camelCase spelling, as the registry normalises card keys.
func (v *value) member(key string) (*value, int, bool) {
	if v.kind != kindObject {
		return nil, 0, false
	}
	for i, k := range v.keys {
		if k == key {
			return v.items[i], v.keyLines[i], true
		}
	}
	folded := foldKey(key)
	for i, k := range v.keys {
		if foldKey(k) == folded {
			return v.items[i], v.keyLines[i], true
		}
	}
	return nil, 0, false
}

// foldKey lowercases k and drops '_' so that spellings of one key compare equal.
func foldKey(k string) string {
	return strings.ToLower(strings.ReplaceAll(k, "_", ""))
}

// lineOf returns the line of the deepest part of v that the field path of a
// registry.FieldError ("card.skills[0].id") reaches, or v's own line. When
// v is a bare card (it has no "card" member), a leading "card" is skipped.
func (v *value) lineOf(path string) int {
	cur, line := v, v.line
	for i, seg := range splitPath(path) {
		next, l, ok := cur.step(seg)
		if !ok {
			if i == 0 && seg == "card" {
				continue
			}
			break
		}
		cur, line = next, l
	}
	return line
}

// step follows one path segment: a member name or an "[n]" index.
func (v *value) step(seg string) (*value, int, bool) {
	if !strings.HasPrefix(seg, "[") {
		return v.member(seg)
	}
	n, err := strconv.Atoi(strings.Trim(seg, "[]"))
	if err != nil || v.kind != kindArray || n < 0 || n >= len(v.items) {
		return nil, 0, false
	}
	return v.items[n], v.items[n].line, true
}

// splitPath splits "card.skills[0].id" into "card", "skills", "[0]", "id".
func splitPath(path string) []string {
	var segs []string
	for part := range strings.SplitSeq(path, ".") {
		for part != "" {
			i := strings.IndexByte(part[1:], '[') + 1
			if i == 0 {
				segs = append(segs, part)
				break
			}
			segs = append(segs, part[:i])
			part = part[i:]
		}
	}
	return segs
}
