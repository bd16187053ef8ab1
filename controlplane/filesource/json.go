package filesource

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"sort"
)

// jsonDocument parses a JSON file into a value. Duplicate object keys and
// data after the top-level value are errors. A file of only white space
// holds no document (nil).
func jsonDocument(data []byte) (*value, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, nil
	}
	r := &jsonReader{data: data, dec: json.NewDecoder(bytes.NewReader(data)), lines: newlines(data)}
	r.dec.UseNumber()
	v, err := r.value(0)
	if err != nil {
		return nil, err
	}
	end := r.dec.InputOffset()
	if _, err := r.dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errAt(r.lineAt(end), "unexpected data after the top-level value")
	}
	return v, nil
}

// jsonReader reads values from a token stream, keeping their lines.
type jsonReader struct {
	data  []byte
	dec   *json.Decoder
	lines []int // offsets of '\n' in data
}

func newlines(data []byte) []int {
	var nl []int
	for i, b := range data {
		if b == '\n' {
			nl = append(nl, i)
		}
	}
	return nl
}

// lineAt returns the line of the first token at or after offset, skipping
// the white space and separators the decoder has not consumed yet.
func (r *jsonReader) lineAt(offset int64) int {
	i := int(offset)
	for i < len(r.data) && bytes.IndexByte([]byte(" \t\r\n,:"), r.data[i]) >= 0 {
		i++
	}
	return sort.SearchInts(r.lines, i) + 1
}

// token reads the next token and the line it starts on.
func (r *jsonReader) token() (json.Token, int, error) {
	start := r.dec.InputOffset()
	tok, err := r.dec.Token()
	if err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			line := r.lineAt(max(se.Offset-1, 0))
			return nil, line, errAt(line, "%s", se.Error())
		}
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		line := r.lineAt(start)
		return nil, line, errAt(line, "%s", err)
	}
	return tok, r.lineAt(start), nil
}

func (r *jsonReader) value(depth int) (*value, error) {
	tok, line, err := r.token()
	if err != nil {
		return nil, err
	}
	if depth > maxDepth {
		return nil, errAt(line, "nested more than %d levels deep", maxDepth)
	}
	switch t := tok.(type) {
	case json.Delim:
		if t == '{' {
			return r.object(line, depth)
		}
		if t == '[' {
			return r.array(line, depth)
		}
		return nil, errAt(line, "unexpected %q", t)
	case string:
		return &value{kind: kindScalar, line: line, raw: jsonString(t)}, nil
	case json.Number:
		return &value{kind: kindScalar, line: line, raw: []byte(t)}, nil
	case bool:
		return &value{kind: kindScalar, line: line, raw: []byte(boolJSON(t))}, nil
	default: // nil
		return &value{kind: kindScalar, line: line, raw: []byte("null")}, nil
	}
}

func boolJSON(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// object reads the members of an object whose '{' was read at line.
func (r *jsonReader) object(line, depth int) (*value, error) {
	v := &value{kind: kindObject, line: line}
	seen := map[string]int{}
	for r.dec.More() {
		tok, kline, err := r.token()
		if err != nil {
			return nil, err
		}
		key, _ := tok.(string) // the decoder only allows string keys
		if prev, dup := seen[key]; dup {
			return nil, errAt(kline, "object key %q already defined at line %d", key, prev)
		}
		seen[key] = kline
		item, err := r.value(depth + 1)
		if err != nil {
			return nil, err
		}
		v.keys, v.keyLines, v.items = append(v.keys, key), append(v.keyLines, kline), append(v.items, item)
	}
	_, _, err := r.token() // '}'
	return v, err
}

// array reads the elements of an array whose '[' was read at line.
func (r *jsonReader) array(line, depth int) (*value, error) {
	v := &value{kind: kindArray, line: line}
	for r.dec.More() {
		item, err := r.value(depth + 1)
		if err != nil {
			return nil, err
		}
		v.items = append(v.items, item)
	}
	_, _, err := r.token() // ']'
	return v, err
}
