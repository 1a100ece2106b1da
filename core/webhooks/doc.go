// Package webhooks sends Switchyard's outbound events to merchants:
// endpoints (URL, event filter, signing profile, encrypted whsec_ secret
// with rotation overlap, retry schedule), the event envelope, deliveries
// and their attempts, the River worker that signs and POSTs them, history,
// resend and recover, and the SSRF guard every target passes at save time
// and again at dial time.
//
// Deliveries are created in the same transaction as the event (see
// Service.EventsInserted, which core/payments calls), and every delivery
// attempt is one River job whose row is written in the transaction that
// recorded the previous attempt, so a crash at any point loses nothing:
// delivery is at least once, and receivers de-duplicate on the event id.
//
// Signatures come from the public webhook package, the same code merchants
// verify with.
package webhooks
