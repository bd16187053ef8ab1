package registry

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// This file holds the known card structure (the schema both card shapes are
// checked against) and the checks of its string values.

// The protocol bindings (v0.3 transports) sidecard accepts, in their
// canonical spelling.
var protocolBindings = []string{"JSONRPC", "GRPC", "HTTP+JSON"}

var cardURLSchemes = []string{"http", "https", "grpc", "grpcs"}

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
