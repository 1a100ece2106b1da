package domain

import "fmt"

// SessionStatus is the merchant-visible state of a checkout session. The list
// is exactly DESIGN §4. There is deliberately no "failed": a failed payment
// attempt leaves the session open so the shopper can try another method;
// failure is recorded on the attempt and announced as session.failed.
type SessionStatus string

const (
	StatusOpen              SessionStatus = "open"
	StatusProcessing        SessionStatus = "processing"
	StatusPaid              SessionStatus = "paid"
	StatusExpired           SessionStatus = "expired"
	StatusCanceled          SessionStatus = "canceled"
	StatusRefunded          SessionStatus = "refunded"
	StatusPartiallyRefunded SessionStatus = "partially_refunded"
	StatusDisputed          SessionStatus = "disputed"
)

// SessionStatuses lists every status.
func SessionStatuses() []SessionStatus {
	return []SessionStatus{
		StatusOpen, StatusProcessing, StatusPaid, StatusExpired, StatusCanceled,
		StatusRefunded, StatusPartiallyRefunded, StatusDisputed,
	}
}

// ParseSessionStatus accepts a status exactly as spelled above.
func ParseSessionStatus(s string) (SessionStatus, error) {
	for _, st := range SessionStatuses() {
		if string(st) == s {
			return st, nil
		}
	}
	return "", Invalid("invalid_status", "status", "unknown session status %q", s)
}

// MoneyReceived reports whether the status implies the shopper paid: such a
// session never returns to a pre-payment status.
func (s SessionStatus) MoneyReceived() bool {
	switch s {
	case StatusPaid, StatusPartiallyRefunded, StatusRefunded, StatusDisputed:
		return true
	}
	return false
}

// Closed reports whether the session ended without money: it takes no new
// payment attempts, but a late money-moving event still applies.
func (s SessionStatus) Closed() bool { return s == StatusExpired || s == StatusCanceled }

// PaymentEventKind is a normalized provider event. The strings equal the SDK's
// normalized event types; domain keeps its own copy because core/domain must
// not import the public sdk module (the payments service maps one to the
// other and a test there keeps them in step).
type PaymentEventKind string

const (
	PaymentSucceeded         PaymentEventKind = "payment.succeeded"
	PaymentFailed            PaymentEventKind = "payment.failed"
	PaymentProcessing        PaymentEventKind = "payment.processing"
	PaymentRefunded          PaymentEventKind = "payment.refunded"
	PaymentPartiallyRefunded PaymentEventKind = "payment.partially_refunded"
	PaymentDisputed          PaymentEventKind = "payment.disputed"
	PaymentDisputeWon        PaymentEventKind = "payment.dispute_won"
	PaymentDisputeLost       PaymentEventKind = "payment.dispute_lost"
)

// PaymentEventKinds lists every normalized provider event kind.
func PaymentEventKinds() []PaymentEventKind {
	return []PaymentEventKind{
		PaymentSucceeded, PaymentFailed, PaymentProcessing, PaymentRefunded,
		PaymentPartiallyRefunded, PaymentDisputed, PaymentDisputeWon, PaymentDisputeLost,
	}
}

// MovesMoney reports whether the event means money changed hands; such
// events are never dropped, whatever state the session is in.
func (k PaymentEventKind) MovesMoney() bool {
	switch k {
	case PaymentSucceeded, PaymentRefunded, PaymentPartiallyRefunded,
		PaymentDisputed, PaymentDisputeWon, PaymentDisputeLost:
		return true
	}
	return false
}

// DomainEvent is the type of an outbound merchant webhook event.
type DomainEvent string

const (
	EventSessionCreated           DomainEvent = "session.created"
	EventSessionProcessing        DomainEvent = "session.processing"
	EventSessionPaid              DomainEvent = "session.paid"
	EventSessionFailed            DomainEvent = "session.failed"
	EventSessionExpired           DomainEvent = "session.expired"
	EventSessionCanceled          DomainEvent = "session.canceled"
	EventSessionRefunded          DomainEvent = "session.refunded"
	EventSessionPartiallyRefunded DomainEvent = "session.partially_refunded"
	EventSessionDisputed          DomainEvent = "session.disputed"
	EventSessionDisputeWon        DomainEvent = "session.dispute_won"
	EventSessionDisputeLost       DomainEvent = "session.dispute_lost"
)

// DomainEvents lists every outbound event type, e.g. for endpoint
// subscription filters.
func DomainEvents() []DomainEvent {
	return []DomainEvent{
		EventSessionCreated, EventSessionProcessing, EventSessionPaid, EventSessionFailed,
		EventSessionExpired, EventSessionCanceled, EventSessionRefunded,
		EventSessionPartiallyRefunded, EventSessionDisputed, EventSessionDisputeWon,
		EventSessionDisputeLost,
	}
}

// DisputeState tracks a chargeback separately from the status, so that a won
// dispute can restore the money state and late or duplicate dispute events
// are recognised.
type DisputeState string

const (
	DisputeNone DisputeState = ""
	DisputeOpen DisputeState = "open"
	DisputeWon  DisputeState = "won"
	DisputeLost DisputeState = "lost"
)

// SessionState is everything the state machine needs to know about a
// session. The payments service persists all of it (status, amount,
// refunded_amount, dispute) and passes it back in on the next event.
type SessionState struct {
	Status         SessionStatus
	Amount         int64 // session total, minor units
	RefundedAmount int64 // cumulative refunds, minor units, 0..Amount
	Dispute        DisputeState
}

// PaymentEvent is a normalized provider event as the state machine sees it.
type PaymentEvent struct {
	Kind PaymentEventKind
	// Amount in the session currency's minor units. For refunds it is the
	// amount this refund returns (not a running total); payment.refunded
	// always completes the refund whatever its amount. For
	// payment.succeeded a non-zero value is compared with the session total
	// and a mismatch is noted in the reason (the money is still recorded).
	Amount int64
}

// Transition is the outcome of one input. When Apply is false nothing is
// written except the raw event record (Next equals the current state and
// DomainEvent is empty); Reason explains why, for the event log and
// diagnostics. When Apply is true, Next is persisted and DomainEvent, if
// set, is emitted in the same transaction.
type Transition struct {
	Next        SessionState
	Apply       bool
	DomainEvent DomainEvent
	Reason      string
}

func ignore(s SessionState, format string, args ...any) Transition {
	return Transition{Next: s, Reason: fmt.Sprintf(format, args...)}
}

func apply(next SessionState, ev DomainEvent, format string, args ...any) Transition {
	return Transition{Next: next, Apply: true, DomainEvent: ev, Reason: fmt.Sprintf(format, args...)}
}

// settledStatus is the status of a session whose payment arrived, derived
// from its refunds and dispute rather than stored separately, so a won
// dispute restores exactly paid / partially_refunded / refunded.
func settledStatus(s SessionState) SessionStatus {
	switch {
	case s.Dispute == DisputeOpen || s.Dispute == DisputeLost:
		return StatusDisputed
	case s.RefundedAmount <= 0:
		return StatusPaid
	case s.RefundedAmount < s.Amount:
		return StatusPartiallyRefunded
	default:
		return StatusRefunded
	}
}

// ApplyEvent decides what a provider event does to a session. It is pure:
// the payments service loads the state, calls it, and persists the result
// together with the raw event and the domain event.
//
// Rules (the exhaustive table is in session_test.go):
//   - Status never moves backwards: payment.processing or payment.failed
//     after money arrived is recorded, not applied; a duplicate is ignored.
//   - Money-moving events always apply, even on an expired or canceled
//     session: payment.succeeded there gives paid ("late payment").
//     A refund or dispute that arrives before payment.succeeded implies the
//     payment and applies directly.
//   - payment.failed while open or processing returns the session to open
//     (the shopper may try another method) and emits session.failed.
//   - payment.processing applies only to an open session. On an expired or
//     canceled session it is recorded, not applied: the session is not
//     revived for money that may never come, while the attempt stays
//     processing for reconciliation and a later payment.succeeded still
//     applies.
//   - Partial refunds accumulate (PaymentEvent.Amount is this refund's
//     amount); when they reach the total the session is refunded.
//     payment.refunded means "now fully refunded" (as the SDK defines it),
//     so it sets the refunded amount to the total whatever its own amount.
//   - A dispute sets disputed. Won restores the money status from the
//     refunds; lost keeps disputed for good (DESIGN has no chargeback
//     status; the dispute state says it was lost). Refunds during a dispute
//     are counted but the status stays disputed. Once a dispute is closed,
//     later dispute events for it are ignored.
func ApplyEvent(s SessionState, ev PaymentEvent) Transition {
	switch ev.Kind {
	case PaymentProcessing:
		switch {
		case s.Status == StatusOpen:
			return apply(with(s, StatusProcessing), EventSessionProcessing, "payment in progress")
		case s.Status == StatusProcessing:
			return ignore(s, "duplicate: already processing")
		case s.Status.Closed():
			return ignore(s, "payment in progress on %s session: not reopened; a later success still applies", s.Status)
		default:
			return ignore(s, "stale: session already %s", s.Status)
		}

	case PaymentFailed:
		switch {
		case s.Status == StatusOpen || s.Status == StatusProcessing:
			return apply(with(s, StatusOpen), EventSessionFailed, "payment attempt failed; session open for another method")
		case s.Status.Closed():
			return ignore(s, "failed attempt on %s session", s.Status)
		default:
			return ignore(s, "stale: payment failure after session became %s", s.Status)
		}

	case PaymentSucceeded:
		if s.Status.MoneyReceived() {
			return ignore(s, "duplicate or stale: session already %s", s.Status)
		}
		reason := "payment succeeded"
		if s.Status.Closed() {
			reason = fmt.Sprintf("late payment on %s session", s.Status)
		}
		if ev.Amount != 0 && ev.Amount != s.Amount {
			reason += fmt.Sprintf("; provider reported amount %d, session amount %d", ev.Amount, s.Amount)
		}
		next := s
		next.Status = settledStatus(next)
		return apply(next, EventSessionPaid, "%s", reason)

	case PaymentRefunded, PaymentPartiallyRefunded:
		return applyRefund(s, ev)

	case PaymentDisputed:
		if s.Dispute != DisputeNone {
			return ignore(s, "duplicate or late: dispute already %s", s.Dispute)
		}
		next := s
		next.Dispute = DisputeOpen
		next.Status = settledStatus(next)
		return apply(next, EventSessionDisputed, "%s", impliedPayment(s, "payment disputed"))

	case PaymentDisputeWon, PaymentDisputeLost:
		if s.Dispute == DisputeWon || s.Dispute == DisputeLost {
			return ignore(s, "dispute already closed as %s", s.Dispute)
		}
		next := s
		ev2, what := EventSessionDisputeWon, "dispute won"
		next.Dispute = DisputeWon
		if ev.Kind == PaymentDisputeLost {
			ev2, what = EventSessionDisputeLost, "dispute lost"
			next.Dispute = DisputeLost
		}
		next.Status = settledStatus(next)
		return apply(next, ev2, "%s", impliedPayment(s, what))
	}
	return ignore(s, "unknown payment event %q", ev.Kind)
}

// impliedPayment notes in the reason when an event reveals a payment the
// session had not seen yet (its payment.succeeded is late or lost).
func impliedPayment(s SessionState, what string) string {
	if s.Status.MoneyReceived() {
		return what
	}
	return fmt.Sprintf("%s on %s session: implies the payment succeeded", what, s.Status)
}

func with(s SessionState, st SessionStatus) SessionState {
	s.Status = st
	return s
}

func applyRefund(s SessionState, ev PaymentEvent) Transition {
	if ev.Amount < 0 {
		return ignore(s, "negative refund amount %d", ev.Amount)
	}
	remaining := s.Amount - s.RefundedAmount
	if remaining <= 0 {
		return ignore(s, "duplicate or stale: session already fully refunded")
	}
	amount := ev.Amount
	reason := "refund"
	switch {
	case ev.Kind == PaymentRefunded:
		// The provider says the payment is now fully refunded; if the
		// amounts do not add up, an earlier partial refund event was lost
		// or is still on its way, and the provider's word on the end state
		// wins (a late partial refund then finds nothing left).
		reason = "full refund"
		if amount != 0 && amount != remaining {
			reason = fmt.Sprintf("full refund (event amount %d, remaining %d)", amount, remaining)
		}
		amount = remaining
	case amount == 0:
		// Money moved but we do not know how much: record the state change
		// without inventing an amount; reconciliation can fill it in.
		reason = "partial refund without amount"
	case amount > remaining:
		reason = fmt.Sprintf("refund of %d exceeds remaining %d; capped", amount, remaining)
		amount = remaining
	}
	next := s
	next.RefundedAmount += amount
	next.Status = settledStatus(next)
	if next.Status == StatusPaid {
		next.Status = StatusPartiallyRefunded // the amount-less partial refund
	}
	ev2 := EventSessionPartiallyRefunded
	if next.RefundedAmount >= next.Amount {
		ev2 = EventSessionRefunded
	}
	return apply(next, ev2, "%s", impliedPayment(s, reason))
}

// Expire closes an open session whose TTL passed. Processing sessions are
// not expired: money may be in flight, and reconciliation settles them.
func Expire(s SessionState) Transition {
	if s.Status != StatusOpen {
		return ignore(s, "only open sessions expire; session is %s", s.Status)
	}
	return apply(with(s, StatusExpired), EventSessionExpired, "session expired")
}

// Cancel closes an open session at the shopper's or merchant's request. A
// processing session cannot be canceled for the same reason it cannot
// expire: a payment may still complete.
func Cancel(s SessionState) Transition {
	if s.Status != StatusOpen {
		return ignore(s, "only open sessions can be canceled; session is %s", s.Status)
	}
	return apply(with(s, StatusCanceled), EventSessionCanceled, "session canceled")
}

// CanStartPayment reports whether the shopper may start a payment attempt.
func (s SessionStatus) CanStartPayment() bool { return s == StatusOpen }
