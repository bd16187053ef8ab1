package proxy

import (
	"bytes"
	"errors"
	"net/url"
	"unsafe"
)

// Prefix is the path prefix the proxy serves, to be mounted on the
// sidecar's server.
const Prefix = "/a2a/"

var prefixBytes = []byte(Prefix)

// Errors of splitTarget.
var (
	errNotProxied  = errors.New("the path does not start with " + Prefix + "{name}")
	errDotSegments = errors.New("the path has a dot segment (. or .., maybe percent-encoded)")
	errBadEscape   = errors.New("the path has a malformed percent-encoding")
)

// splitTarget splits raw, the path of a request as the client sent it
// (not decoded, not normalised), into the agent name and the rest of the
// path to forward ("" or starting with "/"). Both are sub-slices of raw.
// A rest with a "." or ".." segment, even percent-encoded (%2e, or inside
// a segment through %2f), is refused so that a request cannot climb out of
// an endpoint's path.
func splitTarget(raw []byte) (name, rest []byte, err error) {
	after, ok := bytes.CutPrefix(raw, prefixBytes)
	if !ok {
		return nil, nil, errNotProxied
	}
	if i := bytes.IndexByte(after, '/'); i >= 0 {
		name, rest = after[:i], after[i:]
	} else {
		name = after
	}
	if len(name) == 0 {
		return nil, nil, errNotProxied
	}
	if bytes.IndexByte(rest, '.') >= 0 || bytes.IndexByte(rest, '%') >= 0 || bytes.IndexByte(rest, '\\') >= 0 {
		if err := checkSegments(rest); err != nil {
			return nil, nil, err
		}
	}
	return name, rest, nil
}

// checkSegments refuses a path with a dot segment once percent-decoded,
// splitting on "/" and "\" (which some servers take for "/").
func checkSegments(path []byte) error {
	decoded, err := url.PathUnescape(string(path))
	if err != nil {
		return errBadEscape
	}
	for seg := range splitAny(decoded) {
		if seg == "." || seg == ".." {
			return errDotSegments
		}
	}
	return nil
}

// splitAny yields the segments of p between "/" and "\" separators.
func splitAny(p string) func(yield func(string) bool) {
	return func(yield func(string) bool) {
		start := 0
		for i := 0; i <= len(p); i++ {
			if i == len(p) || p[i] == '/' || p[i] == '\\' {
				if !yield(p[start:i]) {
					return
				}
				start = i + 1
			}
		}
	}
}

// transient returns b as a string without copying, for lookups only: the
// string is valid while b is and must not be retained.
func transient(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}
