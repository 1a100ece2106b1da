package domain

import (
	"errors"
	"fmt"
)

// Sentinel errors name the category of a failure. Services wrap them with %w
// and add context; exactly one place (httpapi's error mapper) turns a category
// into an HTTP status, and the CLI turns it into a message and exit code.
var (
	ErrNotFound      = errors.New("not found")
	ErrConflict      = errors.New("conflict")
	ErrInvalid       = errors.New("invalid input")
	ErrUnprocessable = errors.New("unprocessable request")
	ErrUnauthorized  = errors.New("unauthorized")
	ErrForbidden     = errors.New("forbidden")
	ErrRateLimited   = errors.New("rate limited")
	ErrUnavailable   = errors.New("unavailable")
)

// Error is a failure a client can act on: a stable machine-readable code, a
// human message and, for input problems, the offending field. Its category is
// one of the sentinels above, so errors.Is(err, ErrInvalid) keeps working.
type Error struct {
	Kind    error  // one of the sentinel errors
	Code    string // stable snake_case code, e.g. "invalid_amount"
	Message string // safe to show to the caller; never contains secrets
	Field   string // JSON field name for input problems, empty otherwise
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s (field %s)", e.Code, e.Message, e.Field)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Unwrap exposes the category so callers can match with errors.Is.
func (e *Error) Unwrap() error { return e.Kind }

// Invalid builds a 400-class input error for one field.
func Invalid(code, field, format string, args ...any) *Error {
	return &Error{Kind: ErrInvalid, Code: code, Field: field, Message: fmt.Sprintf(format, args...)}
}

// Unprocessable builds a 422-class error: well-formed input asking for
// something that cannot be done.
func Unprocessable(code, field, format string, args ...any) *Error {
	return &Error{Kind: ErrUnprocessable, Code: code, Field: field, Message: fmt.Sprintf(format, args...)}
}

// NotFound builds a not-found error for a kind of resource.
func NotFound(resource string) *Error {
	return &Error{Kind: ErrNotFound, Code: "resource_missing", Message: fmt.Sprintf("no such %s", resource)}
}

// Conflict builds a conflict error with its own code.
func Conflict(code, format string, args ...any) *Error {
	return &Error{Kind: ErrConflict, Code: code, Message: fmt.Sprintf(format, args...)}
}

// AsError extracts the typed *Error from a chain, if there is one.
func AsError(err error) (*Error, bool) {
	var de *Error
	if errors.As(err, &de) {
		return de, true
	}
	return nil, false
}
