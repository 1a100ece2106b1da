// Package domains runs the domain lifecycle: domains bought as session items
// (register or transfer), renewals, nameservers, the transfer lock, auth
// codes and DNS records, through a registrar plugin instance (Route 53
// Domains by default, plugins/route53).
//
// Every registrar call Switchyard makes is a domain operation row written
// before the call, worked by a durable job (River). Registration, transfer
// and renewal spend the merchant's money at the registrar, so the job:
//
//   - commits the operation as "submitting" before the spending call, so a
//     retried job (a crash, a timeout, an ambiguous error) knows the call
//     may have gone through and never makes it again: it reconciles by
//     reading the domain from the registrar, and hands the operation to an
//     operator ("attention") when the outcome cannot be learned;
//   - commits the registrar's operation id as soon as the call returns,
//     before polling starts;
//   - polls the operation with backoff (River snoozes, which never run out
//     of attempts) until it succeeds or fails, then records the domain
//     (expiry, nameservers, lock) and emits domain.registered,
//     domain.transferred, domain.renewed or domain.failed in the same
//     transaction.
//
// A paid item is one domain row (a unique item id) and one registration
// operation (a unique request key), whatever number of times the paid hook
// runs. A failed registration leaves the domain failed and its session
// refundable through the refunds API; nothing was bought.
//
// Events ride the sequence of the session whose item bought the domain, so
// they are delivered like every other merchant event. A daily job emits
// domain.expired for domains past their expiry and mails renewal reminders
// before it.
package domains
