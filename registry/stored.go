package registry

import (
	"bytes"
	"encoding/json"
	"math"
)

// EntryFromStored decodes data, the JSON encoding/json writes for an entry
// (json.Marshal of an *Entry, as a store keeps it), into a new entry owned by
// the caller. Its card is read as CardFromStored reads one. It is for entries
// sidecard validated before storing them (start-up and resyncs load every
// stored entry): it checks that data is one well-formed JSON object and that
// each field has its JSON type and range, but does not validate the entry or
// normalise its card. Anything else goes through ParseEntry.
//
// name, labels, endpoints, card, ttl_seconds, revision, updated_at and
// source are read directly, by their keys as encoding/json writes them; any
// other member is decoded by encoding/json (into the field of Entry it
// names, if any), and a null leaves its field zero. Nothing returned aliases
// data. The error is a *FieldError.
func EntryFromStored(data []byte) (*Entry, error) {
	doc := trimSpace(data)
	if !json.Valid(doc) {
		return nil, fieldErr("", syntaxMessage(doc))
	}
	if doc[0] != '{' {
		return nil, fieldErr("", "must be a JSON object")
	}
	e := &Entry{}
	for m := range members(doc) {
		if isNull(m.val) {
			continue
		}
		var err error
		switch key := string(m.inner()); key {
		case "name":
			e.Name, err = decodeOptionalString(key, m.val)
		case "labels":
			e.Labels, err = decodeLabels(m.val)
		case "endpoints":
			e.Endpoints, err = decodeEndpoints(m.val)
		case "card":
			e.Card, err = storedCard(m.val)
		case "ttl_seconds":
			e.TTLSeconds, err = decodeInt(key, m.val, math.MaxInt64)
		case "revision":
			e.Revision, err = decodeInt(key, m.val, math.MaxInt64)
		case "updated_at":
			if err = e.UpdatedAt.UnmarshalJSON(m.val); err != nil {
				err = fieldErr(key, err.Error())
			}
		case "source":
			e.Source, err = decodeOptionalString(key, m.val)
		default: // any other field of Entry, as json.Unmarshal decodes it
			err = unmarshalMember(e, m)
		}
		if err != nil {
			return nil, err
		}
	}
	return e, nil
}

// unmarshalMember decodes the object member m into e with encoding/json,
// which sets the field of e it names, if any.
func unmarshalMember(e *Entry, m member) error {
	obj := make([]byte, 0, len(m.rawKey)+len(m.val)+3)
	obj = append(append(append(append(obj, '{'), m.rawKey...), ':'), m.val...)
	if err := json.Unmarshal(append(obj, '}'), e); err != nil {
		return fieldErr(m.key(), err.Error())
	}
	return nil
}

// CardFromStored returns the card whose normalised JSON is data: the bytes of
// Card.JSON of a card ParseCard returned, as a store keeps them. It reads the
// fields sidecard indexes exactly as ParseCard does, but neither normalises
// nor validates: data need only be one well-formed JSON object. It is for
// cards sidecard validated before storing them; anything else goes through
// ParseCard.
//
// For data that ParseCard did not produce, the card is unchecked: its JSON
// may not be normalised and its fields may be empty. The error, for data
// that is not a JSON object, is a *FieldError for "card". The card keeps a
// copy of data, which the caller may reuse; it is immutable and safe for
// concurrent use.
func CardFromStored(data []byte) (*Card, error) {
	doc := trimSpace(data)
	if !json.Valid(doc) {
		return nil, fieldErr("card", syntaxMessage(doc))
	}
	return storedCard(doc)
}

// storedCard is CardFromStored for doc, a valid JSON value without
// surrounding whitespace.
func storedCard(doc []byte) (*Card, error) {
	if doc[0] != '{' {
		return nil, fieldErr("card", "must be a JSON object")
	}
	spec := SpecV03
	if hasAnyKey(doc, "supportedInterfaces") { // normalised: never snake_case
		spec = SpecV10
	}
	return extractCard(bytes.Clone(doc), spec), nil
}
