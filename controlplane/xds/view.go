package xds

import (
	"encoding/json"
	"fmt"

	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/sidecard/sidecard/registry"
)

// selector is a node's label selector with its canonical form.
type selector struct {
	labels map[string]string
	// key is the canonical JSON of labels ("{}" when empty); equal
	// selectors have equal keys.
	key string
}

// emptySelector matches every entry.
var emptySelector = selector{key: "{}"}

// nodeSelector reads the label selector of a node from
// node.metadata.selector, a Struct of string values. A node without one
// selects every entry.
func nodeSelector(n *core.Node) (selector, error) {
	v, ok := n.GetMetadata().GetFields()["selector"]
	if !ok {
		return emptySelector, nil
	}
	st, ok := v.GetKind().(*structpb.Value_StructValue)
	if !ok {
		return selector{}, fmt.Errorf("node.metadata.selector: must be a struct of strings")
	}
	labels := make(map[string]string, len(st.StructValue.GetFields()))
	for k, fv := range st.StructValue.GetFields() {
		s, ok := fv.GetKind().(*structpb.Value_StringValue)
		if !ok {
			return selector{}, fmt.Errorf("node.metadata.selector.%s: must be a string", k)
		}
		labels[k] = s.StringValue
	}
	return newSelector(labels), nil
}

// newSelector returns the selector of labels, which it keeps.
func newSelector(labels map[string]string) selector {
	if len(labels) == 0 {
		return emptySelector
	}
	key, err := json.Marshal(labels) // sorted keys: canonical
	if err != nil {
		panic(fmt.Sprintf("marshal a map of strings: %v", err)) // cannot happen
	}
	return selector{labels: labels, key: string(key)}
}

// parseSelector parses the canonical key of a selector.
func parseSelector(key string) (selector, error) {
	var labels map[string]string
	if err := json.Unmarshal([]byte(key), &labels); err != nil {
		return selector{}, fmt.Errorf("selector %q: %w", key, err)
	}
	return newSelector(labels), nil
}

// view is what a stream asks to see: with wildcard, every entry its selector
// matches; otherwise the named ones its selector matches.
type view struct {
	sel      selector
	wildcard bool
	// names are the explicitly subscribed names. The map is the server's
	// (the subscription's) and is only read.
	names map[string]struct{}
	// plus and minus turn names into an earlier subscription: names that
	// were subscribed (plus) or unsubscribed (minus) since. Nil for a current
	// view.
	plus, minus map[string]struct{}
}

// named reports whether name is explicitly subscribed in v.
func (v *view) named(name string) bool {
	if _, ok := v.minus[name]; ok {
		return true
	}
	if _, ok := v.plus[name]; ok {
		return false
	}
	_, ok := v.names[name]
	return ok
}

// wants reports whether a stream with view v sees the entry m (name and
// labels; nil for an entry that does not exist).
func (v *view) wants(m *registry.Entry) bool {
	return m != nil && (v.wildcard || v.named(m.Name)) && m.MatchesSelector(v.sel.labels)
}

// sameShape reports whether v and o see the same entries of the same names:
// same wildcard flag and same selector.
func (v *view) sameShape(o *view) bool {
	return v.wildcard == o.wildcard && v.sel.key == o.sel.key
}

// nameSet returns the set of names, without the wildcard token "*".
func nameSet(names []string) map[string]struct{} {
	if len(names) == 0 {
		return nil
	}
	set := make(map[string]struct{}, len(names))
	for _, n := range names {
		if n != wildcardName {
			set[n] = struct{}{}
		}
	}
	return set
}

// wildcardName is the explicit wildcard subscription of the xDS protocol.
const wildcardName = "*"
