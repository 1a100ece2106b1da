// Package stripefake is a stateful stand-in for the Stripe Checkout Session
// and Refund endpoints, for tests that need state stripe-mock does not keep
// (a retrieved session matching the created one, idempotent replays, 404
// for unknown ids, refunds bounded by what was paid). Requests and answers
// follow Stripe's documented shapes; stripe-mock remains the check that the
// requests themselves are valid.
package stripefake
