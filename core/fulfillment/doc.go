// Package fulfillment does what a hosting merchant's billing system does
// once a payment is confirmed (issue 15): products say how an item of a sku
// is fulfilled; a session's items are validated against them at create and
// stored with the session; when the session becomes paid — in the very
// transaction that marks it paid — the client is recorded and each item's
// kind enqueues its durable jobs. Items of kind provision become services:
// hosting accounts created, suspended, unsuspended, terminated and moved
// between packages through a provisioner plugin, one River job per action,
// each action emitting its service.* event. A dispute pauses a session's
// services until an operator resumes them; a full refund suspends or
// terminates them as the product says; a failed subscription charge
// suspends after the product's grace period and a renewal unsuspends.
//
// Other kinds (register_domain, issue 16) plug in through Kind, registered
// by core/app. Mail goes through the Mailer interface defined here; the
// mail package implements it, and without one no mail is sent.
//
// See docs/fulfillment.md.
package fulfillment
