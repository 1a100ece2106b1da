package sdkerr

import (
	"context"
	"errors"
	"fmt"
)

// Category says what the caller should do about a failure. The host routes on
// it: Retryable and Unavailable make the router try the next provider,
// Declined ends the attempt for the shopper, InvalidInput is a bug on the
// caller's side, and so on.
type Category string

// The categories. Their string values are part of the wire protocol (they
// travel in the gRPC status details) and never change.
const (
	// CategoryInvalidInput: the request is malformed or names something impossible
	// (amount 0, unknown currency, missing setting). Retrying will not help.
	CategoryInvalidInput Category = "invalid_input"
	// CategoryDeclined: the upstream refused the operation on its merits (card
	// declined, domain not available). Final for this attempt.
	CategoryDeclined Category = "declined"
	// CategoryUnauthorized: the credentials given to Configure were rejected, or a
	// webhook signature did not verify.
	CategoryUnauthorized Category = "unauthorized"
	// CategoryNotFound: the referenced payment, account, domain or operation does not
	// exist.
	CategoryNotFound Category = "not_found"
	// CategoryAlreadyExists: the object to create exists already and is not
	// the caller's (a hosting username taken by another domain, a domain
	// another account owns). Retrying will not help; an operator must.
	CategoryAlreadyExists Category = "already_exists"
	// CategoryUnavailable: the upstream or the plugin could not be reached or did not
	// answer in time. Another provider may succeed.
	CategoryUnavailable Category = "unavailable"
	// CategoryRetryable: a transient condition (rate limit, lock contention); the same
	// call may succeed later with the same idempotency key.
	CategoryRetryable Category = "retryable"
	// CategoryUnimplemented: the plugin does not support this optional operation.
	CategoryUnimplemented Category = "unimplemented"
	// CategoryInternal: anything else; a bug in the plugin.
	CategoryInternal Category = "internal"
)

// Categories lists every category, in a stable order.
func Categories() []Category {
	return []Category{
		CategoryInvalidInput, CategoryDeclined, CategoryUnauthorized, CategoryNotFound,
		CategoryAlreadyExists, CategoryUnavailable, CategoryRetryable, CategoryUnimplemented,
		CategoryInternal,
	}
}

// Valid reports whether c is one of the defined categories.
func (c Category) Valid() bool {
	switch c {
	case CategoryInvalidInput, CategoryDeclined, CategoryUnauthorized, CategoryNotFound,
		CategoryAlreadyExists, CategoryUnavailable, CategoryRetryable, CategoryUnimplemented,
		CategoryInternal:
		return true
	}
	return false
}

// Error is a categorized failure. Message crosses the process boundary and may
// be logged by the host, so it must never contain secrets; Code and Field are
// optional machine-readable details (a decline reason such as
// "insufficient_funds", the name of the offending request field).
type Error struct {
	Category Category
	Code     string
	Field    string
	Message  string
	// cause is kept for errors.Is/As inside the process that created the
	// error; it does not cross the wire.
	cause error
}

func (e *Error) Error() string {
	msg := string(e.Category)
	if e.Code != "" {
		msg += " (" + e.Code + ")"
	}
	if e.Message != "" {
		msg += ": " + e.Message
	}
	if e.Field != "" {
		msg += " [field " + e.Field + "]"
	}
	return msg
}

// Unwrap exposes the cause given with %w, if any.
func (e *Error) Unwrap() error { return e.cause }

// WithCode returns a copy of e carrying a machine-readable code.
func (e *Error) WithCode(code string) *Error {
	c := *e
	c.Code = code
	return &c
}

// WithField returns a copy of e naming the request field at fault.
func (e *Error) WithField(field string) *Error {
	c := *e
	c.Field = field
	return &c
}

// New builds an error of the given category. The format follows fmt.Errorf,
// so %w keeps the cause inspectable with errors.Is within the process.
func New(c Category, format string, args ...any) *Error {
	err := fmt.Errorf(format, args...)
	e := &Error{Category: c, Message: err.Error()}
	if errors.Unwrap(err) != nil {
		e.cause = err
	} else if u, ok := err.(interface{ Unwrap() []error }); ok && len(u.Unwrap()) > 0 {
		e.cause = err
	}
	return e
}

// Wrap builds an error of the given category around cause, using cause's text
// as the message.
func Wrap(c Category, cause error) *Error {
	if cause == nil {
		return nil
	}
	return &Error{Category: c, Message: cause.Error(), cause: cause}
}

// Invalid reports bad input.
func Invalid(format string, args ...any) *Error { return New(CategoryInvalidInput, format, args...) }

// Declined reports that the upstream refused the operation on its merits.
func Declined(format string, args ...any) *Error { return New(CategoryDeclined, format, args...) }

// Unauthorized reports rejected credentials or an unverifiable signature.
func Unauthorized(format string, args ...any) *Error {
	return New(CategoryUnauthorized, format, args...)
}

// NotFound reports that the referenced object does not exist.
func NotFound(format string, args ...any) *Error { return New(CategoryNotFound, format, args...) }

// AlreadyExists reports that the object to create exists and is not the
// caller's.
func AlreadyExists(format string, args ...any) *Error {
	return New(CategoryAlreadyExists, format, args...)
}

// Unavailable reports that the upstream could not be reached.
func Unavailable(format string, args ...any) *Error { return New(CategoryUnavailable, format, args...) }

// Retryable reports a condition worth retrying with the same idempotency key.
func Retryable(format string, args ...any) *Error { return New(CategoryRetryable, format, args...) }

// Unimplemented reports an unsupported optional operation.
func Unimplemented(format string, args ...any) *Error {
	return New(CategoryUnimplemented, format, args...)
}

// Internal reports a failure inside the plugin.
func Internal(format string, args ...any) *Error { return New(CategoryInternal, format, args...) }

// As extracts the *Error from err's chain.
func As(err error) (*Error, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e, true
	}
	return nil, false
}

// CategoryOf returns the category of err: the category of the first *Error in
// its chain; CategoryUnavailable for an expired or cancelled context (the call did not
// complete, so another attempt may); CategoryInternal for any other non-nil error; ""
// for nil.
func CategoryOf(err error) Category {
	if err == nil {
		return ""
	}
	if e, ok := As(err); ok && e.Category.Valid() {
		return e.Category
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return CategoryUnavailable
	}
	return CategoryInternal
}
