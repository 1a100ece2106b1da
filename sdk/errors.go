package sdk

import "github.com/switchyard/switchyard/sdk/sdkerr"

// Error is a categorized plugin error; see package sdkerr for the details.
// Its Category, Code, Field and Message cross the gRPC boundary intact.
type Error = sdkerr.Error

// Category classifies an Error; see the Category constants.
type Category = sdkerr.Category

// Error categories, re-exported from sdkerr so authors need one import.
const (
	CategoryInvalidInput  = sdkerr.CategoryInvalidInput
	CategoryDeclined      = sdkerr.CategoryDeclined
	CategoryUnauthorized  = sdkerr.CategoryUnauthorized
	CategoryNotFound      = sdkerr.CategoryNotFound
	CategoryAlreadyExists = sdkerr.CategoryAlreadyExists
	CategoryUnavailable   = sdkerr.CategoryUnavailable
	CategoryRetryable     = sdkerr.CategoryRetryable
	CategoryUnimplemented = sdkerr.CategoryUnimplemented
	CategoryInternal      = sdkerr.CategoryInternal
)

// Invalid reports bad input: amount 0, an unknown currency, a missing
// setting. Format follows fmt.Errorf.
func Invalid(format string, args ...any) *Error { return sdkerr.Invalid(format, args...) }

// Declined reports that the upstream refused on the merits (card declined).
// Add the upstream reason with WithCode.
func Declined(format string, args ...any) *Error { return sdkerr.Declined(format, args...) }

// Unauthorized reports rejected credentials or a webhook signature that does
// not verify.
func Unauthorized(format string, args ...any) *Error { return sdkerr.Unauthorized(format, args...) }

// NotFound reports an unknown payment, account, domain or operation.
func NotFound(format string, args ...any) *Error { return sdkerr.NotFound(format, args...) }

// AlreadyExists reports that the object to create exists already and is
// not the caller's (a hosting username another domain uses).
func AlreadyExists(format string, args ...any) *Error { return sdkerr.AlreadyExists(format, args...) }

// Unavailable reports an upstream that cannot be reached; routing tries the
// next provider.
func Unavailable(format string, args ...any) *Error { return sdkerr.Unavailable(format, args...) }

// Retryable reports a transient condition (rate limit); the same call may
// succeed later with the same idempotency key.
func Retryable(format string, args ...any) *Error { return sdkerr.Retryable(format, args...) }

// Unimplemented reports an optional operation the plugin does not support.
func Unimplemented(format string, args ...any) *Error {
	return sdkerr.Unimplemented(format, args...)
}

// Internal reports a bug in the plugin.
func Internal(format string, args ...any) *Error { return sdkerr.Internal(format, args...) }

// CategoryOf returns the category of err: that of the first *Error in its
// chain, CategoryUnavailable for an expired or cancelled context,
// CategoryInternal for any other error, "" for nil.
func CategoryOf(err error) Category { return sdkerr.CategoryOf(err) }

// AsError extracts the *Error from err's chain.
func AsError(err error) (*Error, bool) { return sdkerr.As(err) }
