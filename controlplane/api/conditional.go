package api

import (
	"net/http"
	"strconv"
	"strings"
)

// etag returns the entity tag of an entry at revision rev: the quoted revision.
func etag(rev int64) string {
	return `"` + strconv.FormatInt(rev, 10) + `"`
}

// ifMatch parses the If-Match header: absent gives (0, false, nil); a single
// quoted non-negative integer gives that revision; anything else is a 400.
func ifMatch(h http.Header) (rev int64, present bool, err error) {
	values := h.Values("If-Match")
	if len(values) == 0 {
		return 0, false, nil
	}
	bad := newError(http.StatusBadRequest, codeInvalidArgument,
		`If-Match: must be one quoted revision such as "42", got %q`, strings.Join(values, ", "))
	bad.field = "If-Match"
	if len(values) > 1 {
		return 0, true, bad
	}
	v := strings.TrimSpace(values[0])
	if len(v) < 3 || v[0] != '"' || v[len(v)-1] != '"' {
		return 0, true, bad
	}
	digits := v[1 : len(v)-1]
	if strings.TrimLeft(digits, "0123456789") != "" {
		return 0, true, bad
	}
	rev, err = strconv.ParseInt(digits, 10, 64)
	if err != nil {
		return 0, true, bad
	}
	return rev, true, nil
}

// noneMatch reports whether the If-None-Match header value matches tag:
// it is "*" or lists tag, weak or strong (weak comparison, RFC 9110 §13.1.2).
func noneMatch(header, tag string) bool {
	for candidate := range strings.SplitSeq(header, ",") {
		candidate = strings.TrimSpace(candidate)
		if candidate == "*" || strings.TrimPrefix(candidate, "W/") == tag {
			return true
		}
	}
	return false
}
