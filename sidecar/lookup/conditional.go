package lookup

import "bytes"

var (
	comma      = []byte(",")
	weakPrefix = []byte("W/")
)

// noneMatch reports whether the If-None-Match header value header matches
// tag with the weak comparison of RFC 9110 §13.1.2: it is "*" or a
// comma-separated list holding tag or W/tag. An empty header matches
// nothing. It does not allocate.
func noneMatch(header, tag []byte) bool {
	for len(header) > 0 {
		var candidate []byte
		candidate, header, _ = bytes.Cut(header, comma)
		candidate = bytes.TrimSpace(candidate)
		if string(candidate) == "*" || bytes.Equal(bytes.TrimPrefix(candidate, weakPrefix), tag) {
			return true
		}
	}
	return false
}
