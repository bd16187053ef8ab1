package xds

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// stateKey is the key of the returned-resources map under which the cache
// keeps a stream's state. "*" is never a valid entry name.
const stateKey = wildcardName

// resetState is the state of a stream that must reconnect: the cache could
// not bring it up to date.
const resetState = "reset"

// errStreamReset is returned by CreateDeltaWatch for a stream in resetState.
var errStreamReset = errors.New("the stream fell behind the registry's change history; " +
	"reconnect with initial_resource_versions")

// streamState is what a client holds once in sync: every entry visible to
// the view (wildcard, sel) at revision w.
type streamState struct {
	w        int64
	wildcard bool
	sel      selector
}

// encode returns the state as stored under stateKey: "<w> <0|1> <selector>".
func (s streamState) encode() string {
	wildcard := "0"
	if s.wildcard {
		wildcard = "1"
	}
	return strconv.FormatInt(s.w, 10) + " " + wildcard + " " + s.sel.key
}

// parseStreamState parses an encoded state; resetState yields errStreamReset.
// A state whose selector equals cur is parsed without decoding the selector.
func parseStreamState(v string, cur selector) (streamState, error) {
	if v == resetState {
		return streamState{}, errStreamReset
	}
	parts := strings.SplitN(v, " ", 3)
	if len(parts) != 3 || (parts[1] != "0" && parts[1] != "1") {
		return streamState{}, fmt.Errorf("stream state %q: malformed", v)
	}
	w, err := strconv.ParseInt(parts[0], 10, 64)
	if err != nil || w < 0 {
		return streamState{}, fmt.Errorf("stream state %q: bad revision", v)
	}
	s := streamState{w: w, wildcard: parts[1] == "1", sel: cur}
	if parts[2] != cur.key {
		if s.sel, err = parseSelector(parts[2]); err != nil {
			return streamState{}, fmt.Errorf("stream state %q: %w", v, err)
		}
	}
	return s, nil
}
