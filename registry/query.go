package registry

import (
	"encoding/base64"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Limits of a query.
const (
	// DefaultLimit is the page size when a query gives none.
	DefaultLimit = 100
	// MaxLimit is the largest page size a query may ask for.
	MaxLimit = 1000
)

// Bounds on query parameters, so that a lookup cannot be made arbitrarily
// expensive by its input.
const (
	queryMaxValues     = 16  // values per repeated parameter
	queryMaxValueBytes = 256 // bytes per value, except cursor
	// queryMaxCursorBytes fits the base64url form of the longest valid
	// name (253 bytes encode to 338 characters).
	queryMaxCursorBytes = 344
	// queryMaxFieldEcho bounds how much of an unknown parameter's name is
	// echoed back in an error.
	queryMaxFieldEcho = 64
)

// Query parameter names.
const (
	paramSkill  = "skill"
	paramTag    = "tag"
	paramLabel  = "label"
	paramText   = "q"
	paramLimit  = "limit"
	paramCursor = "cursor"
)

// Label is one key=value label filter of a query.
type Label struct{ Key, Value string }

// Query is a search over an Index. Every non-empty filter must match: the
// repeated filters (Skills, Tags, Labels) AND together, and with Text.
//
// The zero value matches every entry and returns the first DefaultLimit of
// them. A Query is a plain value; Index.Search does not retain it.
type Query struct {
	// Skills match a skill whose id or name equals the value, ignoring case.
	Skills []string
	// Tags match any skill tag equal to the value, ignoring case.
	Tags []string
	// Labels match an entry label exactly (key and value).
	Labels []Label
	// Text is a case-insensitive substring of the entry name, the card name
	// and description, or a skill's id, name, description or tag.
	Text string
	// Limit is the page size: <= 0 means DefaultLimit; Search caps it at MaxLimit.
	Limit int
	// Cursor is the NextCursor of a previous Page; "" starts at the first entry.
	Cursor string
}

// ParseQuery parses the query parameters of a search request: skill, tag and
// label (form key=value) may repeat, up to 16 times each; q, limit (an
// integer in 1..MaxLimit, DefaultLimit when absent) and cursor may appear
// once. Values are non-empty and at most 256 bytes (a cursor, 344).
//
// Any other parameter, an empty, repeated or oversized value, a malformed
// label, limit or cursor is an error: a *FieldError whose Field is the
// parameter's name. When several parameters are wrong the first in a fixed
// order (the known parameters, then unknown ones sorted) is reported.
func ParseQuery(v url.Values) (Query, error) {
	if err := checkQueryParams(v); err != nil {
		return Query{}, err
	}
	q := Query{Limit: DefaultLimit}
	var err error
	if q.Skills, err = repeatedParam(v, paramSkill); err != nil {
		return Query{}, err
	}
	if q.Tags, err = repeatedParam(v, paramTag); err != nil {
		return Query{}, err
	}
	if q.Labels, err = labelParams(v); err != nil {
		return Query{}, err
	}
	if q.Text, err = singleParam(v, paramText, queryMaxValueBytes); err != nil {
		return Query{}, err
	}
	if q.Limit, err = limitParam(v); err != nil {
		return Query{}, err
	}
	if q.Cursor, err = singleParam(v, paramCursor, queryMaxCursorBytes); err != nil {
		return Query{}, err
	}
	if _, err := decodeCursor(q.Cursor); err != nil {
		return Query{}, err
	}
	return q, nil
}

// Encode returns q as query parameters, the inverse of ParseQuery: for any
// query ParseQuery accepted, ParseQuery(q.Encode()) returns an equal Query.
// Empty fields and a Limit <= 0 are left out. The caller owns the result.
func (q Query) Encode() url.Values {
	v := url.Values{}
	for _, s := range q.Skills {
		v.Add(paramSkill, s)
	}
	for _, t := range q.Tags {
		v.Add(paramTag, t)
	}
	for _, l := range q.Labels {
		v.Add(paramLabel, l.Key+"="+l.Value)
	}
	if q.Text != "" {
		v.Set(paramText, q.Text)
	}
	if q.Limit > 0 {
		v.Set(paramLimit, strconv.Itoa(q.Limit))
	}
	if q.Cursor != "" {
		v.Set(paramCursor, q.Cursor)
	}
	return v
}

// checkQueryParams rejects parameters ParseQuery does not know, reporting
// the smallest unknown name so that the error is deterministic.
func checkQueryParams(v url.Values) error {
	var unknown []string
	for k := range v {
		switch k {
		case paramSkill, paramTag, paramLabel, paramText, paramLimit, paramCursor:
		default:
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	name := slices.Min(unknown)
	if len(name) > queryMaxFieldEcho {
		name = name[:queryMaxFieldEcho] + "..."
	}
	return fieldErr(name, "unknown query parameter")
}

// repeatedParam returns the values of a repeatable parameter, nil when absent.
func repeatedParam(v url.Values, name string) ([]string, error) {
	vals := v[name]
	if len(vals) == 0 {
		return nil, nil
	}
	if len(vals) > queryMaxValues {
		return nil, fieldErr(name, "at most "+strconv.Itoa(queryMaxValues)+" values allowed")
	}
	for _, s := range vals {
		if err := checkValue(name, s, queryMaxValueBytes); err != nil {
			return nil, err
		}
	}
	return slices.Clone(vals), nil
}

// labelParams parses the label parameters, each "key=value" with a
// non-empty key; the value may be empty and may itself contain '='.
func labelParams(v url.Values) ([]Label, error) {
	vals, err := repeatedParam(v, paramLabel)
	if err != nil || vals == nil {
		return nil, err
	}
	labels := make([]Label, 0, len(vals))
	for _, s := range vals {
		key, value, ok := strings.Cut(s, "=")
		if !ok || key == "" {
			return nil, fieldErr(paramLabel, "must be key=value")
		}
		labels = append(labels, Label{Key: key, Value: value})
	}
	return labels, nil
}

// singleParam returns the value of a parameter that may appear at most
// once, "" when absent.
func singleParam(v url.Values, name string, maxBytes int) (string, error) {
	vals := v[name]
	switch len(vals) {
	case 0:
		return "", nil
	case 1:
		return vals[0], checkValue(name, vals[0], maxBytes)
	default:
		return "", fieldErr(name, "must be given at most once")
	}
}

// limitParam returns the page size, DefaultLimit when absent.
func limitParam(v url.Values) (int, error) {
	s, err := singleParam(v, paramLimit, queryMaxValueBytes)
	if err != nil || s == "" {
		return DefaultLimit, err
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > MaxLimit {
		return 0, fieldErr(paramLimit, "must be an integer between 1 and "+strconv.Itoa(MaxLimit))
	}
	return n, nil
}

// checkValue rejects an empty or oversized parameter value.
func checkValue(name, s string, maxBytes int) error {
	if s == "" {
		return fieldErr(name, "must not be empty")
	}
	if len(s) > maxBytes {
		return fieldErr(name, "must be at most "+strconv.Itoa(maxBytes)+" bytes")
	}
	return nil
}

// encodeCursor returns the opaque cursor that resumes a search after name.
func encodeCursor(name string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(name))
}

// decodeCursor returns the name a cursor resumes after, "" for the empty
// cursor. A cursor that encodeCursor could not have produced is a
// *FieldError for "cursor".
func decodeCursor(c string) (string, error) {
	if c == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(b) == 0 {
		return "", fieldErr(paramCursor, "invalid cursor")
	}
	return string(b), nil
}
