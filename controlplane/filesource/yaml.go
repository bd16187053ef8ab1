package filesource

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Limits of the YAML to JSON conversion. Aliases are expanded, so without a
// budget a few lines of anchors could expand to gigabytes: a file may
// produce baseValues plus valuesPerByte values per byte of it, which only
// alias expansion can exceed.
const (
	maxDepth      = 64 // nesting of mappings and sequences
	baseValues    = 1 << 16
	valuesPerByte = 4
)

// yamlDocuments parses a YAML stream into one value per non-empty document.
// Duplicate mapping keys are errors; merge keys (<<) are applied; anchors and
// aliases are expanded; values without a JSON form (.inf, .nan, custom tags,
// non-scalar keys) are errors.
func yamlDocuments(data []byte) ([]*value, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	conv := &yamlConverter{budget: baseValues + valuesPerByte*len(data)}
	var docs []*value
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, yamlError(err)
		}
		if len(doc.Content) == 0 || isNull(doc.Content[0]) {
			continue // an empty document
		}
		v, err := conv.convert(doc.Content[0], 0)
		if err != nil {
			return nil, err
		}
		docs = append(docs, v)
	}
}

// yamlLine matches the position yaml.v3 puts in its syntax errors.
var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlError turns a yaml.v3 syntax error into a lineError. yaml.v3 leaves
// the line out when the problem is on the first line.
func yamlError(err error) error {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &lineError{line: line, msg: m[2]}
	}
	if rest, ok := strings.CutPrefix(msg, "yaml: "); ok && !strings.Contains(rest, "\n") {
		return &lineError{line: 1, msg: rest}
	}
	return err
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// yamlConverter converts yaml.v3 nodes to values within a node budget.
type yamlConverter struct {
	budget int
}

func (c *yamlConverter) convert(n *yaml.Node, depth int) (*value, error) {
	if c.budget--; c.budget < 0 {
		return nil, errAt(n.Line, "too many values once aliases are expanded")
	}
	if depth > maxDepth {
		return nil, errAt(n.Line, "nested more than %d levels deep", maxDepth)
	}
	switch n.Kind {
	case yaml.AliasNode:
		return c.convert(n.Alias, depth+1)
	case yaml.ScalarNode:
		raw, err := scalarJSON(n)
		if err != nil {
			return nil, err
		}
		return &value{kind: kindScalar, line: n.Line, raw: raw}, nil
	case yaml.SequenceNode:
		v := &value{kind: kindArray, line: n.Line, items: make([]*value, 0, len(n.Content))}
		for _, item := range n.Content {
			iv, err := c.convert(item, depth+1)
			if err != nil {
				return nil, err
			}
			v.items = append(v.items, iv)
		}
		return v, nil
	case yaml.MappingNode:
		return c.mapping(n, depth)
	}
	return nil, errAt(n.Line, "unexpected YAML node")
}

// mapping converts a mapping node. Keys written in the mapping must be
// unique and win over keys brought in by merge keys, whatever the order.
func (c *yamlConverter) mapping(n *yaml.Node, depth int) (*value, error) {
	if depth > maxDepth {
		return nil, errAt(n.Line, "nested more than %d levels deep", maxDepth)
	}
	v := &value{kind: kindObject, line: n.Line}
	explicit := make(map[string]int, len(n.Content)/2) // key → line
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := resolve(n.Content[i])
		if k.ShortTag() == "!!merge" {
			continue
		}
		if k.Kind != yaml.ScalarNode {
			return nil, errAt(k.Line, "mapping keys must be scalars")
		}
		if prev, dup := explicit[k.Value]; dup {
			return nil, errAt(k.Line, "mapping key %q already defined at line %d", k.Value, prev)
		}
		explicit[k.Value] = k.Line
	}
	seen := make(map[string]bool, len(explicit))
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := resolve(n.Content[i]), n.Content[i+1]
		if k.ShortTag() == "!!merge" {
			if err := c.merge(v, val, explicit, seen, depth); err != nil {
				return nil, err
			}
			continue
		}
		if err := c.add(v, k.Value, k.Line, val, seen, depth); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// merge adds the members of the mapping (or sequence of mappings) src that
// are not written explicitly and not added yet. Earlier mappings win.
func (c *yamlConverter) merge(v *value, src *yaml.Node, explicit map[string]int, seen map[string]bool, depth int) error {
	src = resolve(src)
	sources := []*yaml.Node{src}
	if src.Kind == yaml.SequenceNode {
		sources = src.Content
	}
	for _, m := range sources {
		m = resolve(m)
		if m.Kind != yaml.MappingNode {
			return errAt(m.Line, "a merge key (<<) needs a mapping or a list of mappings")
		}
		mv, err := c.mapping(m, depth+1)
		if err != nil {
			return err
		}
		for i, k := range mv.keys {
			if _, ok := explicit[k]; ok || seen[k] {
				continue
			}
			seen[k] = true
			v.keys, v.keyLines, v.items = append(v.keys, k), append(v.keyLines, mv.keyLines[i]), append(v.items, mv.items[i])
		}
	}
	return nil
}

// add converts val and adds it to v as member key.
func (c *yamlConverter) add(v *value, key string, line int, val *yaml.Node, seen map[string]bool, depth int) error {
	cv, err := c.convert(val, depth+1)
	if err != nil {
		return err
	}
	seen[key] = true
	v.keys, v.keyLines, v.items = append(v.keys, key), append(v.keyLines, line), append(v.items, cv)
	return nil
}

// resolve follows aliases.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < maxDepth; i++ {
		n = n.Alias
	}
	return n
}

// scalarJSON returns the JSON encoding of a YAML scalar, by its resolved tag.
// Timestamps and binary values stay strings, as written.
func scalarJSON(n *yaml.Node) ([]byte, error) {
	switch tag := n.ShortTag(); tag {
	case "!!str", "!!timestamp", "!!binary":
		return jsonString(n.Value), nil
	case "!!null":
		return []byte("null"), nil
	case "!!bool", "!!int", "!!float":
		var v any
		if err := n.Decode(&v); err != nil {
			return nil, errAt(n.Line, "%s", err)
		}
		if f, ok := v.(float64); ok && (math.IsInf(f, 0) || math.IsNaN(f)) {
			return nil, errAt(n.Line, "%s has no JSON form", n.Value)
		}
		out, err := json.Marshal(v)
		if err != nil {
			return nil, errAt(n.Line, "%s", err)
		}
		return out, nil
	default:
		return nil, errAt(n.Line, "unsupported tag %s", tag)
	}
}
