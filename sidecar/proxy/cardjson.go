package proxy

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// member is one member of a JSON object, its value verbatim.
type member struct {
	key string
	val json.RawMessage
}

// objectMembers returns the members of the JSON object raw in order.
func objectMembers(raw []byte) ([]member, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, fmt.Errorf("not a JSON object")
	}
	var out []member
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := t.(string)
		var val json.RawMessage
		if err := dec.Decode(&val); err != nil {
			return nil, err
		}
		out = append(out, member{key: key, val: val})
	}
	return out, nil
}

// appendObject appends the JSON object of members to dst, keys in order.
func appendObject(dst []byte, members []member) ([]byte, error) {
	dst = append(dst, '{')
	for i, m := range members {
		if i > 0 {
			dst = append(dst, ',')
		}
		k, err := json.Marshal(m.key)
		if err != nil {
			return nil, err
		}
		dst = append(append(append(dst, k...), ':'), m.val...)
	}
	return append(dst, '}'), nil
}

// editArray rewrites each object of the JSON array raw with edit;
// elements that are not objects are kept as they are.
func editArray(raw []byte, edit func(json.RawMessage) (json.RawMessage, error)) ([]byte, error) {
	var elems []json.RawMessage
	if err := json.Unmarshal(raw, &elems); err != nil {
		return nil, err
	}
	out := append(make([]byte, 0, len(raw)+64), '[')
	for i, el := range elems {
		if i > 0 {
			out = append(out, ',')
		}
		if t := bytes.TrimSpace(el); len(t) > 0 && t[0] == '{' {
			var err error
			if el, err = edit(t); err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
		}
		out = append(out, el...)
	}
	return append(out, ']'), nil
}

// stringOf returns the JSON string val decoded, "" when val is no string.
func stringOf(val json.RawMessage) string {
	var s string
	if json.Unmarshal(val, &s) != nil {
		return ""
	}
	return s
}
