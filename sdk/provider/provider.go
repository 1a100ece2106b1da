package provider

import (
	"context"

	"github.com/switchyard/switchyard/sdk/meta"
)

// Capabilities name the optional interfaces a provider implements. The SDK
// fills Description.Capabilities with them (see Capabilities); the host
// reads them with Info.Has. Their values travel on the wire and never
// change.
const (
	// CapabilityHTTP: the provider implements HTTPHandler and serves routes
	// under /p/{provider_id}/… (return pages, OAuth callbacks, a pay page).
	CapabilityHTTP = "http"
	// CapabilityRefunds: the provider implements Refunder.
	CapabilityRefunds = "refunds"
	// CapabilityPartialRefunds: the provider implements PartialRefunder.
	CapabilityPartialRefunds = "partial_refunds"
	// CapabilitySubscriptions: the provider implements SubscriptionSource.
	CapabilitySubscriptions = "subscriptions"
	// CapabilityTestConnection: the provider implements ConnectionTester.
	CapabilityTestConnection = "test_connection"
)

// Provider is a payment gateway: the methods every provider plugin
// implements. Optional features are optional interfaces (HTTPHandler,
// Refunder, PartialRefunder, SubscriptionSource, ConnectionTester): the SDK
// finds them by type assertion and advertises them as capabilities, so
// there is nothing to declare by hand. Put a compile-time guard next to
// your type for each one you mean to implement:
//
//	var (
//		_ provider.Provider    = (*Gateway)(nil)
//		_ provider.Refunder    = (*Gateway)(nil)
//		_ provider.HTTPHandler = (*Gateway)(nil)
//	)
//
// The host calls a provider concurrently from many goroutines, so
// implementations must be safe for concurrent use. Every method receives a
// context carrying the host's deadline, trace and logger (sdk.Logger);
// honour it on upstream calls.
//
// Errors should be *sdk.Error values (sdk.Invalid, sdk.Declined …); their
// category survives the process boundary and drives routing. Any other
// error reaches the host as sdk.CategoryInternal.
type Provider interface {
	// Describe reports identity, payment methods and page origins. It may
	// be called before Configure, so it must not depend on settings.
	Describe(ctx context.Context) (Description, error)
	// Configure receives the instance settings (credentials included,
	// already decrypted by the host). It is called once at start and again
	// whenever the operator changes them. Decode them with
	// sdk.DecodeSettings; missing, unknown or malformed settings are
	// sdk.CategoryInvalidInput, rejected credentials sdk.CategoryUnauthorized.
	Configure(ctx context.Context, settings map[string]string) error
	// CheckHealth reports whether the provider can take payments now.
	CheckHealth(ctx context.Context) (meta.Health, error)

	// CreatePayment starts a payment. It must be idempotent on
	// IdempotencyKey: the host retries with the same key after a timeout.
	CreatePayment(ctx context.Context, req CreatePaymentRequest) (CreatePaymentResponse, error)
	// GetPayment reads the current upstream state, for reconciliation.
	// An unknown reference is sdk.CategoryNotFound.
	GetPayment(ctx context.Context, req GetPaymentRequest) (Payment, error)
	// HandleWebhook verifies and normalizes one inbound webhook. A request
	// that fails verification yields no events: either an error
	// (sdk.CategoryUnauthorized / sdk.CategoryInvalidInput) or a non-2xx
	// Response. Events are applied by the host only when err is nil.
	HandleWebhook(ctx context.Context, req WebhookRequest) (WebhookResponse, error)
}

// HTTPHandler is implemented by providers that serve routes under
// /p/{provider_id}/… (CapabilityHTTP). Without it the host answers 404 there.
type HTTPHandler interface {
	HandleHTTP(ctx context.Context, req HTTPRequest) (HTTPResponse, error)
}

// Refunder is implemented by providers that can return money
// (CapabilityRefunds). Refund refunds what is left of a payment (Amount 0)
// or, for a PartialRefunder, part of it. It must be idempotent on
// IdempotencyKey: the host retries with the same key, from any instance,
// after a crash or a timeout, and the same key must never move money twice.
// Refunding more than is left is sdk.CategoryInvalidInput; an unknown
// ProviderRef sdk.CategoryNotFound; the upstream's refusal on the merits
// sdk.CategoryDeclined.
type Refunder interface {
	Refund(ctx context.Context, req RefundRequest) (RefundResult, error)
}

// PartialRefunder is a Refunder whose Refund also takes an Amount below what
// is left, more than once per payment (CapabilityPartialRefunds). Its
// PartialRefunds method is a declaration and is never called.
type PartialRefunder interface {
	Refunder
	PartialRefunds()
}

// SubscriptionSource is a provider whose webhooks carry subscription.*
// events, for recurring billing run by the upstream
// (CapabilitySubscriptions). Its SubscriptionEvents method is a declaration
// and is never called.
type SubscriptionSource interface {
	SubscriptionEvents()
}

// ConnectionTester is optional: a provider that implements it checks its
// configured credentials against the upstream without side effects when an
// operator runs `switchyard plugins test` (CapabilityTestConnection).
// Rejected credentials are sdk.CategoryUnauthorized, an unreachable upstream
// sdk.CategoryUnavailable. Without it the host reports the provider's
// CheckHealth instead.
type ConnectionTester interface {
	TestConnection(ctx context.Context) (meta.TestResult, error)
}

// Capabilities lists the capabilities p has by the optional interfaces it
// implements, in a stable order. The SDK puts them in the Description the
// host receives, replacing whatever Describe returned.
func Capabilities(p Provider) []string {
	var out []string
	if _, ok := p.(HTTPHandler); ok {
		out = append(out, CapabilityHTTP)
	}
	if _, ok := p.(Refunder); ok {
		out = append(out, CapabilityRefunds)
	}
	if _, ok := p.(PartialRefunder); ok {
		out = append(out, CapabilityPartialRefunds)
	}
	if _, ok := p.(SubscriptionSource); ok {
		out = append(out, CapabilitySubscriptions)
	}
	if _, ok := p.(ConnectionTester); ok {
		out = append(out, CapabilityTestConnection)
	}
	return out
}

// Client is the host's view of a provider plugin: Provider and every
// optional interface that is a call. Host-side clients (sdk/host,
// sdktest) implement it; a call for a capability the plugin lacks fails
// with sdk.CategoryUnimplemented, so check Description.Has first where it
// matters.
type Client interface {
	Provider
	HTTPHandler
	Refunder
	ConnectionTester
}
