package provider

import (
	"context"

	"github.com/switchyard/switchyard/sdk/meta"
	"github.com/switchyard/switchyard/sdk/sdkerr"
)

// Capabilities a provider may advertise in Description.Capabilities.
const (
	// CapabilityHTTP: the provider serves routes under /p/{provider_id}/…
	// through HandleHTTP (return pages, OAuth callbacks, a hosted pay page).
	CapabilityHTTP = "http"
	// CapabilityRefunds: Refund is supported.
	CapabilityRefunds = "refunds"
	// CapabilityPartialRefunds: Refund accepts an amount below the captured
	// total.
	CapabilityPartialRefunds = "partial_refunds"
	// CapabilitySubscriptions: the provider emits subscription.* events.
	CapabilitySubscriptions = "subscriptions"
)

// Provider is a payment gateway. The host calls it concurrently from many
// goroutines, so implementations must be safe for concurrent use. Every
// method receives a context carrying the host's deadline and trace; honour
// it on upstream calls.
//
// Errors should be *sdk.Error values (sdk.Invalid, sdk.Declined …); their
// category survives the process boundary and drives routing. Any other
// error reaches the host as sdk.CategoryInternal.
type Provider interface {
	// Describe reports identity, capabilities and payment methods. It may be
	// called before Configure, so it must not depend on settings.
	Describe(ctx context.Context) (Description, error)
	// Configure receives the instance settings (credentials included,
	// already decrypted by the host). It is called once at start and again
	// whenever the operator changes them. Missing or malformed settings are
	// sdk.CategoryInvalidInput; rejected credentials sdk.CategoryUnauthorized.
	Configure(ctx context.Context, settings map[string]string) error
	// CheckHealth reports whether the provider can take payments now.
	CheckHealth(ctx context.Context) (meta.Health, error)

	// CreatePayment starts a payment. It must be idempotent on
	// IdempotencyKey: the host retries with the same key after a timeout.
	CreatePayment(ctx context.Context, req CreatePaymentRequest) (CreatePaymentResponse, error)
	// GetPayment reads the current upstream state, for reconciliation.
	// An unknown reference is sdk.CategoryNotFound.
	GetPayment(ctx context.Context, req GetPaymentRequest) (Payment, error)
	// Refund returns money, in full (Amount 0) or in part; idempotent on
	// IdempotencyKey.
	Refund(ctx context.Context, req RefundRequest) (RefundResult, error)
	// HandleWebhook verifies and normalizes one inbound webhook. A request
	// that fails verification yields no events: either an error
	// (sdk.CategoryUnauthorized / sdk.CategoryInvalidInput) or a non-2xx
	// Response. Events are applied by the host only when err is nil.
	HandleWebhook(ctx context.Context, req WebhookRequest) (WebhookResponse, error)
	// HandleHTTP serves routes under /p/{provider_id}/… when the provider
	// advertises CapabilityHTTP. Others embed UnimplementedHTTP.
	HandleHTTP(ctx context.Context, req HTTPRequest) (HTTPResponse, error)
}

// ConnectionTester is optional: a provider that implements it checks its
// configured credentials against the upstream without side effects when an
// operator runs `switchyard plugins test`. Rejected credentials are
// sdk.CategoryUnauthorized, an unreachable upstream sdk.CategoryUnavailable.
// Without it the host reports the provider's CheckHealth instead.
type ConnectionTester interface {
	TestConnection(ctx context.Context) (meta.TestResult, error)
}

// UnimplementedHTTP is embedded by providers that own no HTTP routes: its
// HandleHTTP reports sdk.CategoryUnimplemented, which the host turns into 404.
type UnimplementedHTTP struct{}

// HandleHTTP implements Provider.
func (UnimplementedHTTP) HandleHTTP(context.Context, HTTPRequest) (HTTPResponse, error) {
	return HTTPResponse{}, sdkerr.Unimplemented("provider serves no http routes")
}

// UnimplementedRefunds is embedded by providers that cannot refund.
type UnimplementedRefunds struct{}

// Refund implements Provider.
func (UnimplementedRefunds) Refund(context.Context, RefundRequest) (RefundResult, error) {
	return RefundResult{}, sdkerr.Unimplemented("provider does not support refunds")
}
