package registry

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strconv"
)

// Entry limits.
const (
	// MaxEntryBytes bounds the API form of an entry given to ParseEntry.
	MaxEntryBytes = 2 << 20
	// MaxTTLSeconds bounds Entry.TTLSeconds.
	MaxTTLSeconds = 24 * 60 * 60
	maxEndpoints  = 128
	maxWeight     = 1_000_000
)

var endpointURLSchemes = []string{"http", "https"}

// cardKeys are top-level keys that make a JSON object without "card" a bare card.
var cardKeys = []string{"protocolVersion", "protocol_version", "supportedInterfaces", "supported_interfaces",
	"skills", "defaultInputModes", "default_input_modes"}

// ParseEntry parses the API form of an entry (BRIEF §4), or a bare A2A agent
// card, and validates it. An object with a top-level "card" key is an entry;
// otherwise an object with card keys (protocolVersion, supportedInterfaces,
// skills, defaultInputModes, in either spelling) is a bare card.
//
// Entry keys are strict: name, labels, endpoints, card and ttl_seconds are
// read; revision, updated_at, source and registered_by are accepted and
// ignored because the store sets them (so that a GET response can be PUT
// back); any other key is an error. name, when non-empty (the name
// in a URL path), must equal the body's name if it has one and is used when
// it has none; with neither, the name is derived from the card's name.
// Without endpoints, the card's http(s) interface URLs become the endpoints.
// A weight of 0 becomes 1. The entry returned is new and owned by the caller;
// its Revision, UpdatedAt, Source and RegisteredBy are zero. Every error is a *FieldError
// naming the field by its path ("endpoints[0].weight"); syntax errors have an
// empty Field.
func ParseEntry(data []byte, name string) (*Entry, error) {
	doc, err := checkDocument(data, "", MaxEntryBytes)
	if err != nil {
		return nil, err
	}
	if doc[0] != '{' {
		return nil, fieldErr("", "must be a JSON object: an entry or an A2A agent card")
	}
	var e *Entry
	var bodyName string
	switch {
	case hasAnyKey(doc, "card"):
		e, bodyName, err = decodeEntry(doc)
	case hasAnyKey(doc, cardKeys...):
		var card *Card
		card, err = ParseCard(doc)
		e = &Entry{Card: card}
	default:
		err = fieldErr("", `neither an entry (no "card" key) nor an A2A agent card`)
	}
	if err != nil {
		return nil, err
	}
	if e.Name, err = resolveName(name, bodyName, e.Card); err != nil {
		return nil, err
	}
	if len(e.Endpoints) == 0 {
		e.Endpoints = e.Card.DefaultEndpoints()
	}
	for i := range e.Endpoints {
		if e.Endpoints[i].Weight == 0 {
			e.Endpoints[i].Weight = 1
		}
	}
	if err := e.Validate(); err != nil {
		return nil, err
	}
	return e, nil
}

// resolveName picks the entry name from the path name, the body name and the
// card, as ParseEntry documents.
func resolveName(pathName, bodyName string, card *Card) (string, error) {
	switch {
	case pathName != "" && bodyName != "" && pathName != bodyName:
		return "", fieldErr("name", fmt.Sprintf("%q does not match the name %q in the path", bodyName, pathName))
	case pathName != "":
		return pathName, nil
	case bodyName != "":
		return bodyName, nil
	}
	if derived := DeriveName(card.Name); derived != "" {
		return derived, nil
	}
	return "", fieldErr("name", fmt.Sprintf("cannot derive a name from card.name %q; give a name", card.Name))
}

// decodeEntry reads the members of doc, the JSON object of an entry, and
// returns the entry (without name) and the name written in it.
func decodeEntry(doc []byte) (*Entry, string, error) {
	e := &Entry{}
	var name string
	var seen keySet
	for m := range members(doc) {
		key := m.key()
		if seen.add(key) {
			return nil, "", fieldErr(key, "duplicate key")
		}
		var err error
		switch key {
		case "name":
			name, err = decodeOptionalString("name", m.val)
		case "labels":
			e.Labels, err = decodeLabels(m.val)
		case "endpoints":
			e.Endpoints, err = decodeEndpoints(m.val)
		case "card":
			if !isNull(m.val) {
				e.Card, err = ParseCard(m.val)
			}
		case "ttl_seconds":
			e.TTLSeconds, err = decodeInt("ttl_seconds", m.val, MaxTTLSeconds)
		case "revision", "updated_at", "source", "registered_by": // set by the store
		default:
			err = fieldErr(key, "unknown field; an entry has name, labels, endpoints, card and ttl_seconds")
		}
		if err != nil {
			return nil, "", err
		}
	}
	if e.Card == nil {
		return nil, "", fieldErr("card", "required")
	}
	return e, name, nil
}

// decodeOptionalString decodes a string or null (as "") at field.
func decodeOptionalString(field string, v []byte) (string, error) {
	switch v[0] {
	case 'n':
		return "", nil
	case '"':
		return decodeString(v), nil
	}
	return "", fieldErr(field, "must be a string")
}

// decodeInt decodes an integer in [0, maxValue], or null as 0, at field.
func decodeInt(field string, v []byte, maxValue int64) (int64, error) {
	if isNull(v) {
		return 0, nil
	}
	if v[0] != '-' && (v[0] < '0' || v[0] > '9') {
		return 0, fieldErr(field, "must be a number")
	}
	n, err := strconv.ParseInt(string(v), 10, 64)
	if err != nil || n < 0 || n > maxValue {
		return 0, fieldErr(field, fmt.Sprintf("must be an integer from 0 to %d", maxValue))
	}
	return n, nil
}

func decodeLabels(v []byte) (map[string]string, error) {
	switch v[0] {
	case 'n':
		return nil, nil
	case '{':
	default:
		return nil, fieldErr("labels", "must be an object")
	}
	labels := make(map[string]string)
	for m := range members(v) {
		key := m.key()
		field := "labels." + key
		if _, dup := labels[key]; dup {
			return nil, fieldErr(field, "duplicate key")
		}
		if len(labels) == maxLabels {
			return nil, fieldErr("labels", fmt.Sprintf("must have at most %d labels", maxLabels))
		}
		if m.val[0] != '"' {
			return nil, fieldErr(field, "must be a string")
		}
		labels[key] = decodeString(m.val)
	}
	return labels, nil
}

func decodeEndpoints(v []byte) ([]Endpoint, error) {
	switch v[0] {
	case 'n':
		return nil, nil
	case '[':
	default:
		return nil, fieldErr("endpoints", "must be an array")
	}
	var eps []Endpoint
	for i, el := range elements(v) {
		if i == maxEndpoints {
			return nil, fieldErr("endpoints", fmt.Sprintf("must have at most %d endpoints", maxEndpoints))
		}
		ep, err := decodeEndpoint("endpoints["+strconv.Itoa(i)+"]", el)
		if err != nil {
			return nil, err
		}
		eps = append(eps, ep)
	}
	return eps, nil
}

func decodeEndpoint(field string, v []byte) (Endpoint, error) {
	var ep Endpoint
	if v[0] != '{' {
		return ep, fieldErr(field, "must be an object")
	}
	var seen keySet
	for m := range members(v) {
		key := m.key()
		sub := field + "." + key
		if seen.add(key) {
			return ep, fieldErr(sub, "duplicate key")
		}
		var err error
		switch key {
		case "url":
			ep.URL, err = decodeOptionalString(sub, m.val)
		case "weight":
			var w int64
			w, err = decodeInt(sub, m.val, maxWeight)
			ep.Weight = uint32(w)
		default:
			err = fieldErr(sub, "unknown field; an endpoint has url and weight")
		}
		if err != nil {
			return ep, err
		}
	}
	return ep, nil
}

// DefaultEndpoints returns the endpoints of an entry that names none: the
// card's http and https interface URLs in card order (v0.3: url, then
// additionalInterfaces; v1.0: supportedInterfaces), without duplicates, each
// with weight 1. The slice is new and owned by the caller; nil for a nil card.
func (c *Card) DefaultEndpoints() []Endpoint {
	if c == nil {
		return nil
	}
	var eps []Endpoint
	for _, in := range c.Interfaces {
		if checkURL(in.URL, endpointURLSchemes) != nil {
			continue
		}
		if !slices.ContainsFunc(eps, func(ep Endpoint) bool { return ep.URL == in.URL }) {
			eps = append(eps, Endpoint{URL: in.URL, Weight: 1})
		}
	}
	return eps
}

// Validate checks an entry built in code as ParseEntry checks a parsed one:
// the name, the labels (at most 64, Kubernetes rules), the endpoints (at most
// 128, absolute http(s) URLs with a host, distinct, weight at most 1000000),
// ttl_seconds (0 to MaxTTLSeconds) and the presence of a parsed card. It does
// not modify e. The error is a *FieldError.
func (e *Entry) Validate() error {
	if e == nil {
		return fieldErr("", "no entry")
	}
	if err := ValidateName(e.Name); err != nil {
		return err
	}
	if err := ValidateLabels(e.Labels); err != nil {
		return err
	}
	if err := validateEndpoints(e.Endpoints); err != nil {
		return err
	}
	if e.TTLSeconds < 0 || e.TTLSeconds > MaxTTLSeconds {
		return fieldErr("ttl_seconds", fmt.Sprintf("must be an integer from 0 to %d", MaxTTLSeconds))
	}
	if len(e.Card.JSON()) == 0 {
		return fieldErr("card", "required")
	}
	return nil
}

// ValidateLabels checks labels (or a label selector) with the rules of entry
// labels; of several bad ones it reports the smallest key, so the error does
// not depend on map order.
func ValidateLabels(labels map[string]string) error {
	if len(labels) > maxLabels {
		return fieldErr("labels", fmt.Sprintf("must have at most %d labels", maxLabels))
	}
	var bad error
	var badKey string
	for k, v := range labels {
		if err := validateLabel(k, v); err != nil && (bad == nil || k < badKey) {
			bad, badKey = err, k
		}
	}
	return bad
}

func validateEndpoints(eps []Endpoint) error {
	if len(eps) > maxEndpoints {
		return fieldErr("endpoints", fmt.Sprintf("must have at most %d endpoints", maxEndpoints))
	}
	for i, ep := range eps {
		field := "endpoints[" + strconv.Itoa(i) + "]"
		if err := checkURL(ep.URL, endpointURLSchemes); err != nil {
			return fieldErr(field+".url", err.Error())
		}
		if j := slices.IndexFunc(eps[:i], func(o Endpoint) bool { return o.URL == ep.URL }); j >= 0 {
			return fieldErr(field+".url", fmt.Sprintf("duplicate of endpoints[%d]", j))
		}
		if ep.Weight > maxWeight {
			return fieldErr(field+".weight", fmt.Sprintf("must be an integer from 0 to %d", maxWeight))
		}
	}
	return nil
}

// Clone returns a copy of e with its own Labels map and Endpoints slice; the
// Card is shared, being immutable. Clone of nil is nil.
func (e *Entry) Clone() *Entry {
	if e == nil {
		return nil
	}
	c := *e
	c.Labels = maps.Clone(e.Labels)
	c.Endpoints = slices.Clone(e.Endpoints)
	return &c
}

// ContentEqual reports whether e and o have the same content: name, labels,
// endpoints (a weight of 0 counting as 1), ttl_seconds and card JSON.
// Revision, UpdatedAt, Source and RegisteredBy are ignored; a nil and an empty map or slice
// are equal. Two nil entries are equal.
func (e *Entry) ContentEqual(o *Entry) bool {
	if e == nil || o == nil {
		return e == o
	}
	return e.Name == o.Name &&
		e.TTLSeconds == o.TTLSeconds &&
		maps.Equal(e.Labels, o.Labels) &&
		slices.EqualFunc(e.Endpoints, o.Endpoints, func(a, b Endpoint) bool {
			return a.URL == b.URL && effectiveWeight(a.Weight) == effectiveWeight(b.Weight)
		}) &&
		bytes.Equal(e.Card.JSON(), o.Card.JSON())
}

func effectiveWeight(w uint32) uint32 { return max(w, 1) }

// MatchesSelector reports whether every key=value pair of sel is among e's
// labels. An empty or nil selector matches every entry (and a nil one).
func (e *Entry) MatchesSelector(sel map[string]string) bool {
	var labels map[string]string
	if e != nil {
		labels = e.Labels
	}
	for k, v := range sel {
		if got, ok := labels[k]; !ok || got != v {
			return false
		}
	}
	return true
}
