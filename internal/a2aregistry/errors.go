package a2aregistry

import (
	"context"
	"errors"
	"net/http"

	"github.com/sidecard/sidecard/registry"
)

// Kind classifies an *Error; each transport maps it to its own status
// (REST) or error code (JSON-RPC), see the package documentation.
type Kind uint8

// Kinds of *Error.
const (
	// KindInternal: an unexpected failure, whose detail is logged, not sent.
	KindInternal Kind = iota
	// KindInvalidRequest: a request body or parameter that is malformed or
	// of the wrong type.
	KindInvalidRequest
	// KindInvalidCard: an agent card that does not validate.
	KindInvalidCard
	// KindNotFound: no agent has that id.
	KindNotFound
	// KindConflict: the agent is owned by another source.
	KindConflict
	// KindUnauthenticated: a write (or, when the transport requires it, a
	// read) without a valid bearer token.
	KindUnauthenticated
	// KindPermissionDenied: a token without the scope the call needs, or a
	// change of an agent another caller registered.
	KindPermissionDenied
	// KindUnavailable: the registry cannot answer now; retry.
	KindUnavailable
)

// Error is the error of a compat operation, transport-independent.
type Error struct {
	Kind    Kind
	Message string
	// Field is the path of the offending field ("card.protocol_version"),
	// in the request's key spelling, or "".
	Field string
	// Err is the underlying error, if any; it is logged, never sent.
	Err error
}

func (e *Error) Error() string { return e.Message }

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// newError returns an *Error of kind with message.
func newError(kind Kind, message string) *Error { return &Error{Kind: kind, Message: message} }

// AsError returns err as an *Error, as the Service does: an *Error as is,
// the Registry's errors and *registry.FieldError by their kind, anything
// else as KindInternal (whose detail the caller logs, never sends).
func AsError(err error) *Error { return asError(err, FormCamel) }

// HTTPStatus is the REST status of kind k, as A2A Registry (FastAPI)
// answers: 422 a body of the wrong shape, 400 a card it refuses, 404, 409,
// 401, 403, 503, and 500 for KindInternal.
func (k Kind) HTTPStatus() int {
	switch k {
	case KindInvalidRequest:
		return http.StatusUnprocessableEntity
	case KindInvalidCard:
		return http.StatusBadRequest
	case KindNotFound:
		return http.StatusNotFound
	case KindConflict:
		return http.StatusConflict
	case KindUnauthenticated:
		return http.StatusUnauthorized
	case KindPermissionDenied:
		return http.StatusForbidden
	case KindUnavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// asError returns err as an *Error: an *Error as is, the Registry's errors
// and *registry.FieldError by their kind, anything else as KindInternal.
// Field paths of a card are written in form.
func asError(err error, form Form) *Error {
	var ce *Error
	switch {
	case errors.As(err, &ce):
		return ce
	case errors.Is(err, ErrNotFound):
		return &Error{Kind: KindNotFound, Message: "Agent not found", Err: err}
	case errors.Is(err, ErrConflict):
		return &Error{Kind: KindConflict, Err: err,
			Message: "Agent is owned by another source (a registry file) and cannot be changed through this API"}
	case errors.Is(err, ErrForbidden):
		return &Error{Kind: KindPermissionDenied, Err: err,
			Message: "Agent was registered by another token; only that token, or an admin token, may change it"}
	case errors.Is(err, ErrUnavailable), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return &Error{Kind: KindUnavailable, Message: "the registry is not available; retry", Err: err}
	}
	if fe, ok := registry.AsFieldError(err); ok {
		field := form.path(fe.Field)
		msg := fe.Message
		if field != "" {
			msg = field + ": " + msg
		}
		return &Error{Kind: KindInvalidCard, Message: msg, Field: field, Err: err}
	}
	return &Error{Kind: KindInternal, Message: "internal error", Err: err}
}
