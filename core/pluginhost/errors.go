package pluginhost

import (
	"errors"
	"fmt"

	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/sdk/sdkerr"
)

// CallError is what a plugin call through the host fails with. It names the
// instance and the operation, keeps the plugin's *sdkerr.Error in its chain
// (so sdk.CategoryOf and sdkerr.As see the category the plugin meant), and
// also matches the core's domain sentinels with errors.Is:
//
//	unavailable, retryable -> domain.ErrUnavailable
//	not_found              -> domain.ErrNotFound
//
// Other categories (declined, invalid input, unauthorized credentials …)
// match no domain sentinel on purpose: they describe the provider's view, and
// the caller decides what they mean for the merchant.
type CallError struct {
	Instance string
	Op       string
	Err      error
}

func (e *CallError) Error() string {
	return fmt.Sprintf("plugin %s: %s: %v", e.Instance, e.Op, e.Err)
}

func (e *CallError) Unwrap() error { return e.Err }

// Category is the SDK category of the underlying error.
func (e *CallError) Category() sdkerr.Category { return sdkerr.CategoryOf(e.Err) }

// Is maps the SDK category onto the domain sentinels.
func (e *CallError) Is(target error) bool {
	switch target {
	case domain.ErrUnavailable:
		c := e.Category()
		return c == sdkerr.CategoryUnavailable || c == sdkerr.CategoryRetryable
	case domain.ErrNotFound:
		return e.Category() == sdkerr.CategoryNotFound
	}
	return false
}

// wrapCallErr attaches instance and operation to a plugin error. Errors that
// did not come back categorized (a transport failure surfacing as a bare
// error) are treated as internal by sdkerr.CategoryOf, except context errors,
// which it already maps to unavailable.
func wrapCallErr(instance, op string, err error) error {
	if err == nil {
		return nil
	}
	var ce *CallError
	if errors.As(err, &ce) && ce.Instance == instance {
		return err
	}
	return &CallError{Instance: instance, Op: op, Err: err}
}

// errNotRunning is the fail-fast error for calls while the plugin process
// is dead, restarting or not yet started.
func errNotRunning(reason string) error {
	return sdkerr.Unavailable("plugin is not running: %s", reason)
}
