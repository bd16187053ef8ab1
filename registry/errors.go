package registry

import "errors"

// FieldError is a validation error that names the offending field by its path
// in the API form of an entry ("card.skills[2].tags", "name", or a query
// parameter such as "limit").
type FieldError struct {
	Field   string
	Message string
}

func (e *FieldError) Error() string {
	if e.Field == "" {
		return e.Message
	}
	return e.Field + ": " + e.Message
}

// fieldErr returns a *FieldError for field with message.
func fieldErr(field, message string) error {
	return &FieldError{Field: field, Message: message}
}

// AsFieldError reports whether err is or wraps a *FieldError and returns it.
func AsFieldError(err error) (*FieldError, bool) {
	var fe *FieldError
	ok := errors.As(err, &fe)
	return fe, ok
}
