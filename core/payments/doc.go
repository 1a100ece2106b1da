// Package payments is the checkout session service: it creates sessions for
// the merchant API, answers status and /v1/me, starts provider payments for
// the hosted checkout, and applies verified provider events to sessions.
//
// Principles:
//   - Creating a session calls no provider. The provider payment is created
//     when the shopper reaches the checkout (StartPayment), so merchant calls
//     stay fast and abandoned sessions cost nothing upstream.
//   - Every state change, the domain event it causes (events table) and any
//     job it schedules commit in one transaction. Uniqueness promises
//     (one open session per order, one response per Idempotency-Key, one
//     application per provider event) are database constraints, so they hold
//     across instances sharing one PostgreSQL.
//   - One serializer (SessionView, rendered by renderView) produces the
//     create response, the status response and the data of every event, so
//     what a merchant polls and what its webhook says are the same bytes.
//   - Status changes come only from verified provider events and go through
//     domain.ApplyEvent: never backwards, money-moving events never dropped.
package payments
