// Package stripeprovider is the Stripe payment provider behind Switchyard's
// stripe plugin. It creates Stripe Checkout Sessions (so card data never
// touches Switchyard), reads and refunds them, verifies and normalizes
// Stripe webhooks, and runs Connect Standard OAuth onboarding so that a
// merchant's payments settle directly to the merchant's own Stripe account.
//
// All Stripe calls go through a per-instance stripe-go client.API built in
// Configure (never the package-level globals), so several Stripe instances
// with different keys and base URLs live in one process, and tests point
// the client at stripe-mock or a local fake.
package stripeprovider
