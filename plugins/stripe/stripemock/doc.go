// Package stripemock starts stripe-mock (Stripe's official API mock, pinned
// by `make tools`) for tests, on a port the system picks, and stops it when
// the test ends. Without stripe-mock on PATH tests skip, unless
// SWITCHYARD_REQUIRE_STRIPE_MOCK=1 (CI) makes that a failure.
package stripemock
