// Package refunds lets merchants and operators return a paid session's
// money through the provider that took it.
//
// A refund is created in one transaction with everything that makes it
// happen: the amount is reserved on the session by a conditional UPDATE
// that never lets refunds exceed what the session received (whatever
// number of requests or instances race), the refund row (re_…, pending),
// its refund.created event and a durable job (River) that calls the
// provider plugin's Refund. The job sends an idempotency key derived from
// the refund id on every attempt, so a retry, a crash after the call or
// a second instance never refunds twice; declined and invalid requests
// fail the refund with the provider's message, an unreachable provider is
// retried on a schedule.
//
// The provider's own refund webhook (Stripe's charge.refunded, PayPro's
// OrderRefunded and OrderPartiallyRefunded IPNs) is matched to the refund,
// before or after the call returns, and counted once; a refund made in the
// provider's dashboard is recorded as a refund with source provider.
package refunds
