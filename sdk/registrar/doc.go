// Package registrar is the contract between Switchyard and a domain
// registrar plugin (Route53 Domains and the like): the Registrar interface
// and the plain Go types it exchanges.
//
// Registrars are slow and asynchronous: Register, Transfer, Renew,
// SetNameservers, UpsertRecords and SetLock return an Operation whose
// Status may still be pending; the host polls GetOperation until it is
// final. Mutating calls carry an IdempotencyKey where the upstream supports
// one and must be safe to repeat.
package registrar
