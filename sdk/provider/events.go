package provider

import "time"

// EventType is a normalized event type. Providers map their own event names
// (RawType) onto these so the core applies every gateway's events the same
// way. The string values are part of the protocol and never change.
type EventType string

// Event types. Unless stated otherwise every event carries ProviderEventID,
// ProviderRef, OccurredAt and RawType, and SessionID whenever the provider
// can recover it (from metadata it stored at CreatePayment).
const (
	// PaymentSucceeded: money was captured. Amount and Currency are what
	// the provider captured (never the amount asked for); the host compares
	// them with the session and pays it only when they are equal. 0 means
	// the notification does not say: the host then asks GetPayment.
	PaymentSucceeded EventType = "payment.succeeded"
	// PaymentFailed: the payment was declined or abandoned upstream. Amount
	// and Currency as attempted; Data["failure_code"] and
	// Data["failure_message"] when known.
	PaymentFailed EventType = "payment.failed"
	// PaymentProcessing: accepted but not settled (bank transfer, review).
	// Amount and Currency as attempted.
	PaymentProcessing EventType = "payment.processing"
	// PaymentRefunded: the payment is now fully refunded. Amount is the
	// amount of this refund; Data["refund_id"], Data["amount_refunded"]
	// (total so far, minor units, decimal string).
	PaymentRefunded EventType = "payment.refunded"
	// PaymentPartiallyRefunded: part of the payment was refunded. Same fields
	// as PaymentRefunded.
	PaymentPartiallyRefunded EventType = "payment.partially_refunded"
	// PaymentDisputed: a chargeback was opened. Amount is the disputed
	// amount; Data["dispute_id"], Data["reason"].
	PaymentDisputed EventType = "payment.disputed"
	// PaymentDisputeWon: the dispute closed in the merchant's favour.
	// Data["dispute_id"].
	PaymentDisputeWon EventType = "payment.dispute_won"
	// PaymentDisputeLost: the dispute closed against the merchant; the
	// disputed Amount is lost. Data["dispute_id"].
	PaymentDisputeLost EventType = "payment.dispute_lost"

	// SubscriptionCreated: a recurring agreement started. ProviderRef is the
	// first payment when there is one; Data["subscription_id"],
	// Data["plan"], Data["next_billing_at"] (RFC 3339) when known.
	SubscriptionCreated EventType = "subscription.created"
	// SubscriptionUpdated: plan, quantity or billing date changed.
	// Data["subscription_id"] plus the changed fields.
	SubscriptionUpdated EventType = "subscription.updated"
	// SubscriptionRenewed: a renewal was charged. Amount and Currency of the
	// renewal; Data["subscription_id"], Data["next_billing_at"].
	SubscriptionRenewed EventType = "subscription.renewed"
	// SubscriptionPaymentFailed: a renewal charge failed; the provider may
	// retry. Data["subscription_id"], Data["failure_code"].
	SubscriptionPaymentFailed EventType = "subscription.payment_failed"
	// SubscriptionSuspended: paused after failed renewals or by the
	// customer. Data["subscription_id"].
	SubscriptionSuspended EventType = "subscription.suspended"
	// SubscriptionCanceled: canceled before its natural end.
	// Data["subscription_id"], Data["canceled_by"] when known.
	SubscriptionCanceled EventType = "subscription.canceled"
	// SubscriptionFinished: ran its full term. Data["subscription_id"].
	SubscriptionFinished EventType = "subscription.finished"

	// LicenseRequested: the provider (a merchant-of-record such as PayPro
	// Global) asks for a license key for an order. Data["product_id"],
	// Data["quantity"], Data["order_id"]; the plugin answers in
	// WebhookResponse.Response once the host supplies the key out of band.
	LicenseRequested EventType = "license.requested"
	// CustomerUpdated: the customer changed contact details upstream.
	// Data["email"], Data["name"], Data["country"] as present.
	CustomerUpdated EventType = "customer.updated"

	// AccountConnected: a merchant connected their own upstream account
	// through the provider's onboarding flow (Stripe Connect Standard), so
	// the merchant's payments on this provider instance are created on that
	// account (CreatePaymentRequest.MerchantAccount). Data["merchant_id"]
	// (Switchyard's merchant id, taken from state the plugin signed),
	// Data["account_id"] (the upstream account id), Data["livemode"]
	// ("true" or "false"). Returned in HTTPResponse.Events by an onboarding
	// callback; ProviderRef and SessionID are empty.
	AccountConnected EventType = "account.connected"
	// AccountDisconnected: the connection ended — revoked from Switchyard's
	// disconnect link or upstream (Stripe's account.application.deauthorized
	// webhook). Data["account_id"]; Data["merchant_id"] when the plugin
	// knows it (an upstream revocation names only the account). The host
	// stops passing the account on that merchant's payments.
	AccountDisconnected EventType = "account.disconnected"

	// TestIgnored: an upstream test or ping notification that the provider
	// acknowledged but that carries nothing to apply. The host records it
	// and changes nothing.
	TestIgnored EventType = "test.ignored"
)

// EventTypes lists every defined event type, in a stable order.
func EventTypes() []EventType {
	return []EventType{
		PaymentSucceeded, PaymentFailed, PaymentProcessing, PaymentRefunded,
		PaymentPartiallyRefunded, PaymentDisputed, PaymentDisputeWon, PaymentDisputeLost,
		SubscriptionCreated, SubscriptionUpdated, SubscriptionRenewed,
		SubscriptionPaymentFailed, SubscriptionSuspended, SubscriptionCanceled,
		SubscriptionFinished, LicenseRequested, CustomerUpdated,
		AccountConnected, AccountDisconnected, TestIgnored,
	}
}

// Valid reports whether t is a defined event type.
func (t EventType) Valid() bool {
	for _, k := range EventTypes() {
		if k == t {
			return true
		}
	}
	return false
}

// MovesMoney reports whether events of this type change what the merchant is
// owed; the host never drops such an event, even for an expired session.
func (t EventType) MovesMoney() bool {
	switch t {
	case PaymentSucceeded, PaymentRefunded, PaymentPartiallyRefunded,
		PaymentDisputed, PaymentDisputeLost, SubscriptionRenewed:
		return true
	}
	return false
}

// Event is one normalized provider event.
type Event struct {
	Type EventType
	// ProviderEventID is the upstream event id; the host de-duplicates on it,
	// so redelivered webhooks are applied once. Required.
	ProviderEventID string
	// ProviderRef is the payment's upstream id as returned by CreatePayment.
	ProviderRef string
	// SessionID is Switchyard's session id when the provider knows it.
	SessionID string
	// Amount in minor units of Currency; see each type for its meaning.
	Amount   int64
	Currency string
	// OccurredAt is when it happened upstream (not when it was received);
	// the host orders events by it.
	OccurredAt time.Time
	// RawType is the provider's own event name, for operators.
	RawType string
	// Data holds type-specific extras listed with each EventType.
	Data map[string]string
}
