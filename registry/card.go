package registry

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"unicode/utf8"
)

// This file holds the card API: ParseCard, the Card methods and the
// extraction of the fields sidecard indexes from a normalised card. The
// schema is in cardschema.go, the normalisation in cardnormalise.go and the
// JSON walking helpers in jsonscan.go.

// Card limits. A card is refused when its JSON, as given or once normalised,
// exceeds MaxCardBytes.
const (
	MaxCardBytes  = 256 << 10
	maxSkills     = 1000
	maxInterfaces = 64   // additionalInterfaces, supportedInterfaces
	maxTags       = 100  // tags of one skill
	maxModes      = 100  // entries of one input or output mode list
	maxModeLen    = 255  // bytes of one mode string
	maxURLLen     = 2048 // bytes of an interface or endpoint URL
)

// ParseCard parses and validates an A2A AgentCard JSON object, in the v0.3
// shape or, when it has supportedInterfaces, the v1.0 shape.
//
// Keys of the known card structure written in snake_case are renamed to the
// spec's camelCase, protocol bindings and transports are spelled canonically,
// and everything else, unknown fields included, is kept verbatim. The result
// is compact, keeps the input's key order and has '<', '>', '&', U+2028 and
// U+2029 escaped inside strings, so that encoding/json re-emits it unchanged;
// parsing it again yields the same bytes. The card returned is immutable and
// safe for concurrent use: its slices and JSON must not be modified. Every
// error is a *FieldError whose Field is a path starting with "card"
// ("card.skills[2].tags").
func ParseCard(data []byte) (*Card, error) {
	doc, err := checkDocument(data, "card", MaxCardBytes)
	if err != nil {
		return nil, err
	}
	if doc[0] != '{' {
		return nil, fieldErr("card", "must be a JSON object")
	}
	spec, schema := SpecV03, cardV03
	if hasAnyKey(doc, "supportedInterfaces", "supported_interfaces") {
		spec, schema = SpecV10, cardV10
	}
	var n normalizer
	n.buf.Grow(len(doc))
	if err := n.value(schema, doc); err != nil {
		return nil, err
	}
	raw := n.result()
	if len(raw) > MaxCardBytes {
		return nil, fieldErr("card", fmt.Sprintf("too large once normalised: %d bytes, the limit is %d",
			len(raw), MaxCardBytes))
	}
	c := extractCard(raw, spec)
	if err := checkSkillIDs(c.Skills); err != nil {
		return nil, err
	}
	return c, nil
}

// JSON returns the card's normalised JSON, or nil for a nil card. The bytes
// are shared: callers must not modify them.
func (c *Card) JSON() []byte {
	if c == nil {
		return nil
	}
	return c.raw
}

// MarshalJSON returns the card's normalised JSON (shared; not to be
// modified), or null for a nil or zero card.
func (c *Card) MarshalJSON() ([]byte, error) {
	if c == nil || c.raw == nil {
		return []byte("null"), nil
	}
	return c.raw, nil
}

// UnmarshalJSON parses data with ParseCard into c. A JSON null leaves c
// unchanged, as encoding/json expects.
func (c *Card) UnmarshalJSON(data []byte) error {
	if string(bytes.TrimSpace(data)) == "null" {
		return nil
	}
	parsed, err := ParseCard(data)
	if err != nil {
		return err
	}
	*c = *parsed
	return nil
}

// checkDocument checks the size, encoding and syntax of a JSON document and
// returns it without surrounding whitespace. Errors name field.
func checkDocument(data []byte, field string, limit int) ([]byte, error) {
	if len(data) > limit {
		return nil, fieldErr(field, fmt.Sprintf("too large: %d bytes, the limit is %d", len(data), limit))
	}
	if !utf8.Valid(data) {
		return nil, fieldErr(field, "invalid JSON: not valid UTF-8")
	}
	if !json.Valid(data) {
		return nil, fieldErr(field, syntaxMessage(data))
	}
	return trimSpace(data), nil
}

// syntaxMessage describes the syntax error of invalid JSON data.
func syntaxMessage(data []byte) string {
	var raw json.RawMessage
	err := json.Unmarshal(data, &raw)
	if se, ok := err.(*json.SyntaxError); ok {
		return fmt.Sprintf("invalid JSON at offset %d: %s", se.Offset, se.Error())
	}
	return fmt.Sprintf("invalid JSON: %v", err)
}

// extractCard reads the fields sidecard indexes from raw, a card already
// normalised (checked against the schema of spec by ParseCard, or trusted by
// CardFromStored). It checks nothing: raw need only be a valid JSON object.
func extractCard(raw []byte, spec SpecVersion) *Card {
	c := &Card{Spec: spec, raw: raw}
	var primary Interface
	var additional, supported []Interface
	for m := range members(raw) {
		switch string(m.inner()) {
		case "name":
			c.Name = stringValue(m.val)
		case "description":
			c.Description = stringValue(m.val)
		case "version":
			c.Version = stringValue(m.val)
		case "protocolVersion":
			primary.ProtocolVersion = stringValue(m.val)
		case "url":
			primary.URL = stringValue(m.val)
		case "preferredTransport":
			primary.ProtocolBinding = stringValue(m.val)
		case "additionalInterfaces":
			additional = extractInterfaces(m.val, false)
		case "supportedInterfaces":
			supported = extractInterfaces(m.val, true)
		case "skills":
			c.Skills = extractSkills(m.val)
		case "capabilities":
			c.Capabilities = extractCapabilities(m.val)
		}
	}
	if spec == SpecV10 {
		c.Interfaces = supported
	} else {
		c.Interfaces = v03Interfaces(primary, additional)
	}
	if len(c.Interfaces) > 0 { // always, for a card the schema accepted
		c.URL, c.ProtocolVersion = c.Interfaces[0].URL, c.Interfaces[0].ProtocolVersion
	}
	return c
}

// v03Interfaces lists the interfaces of a v0.3 card: the primary one (url,
// preferredTransport defaulting to JSONRPC) and then the additional ones that
// differ from those before, all with the card's protocolVersion.
func v03Interfaces(primary Interface, additional []Interface) []Interface {
	if primary.ProtocolBinding == "" {
		primary.ProtocolBinding = "JSONRPC"
	}
	out := []Interface{primary}
	for _, in := range additional {
		in.ProtocolVersion = primary.ProtocolVersion
		if !slices.ContainsFunc(out, func(o Interface) bool {
			return o.URL == in.URL && o.ProtocolBinding == in.ProtocolBinding
		}) {
			out = append(out, in)
		}
	}
	return out
}

// extractInterfaces reads v1.0 supportedInterfaces or, when v10 is false,
// v0.3 additionalInterfaces (url and transport only).
func extractInterfaces(v []byte, v10 bool) []Interface {
	var out []Interface
	for _, el := range elements(v) {
		var in Interface
		for m := range members(el) {
			switch key := string(m.inner()); {
			case key == "url":
				in.URL = stringValue(m.val)
			case key == "transport" && !v10:
				in.ProtocolBinding = stringValue(m.val)
			case key == "protocolBinding" && v10:
				in.ProtocolBinding = stringValue(m.val)
			case key == "protocolVersion" && v10:
				in.ProtocolVersion = stringValue(m.val)
			case key == "tenant" && v10:
				in.Tenant = stringValue(m.val)
			}
		}
		out = append(out, in)
	}
	return out
}

func extractSkills(v []byte) []Skill {
	var out []Skill
	for _, el := range elements(v) {
		var s Skill
		for m := range members(el) {
			switch string(m.inner()) {
			case "id":
				s.ID = stringValue(m.val)
			case "name":
				s.Name = stringValue(m.val)
			case "description":
				s.Description = stringValue(m.val)
			case "tags":
				for _, tag := range elements(m.val) {
					s.Tags = append(s.Tags, stringValue(tag))
				}
			}
		}
		out = append(out, s)
	}
	return out
}

func extractCapabilities(v []byte) Capabilities {
	var c Capabilities
	for m := range members(v) {
		switch string(m.inner()) {
		case "streaming":
			c.Streaming = isTrue(m.val)
		case "pushNotifications":
			c.PushNotifications = isTrue(m.val)
		case "stateTransitionHistory":
			c.StateTransitionHistory = isTrue(m.val)
		}
	}
	return c
}

// checkSkillIDs reports the first skill whose id repeats an earlier one.
func checkSkillIDs(skills []Skill) error {
	var seen keySet
	for i, s := range skills {
		if seen.add(s.ID) {
			return fieldErr("card.skills["+strconv.Itoa(i)+"].id", fmt.Sprintf("duplicate skill id %q", s.ID))
		}
	}
	return nil
}
