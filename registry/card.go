package registry

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

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

// The protocol bindings (v0.3 transports) sidecard accepts, in their
// canonical spelling.
var protocolBindings = []string{"JSONRPC", "GRPC", "HTTP+JSON"}

var cardURLSchemes = []string{"http", "https", "grpc", "grpcs"}

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

// A kind is the JSON type a node of the card schema accepts.
type kind uint8

const (
	kindAny    kind = iota // any JSON value, kept verbatim (compacted)
	kindString             // a string, optionally checked and normalised
	kindBool               // true or false
	kindObject             // an object with known fields; others are kept verbatim
	kindArray              // an array of elem
	kindMap                // an object whose keys are data, kept verbatim, with values of elem
)

// node is one node of the known card structure. The schema is built once and
// only read afterwards.
type node struct {
	kind     kind
	fields   map[string]*node             // kindObject: known fields by camelCase name
	names    map[string]string            // kindObject: camelCase and snake_case spelling → camelCase name
	required []string                     // kindObject: fields that must be present and not null (at most 64)
	elem     *node                        // kindArray, kindMap
	min, max int                          // kindArray: bounds of the length; max 0 means none
	nonEmpty bool                         // kindString: "" is refused
	check    func(string) (string, error) // kindString: validates and may normalise
}

type fieldMap map[string]*node

// obj returns an object node with fields, accepting each camelCase field
// name in snake_case too.
func obj(fields fieldMap, required ...string) *node {
	names := make(map[string]string, 2*len(fields))
	for name := range fields {
		names[name] = name
		names[camelToSnake(name)] = name
	}
	return &node{kind: kindObject, fields: fields, names: names, required: required}
}

func arr(elem *node, minLen, maxLen int) *node {
	return &node{kind: kindArray, elem: elem, min: minLen, max: maxLen}
}

func str(check func(string) (string, error)) *node { return &node{kind: kindString, check: check} }

// canonical returns the camelCase name of m's key when the key, or the
// snake_case spelling of a camelCase name, is a known field of the object
// node n; otherwise the decoded key.
func (n *node) canonical(m member) (string, bool) {
	if plain, ok := m.plainKey(); ok {
		if name, ok := n.names[string(plain)]; ok {
			return name, true
		}
		return m.key(), false
	}
	key := m.key()
	if name, ok := n.names[key]; ok {
		return name, true
	}
	return key, false
}

// camelToSnake turns "protocolVersion" into "protocol_version".
func camelToSnake(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' {
			b.WriteByte('_')
			b.WriteByte(c - 'A' + 'a')
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// The card schemas of the two shapes. They share every node but the root,
// whose required fields differ.
var cardV03, cardV10 = newCardSchemas()

// Leaf nodes of the card schema.
var (
	textNode     = str(nil)
	requiredNode = &node{kind: kindString, nonEmpty: true}
	boolNode     = &node{kind: kindBool}
	anyNode      = &node{kind: kindAny}
	textsNode    = arr(textNode, 0, 0)
	modesNode    = arr(str(checkMode), 0, maxModes)
	cardURLNode  = str(checkCardURL)
	bindingNode  = str(checkBinding)
)

func newCardSchemas() (v03, v10 *node) {
	security, requirements, schemes := newSecurityNodes()
	fields := fieldMap{
		"protocolVersion":    requiredNode,
		"name":               requiredNode,
		"description":        requiredNode,
		"version":            requiredNode,
		"url":                cardURLNode,
		"preferredTransport": bindingNode,
		"additionalInterfaces": arr(obj(fieldMap{"url": cardURLNode, "transport": bindingNode},
			"url", "transport"), 0, maxInterfaces),
		"supportedInterfaces": arr(obj(fieldMap{
			"url":             cardURLNode,
			"protocolBinding": bindingNode,
			"protocolVersion": requiredNode,
			"tenant":          textNode,
		}, "url", "protocolBinding", "protocolVersion"), 1, maxInterfaces),
		"capabilities":         newCapabilitiesNode(),
		"defaultInputModes":    modesNode,
		"defaultOutputModes":   modesNode,
		"skills":               arr(newSkillNode(security, requirements), 0, maxSkills),
		"securitySchemes":      schemes,
		"security":             security,
		"securityRequirements": requirements,
		"signatures": arr(obj(fieldMap{"protected": textNode, "signature": textNode, "header": anyNode}),
			0, 0),
		"documentationUrl":                  textNode,
		"iconUrl":                           textNode,
		"provider":                          obj(fieldMap{"organization": textNode, "url": textNode}),
		"supportsAuthenticatedExtendedCard": boolNode,
	}
	v03 = obj(fields, "protocolVersion", "name", "description", "url", "version", "capabilities",
		"defaultInputModes", "defaultOutputModes", "skills")
	v10 = obj(fields, "name", "description", "supportedInterfaces", "version", "capabilities",
		"defaultInputModes", "defaultOutputModes", "skills")
	return v03, v10
}

func newSkillNode(security, requirements *node) *node {
	return obj(fieldMap{
		"id":                   requiredNode,
		"name":                 requiredNode,
		"description":          requiredNode,
		"tags":                 arr(requiredNode, 0, maxTags),
		"examples":             textsNode,
		"inputModes":           modesNode,
		"outputModes":          modesNode,
		"security":             security,
		"securityRequirements": requirements,
	}, "id", "name", "description", "tags")
}

func newCapabilitiesNode() *node {
	extension := obj(fieldMap{"uri": textNode, "description": textNode, "required": boolNode, "params": anyNode})
	return obj(fieldMap{
		"streaming":              boolNode,
		"pushNotifications":      boolNode,
		"stateTransitionHistory": boolNode, // v0.3
		"extendedAgentCard":      boolNode, // v1.0
		"extensions":             arr(extension, 0, 0),
	})
}

// newSecurityNodes returns the nodes of v0.3 security (scheme name → scopes),
// v1.0 securityRequirements and securitySchemes (either shape). Scheme and
// scope names are data: their keys are never renamed.
func newSecurityNodes() (security, requirements, schemes *node) {
	security = arr(&node{kind: kindMap, elem: textsNode}, 0, 0)
	requirements = arr(obj(fieldMap{
		"schemes": {kind: kindMap, elem: obj(fieldMap{"list": textsNode})},
	}), 0, 0)
	flow := obj(fieldMap{
		"authorizationUrl":       textNode,
		"tokenUrl":               textNode,
		"refreshUrl":             textNode,
		"deviceAuthorizationUrl": textNode,
		"scopes":                 {kind: kindMap, elem: textNode},
		"pkceRequired":           boolNode,
	})
	flows := obj(fieldMap{"authorizationCode": flow, "clientCredentials": flow, "implicit": flow,
		"password": flow, "deviceCode": flow})
	schemeFields := fieldMap{
		"type":              textNode,
		"description":       textNode,
		"name":              textNode,
		"in":                textNode,
		"location":          textNode,
		"scheme":            textNode,
		"bearerFormat":      textNode,
		"flows":             flows,
		"oauth2MetadataUrl": textNode,
		"openIdConnectUrl":  textNode,
	}
	scheme := &node{}
	for _, wrapper := range []string{"apiKeySecurityScheme", "httpAuthSecurityScheme", "oauth2SecurityScheme",
		"openIdConnectSecurityScheme", "mtlsSecurityScheme"} { // v1.0 wraps each scheme in a oneof
		schemeFields[wrapper] = scheme
	}
	*scheme = *obj(schemeFields)
	return security, requirements, &node{kind: kindMap, elem: scheme}
}

var errEmpty = errors.New("must not be empty")

// checkBinding accepts a protocol binding in any letter case and returns its
// canonical spelling.
func checkBinding(s string) (string, error) {
	for _, b := range protocolBindings {
		if strings.EqualFold(s, b) {
			return b, nil
		}
	}
	return s, fmt.Errorf("%q is not one of %s", s, strings.Join(protocolBindings, ", "))
}

func checkMode(s string) (string, error) {
	if s == "" {
		return s, errEmpty
	}
	if len(s) > maxModeLen {
		return s, fmt.Errorf("must be at most %d bytes", maxModeLen)
	}
	if strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return s, errors.New("must not contain control characters")
	}
	return s, nil
}

func checkCardURL(s string) (string, error) { return s, checkURL(s, cardURLSchemes) }

// checkURL checks that s is an absolute URL with one of schemes and a host.
func checkURL(s string, schemes []string) error {
	if s == "" {
		return errEmpty
	}
	if len(s) > maxURLLen {
		return fmt.Errorf("must be at most %d bytes", maxURLLen)
	}
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("invalid URL: %w", err)
	}
	if !slices.Contains(schemes, u.Scheme) {
		return fmt.Errorf("%q must be an absolute URL with scheme %s", s, strings.Join(schemes, ", "))
	}
	if u.Hostname() == "" {
		return fmt.Errorf("%q has no host", s)
	}
	return nil
}

// pathElem is one step of the path to a value: an object key, or an array
// index when key is "" and index >= 0.
type pathElem struct {
	key   string
	index int
}

// normalizer writes the normalised form of a valid JSON document while it
// checks it against the card schema. It keeps the path to the value being
// checked as a stack, formatted only for an error.
type normalizer struct {
	buf  bytes.Buffer
	path []pathElem
}

func (n *normalizer) pushKey(key string) { n.path = append(n.path, pathElem{key: key, index: -1}) }

func (n *normalizer) pushIndex(i int) { n.path = append(n.path, pathElem{index: i}) }

func (n *normalizer) pop() { n.path = n.path[:len(n.path)-1] }

// err returns a *FieldError for the current path, rooted at "card".
func (n *normalizer) err(msg string) error {
	var b strings.Builder
	b.WriteString("card")
	for _, e := range n.path {
		if e.index >= 0 {
			b.WriteString("[" + strconv.Itoa(e.index) + "]")
		} else {
			b.WriteString("." + e.key)
		}
	}
	return fieldErr(b.String(), msg)
}

// errAt returns a *FieldError for key below the current path.
func (n *normalizer) errAt(key, msg string) error {
	n.pushKey(key)
	return n.err(msg)
}

// value checks and writes v, a valid JSON value, as node nd.
func (n *normalizer) value(nd *node, v []byte) error {
	switch nd.kind {
	case kindObject:
		return n.object(nd, v)
	case kindMap:
		return n.mapValue(nd, v)
	case kindArray:
		return n.array(nd, v)
	case kindString:
		return n.str(nd, v)
	case kindBool:
		if v[0] != 't' && v[0] != 'f' {
			return n.err("must be a boolean")
		}
		n.buf.Write(v)
		return nil
	default:
		return json.Compact(&n.buf, v)
	}
}

func (n *normalizer) object(nd *node, v []byte) error {
	if v[0] != '{' {
		return n.err("must be an object")
	}
	var seen keySet
	var present uint64 // bit i: nd.required[i] is there and not null
	n.buf.WriteByte('{')
	for m := range members(v) {
		key, known := nd.canonical(m)
		if seen.add(key) {
			return n.errAt(key, "duplicate key")
		}
		if seen.len() > 1 {
			n.buf.WriteByte(',')
		}
		if !known {
			n.buf.Write(m.rawKey)
			n.buf.WriteByte(':')
			if err := json.Compact(&n.buf, m.val); err != nil {
				return n.errAt(key, err.Error())
			}
			continue
		}
		n.buf.WriteByte('"')
		n.buf.WriteString(key)
		n.buf.WriteString(`":`)
		if isNull(m.val) {
			n.buf.WriteString("null")
			continue
		}
		if i := slices.Index(nd.required, key); i >= 0 {
			present |= 1 << i
		}
		n.pushKey(key)
		if err := n.value(nd.fields[key], m.val); err != nil {
			return err
		}
		n.pop()
	}
	n.buf.WriteByte('}')
	for i, name := range nd.required {
		if present&(1<<i) == 0 {
			return n.errAt(name, "required")
		}
	}
	return nil
}

func (n *normalizer) mapValue(nd *node, v []byte) error {
	if v[0] != '{' {
		return n.err("must be an object")
	}
	var seen keySet
	n.buf.WriteByte('{')
	for m := range members(v) {
		key := m.key()
		if seen.add(key) {
			return n.errAt(key, "duplicate key")
		}
		if seen.len() > 1 {
			n.buf.WriteByte(',')
		}
		n.buf.Write(m.rawKey)
		n.buf.WriteByte(':')
		n.pushKey(key)
		if err := n.value(nd.elem, m.val); err != nil {
			return err
		}
		n.pop()
	}
	n.buf.WriteByte('}')
	return nil
}

func (n *normalizer) array(nd *node, v []byte) error {
	if v[0] != '[' {
		return n.err("must be an array")
	}
	count := 0
	n.buf.WriteByte('[')
	for i, el := range elements(v) {
		if nd.max > 0 && i >= nd.max {
			return n.err(fmt.Sprintf("must have at most %d items", nd.max))
		}
		if i > 0 {
			n.buf.WriteByte(',')
		}
		n.pushIndex(i)
		if err := n.value(nd.elem, el); err != nil {
			return err
		}
		n.pop()
		count++
	}
	n.buf.WriteByte(']')
	if count < nd.min {
		return n.err("must not be empty")
	}
	return nil
}

func (n *normalizer) str(nd *node, v []byte) error {
	switch {
	case v[0] != '"':
		return n.err("must be a string")
	case nd.nonEmpty && len(v) == 2: // any escape decodes to a character
		return n.err(errEmpty.Error())
	case nd.check == nil:
		n.buf.Write(v)
		return nil
	}
	s := decodeString(v)
	normal, err := nd.check(s)
	if err != nil {
		return n.err(err.Error())
	}
	if normal == s {
		n.buf.Write(v)
		return nil
	}
	quoted, err := json.Marshal(normal)
	if err != nil {
		return n.err(err.Error())
	}
	n.buf.Write(quoted)
	return nil
}

// result returns the written document, HTML-escaped the way encoding/json
// escapes the output of a json.Marshaler, in a slice of its own.
func (n *normalizer) result() []byte {
	b := n.buf.Bytes()
	if !bytes.ContainsAny(b, "<>&") && !bytes.Contains(b, []byte("\u2028")) && !bytes.Contains(b, []byte("\u2029")) {
		return bytes.Clone(b)
	}
	var escaped bytes.Buffer
	escaped.Grow(len(b) + len(b)/8)
	json.HTMLEscape(&escaped, b)
	return escaped.Bytes()
}

// keySet detects repeated object keys: linearly for small objects, with a
// map once it grows. The zero value is empty.
type keySet struct {
	small [keySetLinear]string
	n     int
	big   map[string]struct{}
}

const keySetLinear = 16

// add adds key and reports whether it was already there.
func (s *keySet) add(key string) bool {
	if s.big == nil {
		if slices.Contains(s.small[:s.n], key) {
			return true
		}
		if s.n < keySetLinear {
			s.small[s.n] = key
			s.n++
			return false
		}
		s.big = make(map[string]struct{}, 4*keySetLinear)
		for _, k := range s.small {
			s.big[k] = struct{}{}
		}
	}
	if _, ok := s.big[key]; ok {
		return true
	}
	s.big[key] = struct{}{}
	return false
}

// len returns the number of keys added.
func (s *keySet) len() int {
	if s.big != nil {
		return len(s.big)
	}
	return s.n
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

// The helpers below walk JSON that json.Valid accepted; on such input they
// cannot run out of bounds.

// member is one member of a JSON object.
type member struct {
	rawKey []byte // as written, quotes included
	val    []byte // the raw value
}

// key returns the decoded key.
func (m member) key() string { return decodeString(m.rawKey) }

// plainKey returns the key without its quotes and reports whether it has no
// escapes, in which case those bytes are the key.
func (m member) plainKey() ([]byte, bool) {
	inner := m.inner()
	return inner, bytes.IndexByte(inner, '\\') < 0
}

// inner returns the key as written, without quotes. Known keys of a
// normalised card are never escaped, so extraction matches them as written.
func (m member) inner() []byte { return m.rawKey[1 : len(m.rawKey)-1] }

// members yields the members of obj, a valid JSON value, in input order;
// nothing when obj is not an object (null, say).
func members(obj []byte) iter.Seq[member] {
	return func(yield func(member) bool) {
		if len(obj) == 0 || obj[0] != '{' {
			return
		}
		i := skipSpace(obj, 1)
		for obj[i] != '}' {
			keyEnd := stringEnd(obj, i)
			valStart := skipSpace(obj, skipSpace(obj, keyEnd)+1)
			valEnd := valueEnd(obj, valStart)
			rawKey := obj[i:keyEnd]
			if !yield(member{rawKey: rawKey, val: obj[valStart:valEnd]}) {
				return
			}
			i = skipSpace(obj, valEnd)
			if obj[i] == ',' {
				i = skipSpace(obj, i+1)
			}
		}
	}
}

// elements yields the index and raw value of each element of arr, a valid
// JSON value; nothing when arr is not an array (null, say).
func elements(arr []byte) iter.Seq2[int, []byte] {
	return func(yield func(int, []byte) bool) {
		if len(arr) == 0 || arr[0] != '[' {
			return
		}
		i := skipSpace(arr, 1)
		for n := 0; arr[i] != ']'; n++ {
			end := valueEnd(arr, i)
			if !yield(n, arr[i:end]) {
				return
			}
			i = skipSpace(arr, end)
			if arr[i] == ',' {
				i = skipSpace(arr, i+1)
			}
		}
	}
}

// hasAnyKey reports whether the valid JSON object obj has one of keys.
func hasAnyKey(obj []byte, keys ...string) bool {
	for m := range members(obj) {
		if plain, ok := m.plainKey(); ok && slices.Contains(keys, string(plain)) ||
			!ok && slices.Contains(keys, m.key()) {
			return true
		}
	}
	return false
}

// valueEnd returns the index just past the value that starts at b[i].
func valueEnd(b []byte, i int) int {
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		for depth := 0; ; i++ {
			switch b[i] {
			case '"':
				i = stringEnd(b, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
		}
	}
	for i < len(b) && !isValueDelim(b[i]) {
		i++
	}
	return i
}

// stringEnd returns the index just past the string that starts at b[i].
func stringEnd(b []byte, i int) int {
	for i++; ; i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
}

func isValueDelim(c byte) bool {
	return c == ',' || c == '}' || c == ']' || isSpace(c)
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

func trimSpace(b []byte) []byte {
	start, end := skipSpace(b, 0), len(b)
	for end > start && isSpace(b[end-1]) {
		end--
	}
	return b[start:end]
}

// decodeString decodes the valid JSON string literal raw.
func decodeString(raw []byte) string {
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw[1 : len(raw)-1])
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return string(raw[1 : len(raw)-1]) // unreachable for valid JSON
	}
	return s
}

// stringValue decodes v when it is a string and returns "" otherwise.
func stringValue(v []byte) string {
	if v[0] != '"' {
		return ""
	}
	return decodeString(v)
}

func isNull(v []byte) bool { return v[0] == 'n' }

func isTrue(v []byte) bool { return v[0] == 't' }
