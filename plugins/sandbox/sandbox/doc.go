// Package sandbox implements Switchyard's reference payment provider: no
// network, every currency, methods card, bank_transfer and wallet. It is the
// worked example of docs/plugins.md and the provider behind `make run` and
// the integration tests.
//
// # Flow
//
// CreatePayment answers with a redirect to the provider's own pay page,
// {ProviderBaseURL}/pay/{ref}, whose query (session, amount, currency,
// return and webhook URLs) is signed with the instance's signing_secret so
// the page cannot be tampered with. HandleHTTP serves that page: three
// plain HTML forms (no JavaScript) — Succeed, Decline, and
// Processing then succeed. Each form posts, with its own signed hidden
// fields, straight to the WebhookURL Switchyard gave CreatePayment, so the
// shopper's choice reaches the core through exactly the path of a real
// provider's webhook: the host hands the raw form POST to HandleWebhook,
// which verifies the HMAC and the timestamp, returns normalized events and
// a 303 redirect to the ReturnURL. A tampered or unsigned post gets a 400
// page and no events.
//
// Processing-then-succeed returns both events in the same response:
// payment.processing at the time of the click and payment.succeeded one
// millisecond later, so the host applies them in order.
//
// # State
//
// Payments are kept per Provider instance, only for GetPayment and Refund;
// the pay page and the callback verify from their signed fields alone, so
// they keep working across a plugin restart. With ledger_path set, that
// state is an append-only JSON lines file (see LedgerRecord), so payments
// stay refundable across restarts, every sandbox process configured with
// the same file shares it (an exclusive file lock per operation), and a
// refund key replayed anywhere returns the first refund. Tests count the
// refunds the sandbox executed with ReadLedger (records with Op OpRefund).
//
// Refunds complete synchronously and emit no webhook, except for magic
// amounts, by the last three digits of the refund in minor units: ...666
// is declined every time (sdk.Declined, code refund_declined); ...777
// fails once per idempotency key as if the upstream were down
// (sdk.Unavailable) and succeeds when retried with the same key.
//
// # Settings
//
//	signing_secret    required; HMAC-SHA256 key for pay links and callbacks
//	label             optional; shown on the pay page (default "Switchyard Sandbox")
//	callback_ttl      optional Go duration; how long a rendered pay page stays
//	                  valid (default 1h)
//	ledger_path       optional file; keeps payments and refunds across
//	                  restarts and shares them between processes
package sandbox
