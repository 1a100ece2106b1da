// Package provider is the contract between Switchyard and a payment gateway
// plugin: the Provider interface and the plain Go types it exchanges.
//
// # Lifecycle
//
// The host launches the plugin binary, calls Describe (to learn the payment
// methods and capabilities) and Configure (with the decrypted settings),
// then serves traffic: CreatePayment when a shopper picks a method on the
// hosted checkout, HandleWebhook for every request to
// /hooks/{type}/{provider_id}, HandleHTTP for /p/{provider_id}/… when the
// provider advertises CapabilityHTTP, GetPayment for reconciliation and
// Refund on the merchant's request. CheckHealth is polled; routing skips a
// provider that is not healthy.
//
// # Events
//
// A verified webhook becomes zero or more Events. Only events change a
// session's status: the return URL is UX only. The host applies events in
// OccurredAt order, de-duplicates on ProviderEventID, never moves a session
// backwards (a payment.failed after payment.succeeded is recorded, not
// applied) and never drops an event for which EventType.MovesMoney is true.
//
// Each EventType constant documents the fields it carries. All carry
// ProviderEventID, ProviderRef, OccurredAt, RawType, and SessionID when the
// provider can recover it:
//
//	payment.succeeded          Amount, Currency (captured)
//	payment.failed             Amount, Currency; Data: failure_code, failure_message
//	payment.processing         Amount, Currency
//	payment.refunded           Amount (this refund); Data: refund_id, amount_refunded
//	payment.partially_refunded Amount (this refund); Data: refund_id, amount_refunded
//	payment.disputed           Amount (disputed); Data: dispute_id, reason
//	payment.dispute_won        Data: dispute_id
//	payment.dispute_lost       Amount (lost); Data: dispute_id
//	subscription.created       Data: subscription_id, plan, next_billing_at
//	subscription.updated       Data: subscription_id + changed fields
//	subscription.renewed       Amount, Currency; Data: subscription_id, next_billing_at
//	subscription.payment_failed Data: subscription_id, failure_code
//	subscription.suspended     Data: subscription_id
//	subscription.canceled      Data: subscription_id, canceled_by
//	subscription.finished      Data: subscription_id
//	license.requested          Data: product_id, quantity, order_id
//	customer.updated           Data: email, name, country
//	test.ignored               nothing to apply
//
// Amounts are always int64 minor units with an upper-case ISO 4217 currency.
//
// # Errors
//
// Return categorized errors from package sdk (sdk.Invalid, sdk.Declined,
// sdk.Unavailable …). A webhook that fails verification must produce no
// events: return sdk.Unauthorized (the host answers 401) or a non-2xx
// Response.
package provider
