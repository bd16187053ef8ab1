package strictyaml

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Locate prefixes each problem of err (a Validate error: one problem, or
// several joined with errors.Join, each reading "key: problem") with name
// and the line of its key in data: "name:line: key: problem", or "name: key:
// problem" when the key is not in data.
func Locate(name string, data []byte, err error) error {
	var root yaml.Node
	if yaml.Unmarshal(data, &root) != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	var out []error
	for _, p := range unjoin(err) {
		key, _, _ := strings.Cut(p.Error(), ": ")
		if line := keyLine(&root, key); line > 0 {
			out = append(out, fmt.Errorf("%s:%d: %w", name, line, p))
		} else {
			out = append(out, fmt.Errorf("%s: %w", name, p))
		}
	}
	return errors.Join(out...)
}

// keyLine returns the line of key (dotted, with [i] indexes:
// "proxy.outlier.base_ejection", "controlplane.addresses[1]") in the YAML
// document n, or of its deepest ancestor there; 0 when not even its first
// part is. Map keys may contain dots (override names do): the longest key
// that prefixes the rest of the path wins.
func keyLine(n *yaml.Node, key string) int {
	if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	line, rest := 0, key
	for rest != "" {
		var next *yaml.Node
		switch n.Kind {
		case yaml.MappingNode:
			best := -1
			for i := 0; i+1 < len(n.Content); i += 2 {
				k := n.Content[i].Value
				if (rest == k || strings.HasPrefix(rest, k+".") || strings.HasPrefix(rest, k+"[")) &&
					(best < 0 || len(k) > len(n.Content[best].Value)) {
					best = i
				}
			}
			if best < 0 {
				return line
			}
			line, next = n.Content[best].Line, n.Content[best+1]
			rest = strings.TrimPrefix(strings.TrimPrefix(rest, n.Content[best].Value), ".")
		case yaml.SequenceNode:
			idx, after, ok := strings.Cut(strings.TrimPrefix(rest, "["), "]")
			i, err := strconv.Atoi(idx)
			if !ok || !strings.HasPrefix(rest, "[") || err != nil || i < 0 || i >= len(n.Content) {
				return line
			}
			line, next = n.Content[i].Line, n.Content[i]
			rest = strings.TrimPrefix(after, ".")
		default:
			return line
		}
		n = next
	}
	return line
}

// unjoin returns the errors joined in err, or err alone.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	if err != nil {
		return []error{err}
	}
	return nil
}
