package provider

import (
	"net/http"
	"net/url"
	"time"

	"github.com/switchyard/switchyard/sdk/meta"
)

// Description is what Describe returns: the common plugin metadata and the
// payment methods this provider can take.
type Description struct {
	// Info's Kind and Capabilities are filled in by the SDK.
	meta.Info
	Methods []Method
	// PageOrigins are the origins (scheme://host[:port], no path) of the
	// pages CreatePayment's redirects send shoppers to, such as
	// "https://checkout.stripe.com". The hosted checkout lists them in its
	// Content-Security-Policy form-action, so choosing a method redirects
	// the shopper there directly; a redirect to any other origin (and to
	// your own /p/{provider_id} routes, which need no entry) still works
	// through a hand-off page. Operators can add more with
	// plugins.instances[].page_origins, for an upstream you cannot know in
	// advance.
	PageOrigins []string
	// TestOnly declares that the provider never moves real money, as a
	// sandbox or a simulator does: whatever it reports paid was never
	// charged. Switchyard refuses to start such a plugin as an instance
	// with mode: live, so a live key can never be routed to it and no live
	// session is marked paid on its word.
	TestOnly bool
}

// Method is one way to pay (card, bank_transfer, wallet, paypal …) and where
// it applies. Routing only offers a provider for a payment that its Method
// accepts.
type Method struct {
	// Method is the stable machine name Switchyard routes on, e.g. "card".
	Method string
	// Label is shown to shoppers on the hosted checkout page.
	Label string
	// Currencies are upper-case ISO 4217 codes; empty means every currency.
	Currencies []string
	// Countries are ISO 3166-1 alpha-2 codes of the shopper; empty means all.
	Countries []string
	// Limits bound the amount in minor units, per currency. A limit with an
	// empty Currency applies to currencies that have no limit of their own.
	Limits []AmountLimit
}

// AmountLimit bounds an amount in minor units; zero means unbounded.
type AmountLimit struct {
	Currency string
	Min      int64
	Max      int64
}

// Accepts reports whether the method can take amount (minor units) in
// currency from a shopper in country (empty country: unknown, not checked).
func (m Method) Accepts(currency, country string, amount int64) bool {
	if len(m.Currencies) > 0 && !contains(m.Currencies, currency) {
		return false
	}
	if country != "" && len(m.Countries) > 0 && !contains(m.Countries, country) {
		return false
	}
	if l, ok := m.limitFor(currency); ok {
		if l.Min > 0 && amount < l.Min {
			return false
		}
		if l.Max > 0 && amount > l.Max {
			return false
		}
	}
	return true
}

func (m Method) limitFor(currency string) (AmountLimit, bool) {
	var fallback AmountLimit
	found := false
	for _, l := range m.Limits {
		if l.Currency == currency {
			return l, true
		}
		if l.Currency == "" {
			fallback, found = l, true
		}
	}
	return fallback, found
}

func contains(list []string, v string) bool {
	for _, s := range list {
		if s == v {
			return true
		}
	}
	return false
}

// PaymentStatus is the provider-side state of a payment.
type PaymentStatus string

// Payment states. A payment moves pending → processing → succeeded|failed,
// possibly skipping steps.
const (
	StatusPending    PaymentStatus = "pending"
	StatusProcessing PaymentStatus = "processing"
	StatusSucceeded  PaymentStatus = "succeeded"
	StatusFailed     PaymentStatus = "failed"
)

// Valid reports whether s is a defined status.
func (s PaymentStatus) Valid() bool {
	switch s {
	case StatusPending, StatusProcessing, StatusSucceeded, StatusFailed:
		return true
	}
	return false
}

// CreatePaymentRequest asks the provider to start collecting a payment for a
// Switchyard checkout session.
type CreatePaymentRequest struct {
	// SessionID is Switchyard's session id (cs_…); providers should store it
	// with the payment (metadata, client reference) so webhooks can name it.
	SessionID string
	// AttemptID identifies this attempt; a session may try several providers.
	AttemptID string
	// IdempotencyKey is stable across retries of the same attempt.
	IdempotencyKey string
	// Amount is in minor units of Currency (4995 = 49.95 USD), always > 0.
	Amount int64
	// Currency is an upper-case ISO 4217 code.
	Currency      string
	Method        string
	CustomerEmail string
	// Description says what is paid for, for shoppers ("Order 1042": the
	// merchant's order id, never a Switchyard id).
	Description string
	// MerchantName is the merchant's display name, for pages that show the
	// shopper whom they pay. Empty from hosts that predate the field
	// (protocol 1 is additive), so a page must read well without it.
	MerchantName string
	// ReturnURL is Switchyard's checkout return route; send the shopper there
	// when they finish on the provider's side. It is UX only: status changes
	// come from verified events.
	ReturnURL string
	// CancelURL is where a shopper who abandons the payment goes.
	CancelURL string
	// WebhookURL is Switchyard's intake for this provider instance
	// (/hooks/{type}/{provider_id}); register it upstream when the API allows
	// per-payment notification URLs.
	WebhookURL string
	// ProviderBaseURL is the public base of /p/{provider_id}, for pages
	// served through HandleHTTP.
	ProviderBaseURL string
	Metadata        map[string]string
	// MerchantAccount is an upstream sub-account for this merchant (a Stripe
	// connected account id), empty for the platform account.
	MerchantAccount string
}

// NextActionType says what the shopper must do next.
type NextActionType string

// Next actions.
const (
	// NextActionNone: nothing; the status is final or settles by webhook.
	NextActionNone NextActionType = "none"
	// NextActionRedirect: send the shopper's browser to NextAction.URL.
	NextActionRedirect NextActionType = "redirect"
)

// NextAction is what the hosted checkout does after CreatePayment.
type NextAction struct {
	Type NextActionType
	// URL is absolute for NextActionRedirect.
	URL string
}

// CreatePaymentResponse is the outcome of CreatePayment.
type CreatePaymentResponse struct {
	// ProviderRef is the upstream id of the payment; the host stores it and
	// passes it to GetPayment, Refund, and matches events by it.
	ProviderRef string
	Status      PaymentStatus
	NextAction  NextAction
}

// GetPaymentRequest names a payment to read.
type GetPaymentRequest struct {
	ProviderRef string
	SessionID   string
}

// Payment is the upstream state of a payment.
type Payment struct {
	ProviderRef    string
	Status         PaymentStatus
	Amount         int64
	Currency       string
	AmountRefunded int64
}

// RefundRequest returns money for a payment.
type RefundRequest struct {
	// ProviderRef is the payment's upstream id as CreatePayment returned it.
	ProviderRef string
	// SessionID is Switchyard's session id (cs_…) the payment belongs to.
	SessionID string
	// Amount in minor units; 0 refunds whatever is left.
	Amount   int64
	Currency string
	// IdempotencyKey is derived from Switchyard's refund id: the host sends
	// the same key on every retry of one refund (after a timeout, a crash,
	// or from another instance), so a provider must never return money twice
	// for one key.
	IdempotencyKey string
	// Reason is requested_by_customer, duplicate, fraudulent or other.
	Reason string
	// PaymentData is the Data of the payment.succeeded event the host
	// applied for this payment, for providers whose refund API names the
	// payment by something other than ProviderRef (PayPro Global's order and
	// order item ids). Empty when the host recorded no such event.
	PaymentData map[string]string
}

// RefundStatus is the state of a refund.
type RefundStatus string

// Refund states.
const (
	RefundPending   RefundStatus = "pending"
	RefundSucceeded RefundStatus = "succeeded"
	RefundFailed    RefundStatus = "failed"
)

// RefundResult is the outcome of Refund. A refund the provider refused
// outright is an error (sdk.Declined with the provider's message); Status
// RefundFailed is for a refund the provider accepted and then reported as
// failed.
type RefundResult struct {
	// RefundRef is the upstream refund id; the host matches refund webhooks
	// to the refund by it (payment.refunded Data["refund_id"]).
	RefundRef string
	Status    RefundStatus
	Amount    int64
	// FailureMessage says why, when Status is RefundFailed.
	FailureMessage string
}

// WebhookRequest is the inbound webhook exactly as Switchyard received it, so
// the provider can verify signatures over the raw bytes.
type WebhookRequest struct {
	Method string
	// Path is the request path as received (/hooks/{type}/{provider_id}).
	Path string
	// Query is the raw query string, without '?'.
	Query string
	// Headers holds every header, canonicalized as net/http does.
	Headers    http.Header
	Body       []byte
	RemoteAddr string
}

// WebhookResponse is the result of HandleWebhook: the normalized events to
// apply and the HTTP response to send back to the caller.
type WebhookResponse struct {
	Events []Event
	// Response is sent to the webhook caller. A zero Status means 200 with
	// an empty body.
	Response HTTPResponse
}

// AdminPathPrefix starts the paths of a plugin's operator routes. The host
// never serves them on the public /p/{provider_id}/… passthrough (a
// browser gets 404 there); it calls them itself through HandleHTTP on
// behalf of an authenticated operator. A plugin can therefore answer them
// without further authentication, and keep its own secrets (a key that
// signs onboarding links) to itself.
const AdminPathPrefix = "/_admin/"

// AdminConnectStartLinkPath is the operator route that mints a link to
// start connecting a merchant's upstream account (Connect onboarding):
// GET with query merchant=<merchant id>. A plugin that supports it answers
// 200 with JSON {"url": "<absolute link below HTTPRequest.BaseURL>",
// "expires_at": "<RFC 3339>"}; one that does not answers 404 (or
// Unimplemented). The flow the link starts ends by returning
// AccountConnected in HTTPResponse.Events.
const AdminConnectStartLinkPath = AdminPathPrefix + "connect/start-link"

// AdminConnectDisconnectPath is the operator route that ends a merchant's
// connection: POST with query merchant=<merchant id>&account=<account id>.
// The plugin revokes the upstream authorization and answers 200 with
// AccountDisconnected in HTTPResponse.Events, which the host applies; 404
// (or Unimplemented) when it does not support it.
const AdminConnectDisconnectPath = AdminPathPrefix + "connect/disconnect"

// ConnectStartLink is the JSON body of a 200 answer to
// AdminConnectStartLinkPath.
type ConnectStartLink struct {
	URL       string    `json:"url"`
	ExpiresAt time.Time `json:"expires_at"`
}

// HTTPRequest is a browser or upstream request to /p/{provider_id}/….
type HTTPRequest struct {
	Method string
	// Path is relative to the provider's base: "/pay/sbx_1" for
	// /p/{provider_id}/pay/sbx_1. It always starts with "/".
	Path string
	// Query is the raw query string, without '?'.
	Query      string
	Headers    http.Header
	Body       []byte
	RemoteAddr string
	// BaseURL is the public base of /p/{provider_id}, for building links.
	BaseURL string
}

// QueryValues parses Query; malformed pairs are dropped.
func (r HTTPRequest) QueryValues() url.Values {
	v, _ := url.ParseQuery(r.Query)
	return v
}

// HTTPResponse is written back by the host as is (after its own security
// headers). A zero Status means 200.
type HTTPResponse struct {
	Status  int
	Headers http.Header
	Body    []byte
	// Events are normalized events produced by a plugin HTTP route (an
	// OAuth callback that connected an account, a link that disconnected
	// it). The host applies them before it writes the response, so the
	// page the browser sees never claims more than was stored; if applying
	// fails the host answers with its own error page instead. Only
	// HandleHTTP's response carries them: inside a WebhookResponse, use
	// WebhookResponse.Events (Response.Events is ignored there).
	Events []Event
}
