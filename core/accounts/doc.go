// Package accounts keeps the upstream accounts merchants connect on
// provider instances (Stripe Connect Standard and the like): it applies the
// account.connected / account.disconnected events a provider plugin
// produces, stores the account id encrypted with the keyring, hands the
// plaintext to payments for CreatePaymentRequest.MerchantAccount, and asks
// the plugin for the operator's onboarding link.
//
// The package knows no provider: what an account id looks like, how an
// onboarding link is signed and how the upstream flow runs are the
// plugin's business (see docs/providers/stripe.md).
package accounts
