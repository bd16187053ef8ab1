package xds

import (
	"errors"
	"maps"
	"testing"

	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/sidecard/sidecard/registry"
)

func TestNodeSelector(t *testing.T) {
	str := func(fields map[string]any) *structpb.Struct {
		s, err := structpb.NewStruct(fields)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	tests := []struct {
		name    string
		node    *core.Node
		want    map[string]string
		key     string
		wantErr bool
	}{
		{"nil node", nil, nil, "{}", false},
		{"no metadata", &core.Node{Id: "n"}, nil, "{}", false},
		{"labels only", &core.Node{Metadata: str(map[string]any{"labels": map[string]any{"zone": "eu-1"}})}, nil, "{}", false},
		{"selector", &core.Node{Metadata: str(map[string]any{"selector": map[string]any{"team": "forecast", "a": "b"}})},
			map[string]string{"team": "forecast", "a": "b"}, `{"a":"b","team":"forecast"}`, false},
		{"empty selector", &core.Node{Metadata: str(map[string]any{"selector": map[string]any{}})}, nil, "{}", false},
		{"selector not a struct", &core.Node{Metadata: str(map[string]any{"selector": "team=x"})}, nil, "", true},
		{"value not a string", &core.Node{Metadata: str(map[string]any{"selector": map[string]any{"n": 1.0}})}, nil, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sel, err := nodeSelector(tt.node)
			if (err != nil) != tt.wantErr {
				t.Fatalf("error %v, want error %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if !maps.Equal(sel.labels, tt.want) || sel.key != tt.key {
				t.Fatalf("selector %v %q, want %v %q", sel.labels, sel.key, tt.want, tt.key)
			}
		})
	}
}

func TestViewWants(t *testing.T) {
	e := &registry.Entry{Name: "a", Labels: map[string]string{"team": "x"}}
	names := map[string]struct{}{"a": {}, "b": {}}
	tests := []struct {
		name string
		v    view
		m    *registry.Entry
		want bool
	}{
		{"wildcard", view{sel: emptySelector, wildcard: true}, e, true},
		{"absent entry", view{sel: emptySelector, wildcard: true}, nil, false},
		{"selector match", view{sel: newSelector(map[string]string{"team": "x"}), wildcard: true}, e, true},
		{"selector mismatch", view{sel: newSelector(map[string]string{"team": "y"}), wildcard: true}, e, false},
		{"named", view{sel: emptySelector, names: names}, e, true},
		{"not named", view{sel: emptySelector, names: map[string]struct{}{"b": {}}}, e, false},
		{"named since (plus): not before", view{sel: emptySelector, names: names, plus: map[string]struct{}{"a": {}}}, e, false},
		{"unsubscribed since (minus): named before", view{sel: emptySelector, minus: map[string]struct{}{"a": {}}}, e, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.v.wants(tt.m); got != tt.want {
				t.Fatalf("wants = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestStreamState(t *testing.T) {
	team := newSelector(map[string]string{"team": "a b"})
	tests := []struct {
		name    string
		encoded string
		cur     selector
		want    streamState
		err     error // nil: no error; errAny: some error
	}{
		{"round trip", streamState{w: 42, wildcard: true, sel: team}.encode(), emptySelector,
			streamState{w: 42, wildcard: true, sel: team}, nil},
		{"same selector", streamState{w: 7, sel: team}.encode(), team, streamState{w: 7, sel: team}, nil},
		{"reset", resetState, emptySelector, streamState{}, errStreamReset},
		{"malformed", "42", emptySelector, streamState{}, errAny},
		{"bad flag", "42 2 {}", emptySelector, streamState{}, errAny},
		{"bad revision", "x 1 {}", emptySelector, streamState{}, errAny},
		{"bad selector", "1 1 {", emptySelector, streamState{}, errAny},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStreamState(tt.encoded, tt.cur)
			switch {
			case tt.err == nil && err != nil:
				t.Fatalf("error %v", err)
			case tt.err == errAny && err == nil, tt.err != nil && tt.err != errAny && !errors.Is(err, tt.err):
				t.Fatalf("error %v, want %v", err, tt.err)
			}
			if err == nil && (got.w != tt.want.w || got.wildcard != tt.want.wildcard || got.sel.key != tt.want.sel.key ||
				!maps.Equal(got.sel.labels, tt.want.sel.labels)) {
				t.Fatalf("state %+v, want %+v", got, tt.want)
			}
		})
	}
}

// errAny stands for any error in test tables.
var errAny = errors.New("any error")
