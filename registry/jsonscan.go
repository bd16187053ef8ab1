package registry

import (
	"bytes"
	"encoding/json"
	"iter"
	"slices"
)

// This file holds the helpers that scan and walk raw JSON without decoding
// it: object members, array elements and string values.

// The helpers below walk JSON that json.Valid accepted; on such input they
// cannot run out of bounds.

// member is one member of a JSON object.
type member struct {
	rawKey []byte // as written, quotes included
	val    []byte // the raw value
}

// key returns the decoded key.
func (m member) key() string { return decodeString(m.rawKey) }

// plainKey returns the key without its quotes and reports whether it has no
// escapes, in which case those bytes are the key.
func (m member) plainKey() ([]byte, bool) {
	inner := m.inner()
	return inner, bytes.IndexByte(inner, '\\') < 0
}

// inner returns the key as written, without quotes. Known keys of a
// normalised card are never escaped, so extraction matches them as written.
func (m member) inner() []byte { return m.rawKey[1 : len(m.rawKey)-1] }

// members yields the members of obj, a valid JSON value, in input order;
// nothing when obj is not an object (null, say).
func members(obj []byte) iter.Seq[member] {
	return func(yield func(member) bool) {
		if len(obj) == 0 || obj[0] != '{' {
			return
		}
		i := skipSpace(obj, 1)
		for obj[i] != '}' {
			keyEnd := stringEnd(obj, i)
			valStart := skipSpace(obj, skipSpace(obj, keyEnd)+1)
			valEnd := valueEnd(obj, valStart)
			rawKey := obj[i:keyEnd]
			if !yield(member{rawKey: rawKey, val: obj[valStart:valEnd]}) {
				return
			}
			i = skipSpace(obj, valEnd)
			if obj[i] == ',' {
				i = skipSpace(obj, i+1)
			}
		}
	}
}

// elements yields the index and raw value of each element of arr, a valid
// JSON value; nothing when arr is not an array (null, say).
func elements(arr []byte) iter.Seq2[int, []byte] {
	return func(yield func(int, []byte) bool) {
		if len(arr) == 0 || arr[0] != '[' {
			return
		}
		i := skipSpace(arr, 1)
		for n := 0; arr[i] != ']'; n++ {
			end := valueEnd(arr, i)
			if !yield(n, arr[i:end]) {
				return
			}
			i = skipSpace(arr, end)
			if arr[i] == ',' {
				i = skipSpace(arr, i+1)
			}
		}
	}
}

// hasAnyKey reports whether the valid JSON object obj has one of keys.
func hasAnyKey(obj []byte, keys ...string) bool {
	for m := range members(obj) {
		if plain, ok := m.plainKey(); ok && slices.Contains(keys, string(plain)) ||
			!ok && slices.Contains(keys, m.key()) {
			return true
		}
	}
	return false
}

// valueEnd returns the index just past the value that starts at b[i].
func valueEnd(b []byte, i int) int {
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		for depth := 0; ; i++ {
			switch b[i] {
			case '"':
				i = stringEnd(b, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
		}
	}
	for i < len(b) && !isValueDelim(b[i]) {
		i++
	}
	return i
}

// stringEnd returns the index just past the string that starts at b[i].
func stringEnd(b []byte, i int) int {
	for i++; ; i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
}

func isValueDelim(c byte) bool {
	return c == ',' || c == '}' || c == ']' || isSpace(c)
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

func trimSpace(b []byte) []byte {
	start, end := skipSpace(b, 0), len(b)
	for end > start && isSpace(b[end-1]) {
		end--
	}
	return b[start:end]
}

// decodeString decodes the valid JSON string literal raw.
func decodeString(raw []byte) string {
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw[1 : len(raw)-1])
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return string(raw[1 : len(raw)-1]) // unreachable for valid JSON
	}
	return s
}

// stringValue decodes v when it is a string and returns "" otherwise.
func stringValue(v []byte) string {
	if v[0] != '"' {
		return ""
	}
	return decodeString(v)
}

func isNull(v []byte) bool { return v[0] == 'n' }

func isTrue(v []byte) bool { return v[0] == 't' }
