package domain

import "fmt"

// SessionStatus is the merchant-visible state of a checkout session: DESIGN
// §4's list plus requires_review (issue 11), for money a provider confirmed
// that does not match the session (less, or another currency) and that an
// operator must accept or send back. There is deliberately no "failed": a
// failed payment attempt leaves the session open so the shopper can try
// another method; failure is recorded on the attempt and announced as
// session.failed.
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
	// StatusRequiresReview: a provider confirmed a payment that is not the
	// session's amount and currency (underpaid, or another currency). It is
	// not paid; the order stays held until an operator resolves it.
	StatusRequiresReview SessionStatus = "requires_review"
)

// SessionStatuses lists every status.
func SessionStatuses() []SessionStatus {
	return []SessionStatus{
		StatusOpen, StatusProcessing, StatusPaid, StatusExpired, StatusCanceled,
		StatusRefunded, StatusPartiallyRefunded, StatusDisputed, StatusRequiresReview,
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

// MoneyReceived reports whether the status implies the shopper paid and the
// payment was accepted: such a session never returns to a pre-payment
// status. requires_review is not one of them (the money is not accepted),
// though it never returns to a pre-payment status either.
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

// HoldsOrder reports whether a session in this status keeps its order from
// getting another session: open or processing (at most one), money
// received, or money held for review.
func (s SessionStatus) HoldsOrder() bool {
	return s == StatusOpen || s == StatusProcessing || s == StatusRequiresReview || s.MoneyReceived()
}

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
	// EventSessionAmountMismatch: a review was opened for the session (money
	// that does not match it, or a refund or dispute beyond what was paid);
	// data.review_reason says which.
	EventSessionAmountMismatch DomainEvent = "session.amount_mismatch"
)

// DomainEvents lists every outbound event type, e.g. for endpoint
// subscription filters.
func DomainEvents() []DomainEvent {
	return append([]DomainEvent{
		EventSessionCreated, EventSessionProcessing, EventSessionPaid, EventSessionFailed,
		EventSessionExpired, EventSessionCanceled, EventSessionRefunded,
		EventSessionPartiallyRefunded, EventSessionDisputed, EventSessionDisputeWon,
		EventSessionDisputeLost, EventSessionAmountMismatch,
		EventRefundCreated, EventRefundSucceeded, EventRefundFailed,
	}, append(domainLifecycleEvents(), FulfillmentEvents()...)...)
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
// session. The payments service persists all of it and passes it back in on
// the next event.
type SessionState struct {
	Status   SessionStatus
	Amount   int64    // session total, minor units of Currency
	Currency Currency // the session's currency
	// Received is the amount a provider confirmed was paid, in minor units
	// of ReceivedCurrency; 0 until one is confirmed (sessions paid before
	// confirmation was recorded have none either).
	Received         int64
	ReceivedCurrency Currency
	RefundedAmount   int64 // cumulative refunds, minor units, 0..RefundBase
	Dispute          DisputeState
}

// RefundBase is what refunds of this session are counted against: what
// the provider confirmed was received when it is in the session's currency
// and not above the session amount, else the session amount. (Refunds
// never exceed the session amount; money received beyond it was flagged
// for an operator when it arrived.)
func (s SessionState) RefundBase() int64 {
	if s.Received > 0 && s.ReceivedCurrency == s.Currency && s.Received < s.Amount {
		return s.Received
	}
	return s.Amount
}

// PaymentEvent is a normalized provider event as the state machine sees it.
type PaymentEvent struct {
	Kind PaymentEventKind
	// Amount and Currency are what the provider confirms. For
	// payment.succeeded they are compared with the session's: the session
	// is paid only when both equal it, and 0 or "" means not confirmed
	// (the payments service asks the provider first). For refunds Amount
	// is what this refund returns (not a running total), for a dispute the
	// disputed amount; payment.refunded always completes the refund.
	Amount   int64
	Currency Currency
}

// Confirmed reports whether the event states an amount and a currency.
func (e PaymentEvent) Confirmed() bool { return e.Amount > 0 && e.Currency != "" }

// Transition is the outcome of one input. When Apply is false nothing is
// written except the raw event record (Next equals the current state and
// DomainEvent is empty); Reason explains why, for the event log and
// diagnostics. When Apply is true, Next is persisted and DomainEvent, if
// set, is emitted in the same transaction. Review, when set (whether or not
// Apply is), opens an operator review: the service stores it and emits
// session.amount_mismatch unless DomainEvent already is that event.
type Transition struct {
	Next        SessionState
	Apply       bool
	DomainEvent DomainEvent
	Reason      string
	Review      *ReviewFinding
	// Unconfirmed is set for a payment.succeeded without a confirmed amount:
	// the attempt stays in processing for reconciliation to ask again.
	Unconfirmed bool
}

func ignore(s SessionState, format string, args ...any) Transition {
	return Transition{Next: s, Reason: fmt.Sprintf(format, args...)}
}

func apply(next SessionState, ev DomainEvent, format string, args ...any) Transition {
	return Transition{Next: next, Apply: true, DomainEvent: ev, Reason: fmt.Sprintf(format, args...)}
}

// settledStatus is the status of a session whose payment was accepted,
// derived from its refunds and dispute rather than stored separately, so a
// won dispute restores exactly paid / partially_refunded / refunded.
func settledStatus(s SessionState) SessionStatus {
	switch {
	case s.Dispute == DisputeOpen || s.Dispute == DisputeLost:
		return StatusDisputed
	case s.RefundedAmount <= 0:
		return StatusPaid
	case s.RefundedAmount < s.RefundBase():
		return StatusPartiallyRefunded
	default:
		return StatusRefunded
	}
}

// statusAfterMoney is the status after a refund or dispute: a session held
// for review stays held until it is fully refunded (the money went back,
// so there is nothing left to review); any other session settles.
func statusAfterMoney(s SessionState) SessionStatus {
	if s.Status == StatusRequiresReview && s.RefundedAmount < s.RefundBase() {
		return StatusRequiresReview
	}
	return settledStatus(s)
}

// ApplyEvent decides what a provider event does to a session. It is pure:
// the payments service loads the state, calls it, and persists the result
// together with the raw event and the domain event.
//
// Rules (the exhaustive table is in session_test.go):
//   - Status never moves backwards: payment.processing or payment.failed
//     after money arrived is recorded, not applied; a duplicate is ignored.
//   - payment.succeeded makes a session paid only when the confirmed amount
//     and currency equal the session's. Less money or another currency
//     makes it requires_review (review amount_mismatch / currency_mismatch,
//     event session.amount_mismatch); more money makes it paid and opens
//     the same review. Without a confirmed amount an open session becomes
//     processing and nothing is settled (reconciliation asks again).
//   - Money-moving events always apply, even on an expired or canceled
//     session: payment.succeeded there settles as above ("late payment").
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
//     amount); when they reach what was paid (RefundBase) the session is
//     refunded. payment.refunded means "now fully refunded" (as the SDK
//     defines it), so it sets the refunded amount to the base whatever its
//     own amount. A refund beyond what is left to refund, or in another
//     currency, is never applied blindly: what fits is applied and a
//     review (refund_exceeds_payment / currency_mismatch) records the rest.
//   - A dispute sets disputed. Won restores the money status from the
//     refunds; lost keeps disputed for good (DESIGN has no chargeback
//     status; the dispute state says it was lost). Refunds during a dispute
//     are counted but the status stays disputed. Once a dispute is closed,
//     later dispute events for it are ignored. A disputed amount beyond
//     what was paid opens a dispute_exceeds_payment review.
//   - A session in requires_review takes no further payment.succeeded
//     (recorded for the operator); refunds and disputes are counted, and a
//     full refund ends the review's hold (refunded).
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
		return applySuccess(s, ev)

	case PaymentRefunded, PaymentPartiallyRefunded:
		return applyRefund(s, ev)

	case PaymentDisputed:
		if s.Dispute != DisputeNone {
			return ignore(s, "duplicate or late: dispute already %s", s.Dispute)
		}
		next := s
		next.Dispute = DisputeOpen
		next.Status = statusAfterMoney(next)
		tr := apply(next, EventSessionDisputed, "%s", impliedPayment(s, "payment disputed"))
		if base := s.RefundBase(); ev.Amount > base && (ev.Currency == "" || ev.Currency == s.Currency) {
			tr.Review = &ReviewFinding{Reason: ReviewDisputeExceedsPayment, Event: ev.Kind, Expected: base, ExpectedCurrency: s.Currency,
				Got: ev.Amount, GotCurrency: s.Currency,
				Detail: fmt.Sprintf("disputed amount %s exceeds the %s paid", FormatAmount(ev.Amount, s.Currency), FormatAmount(base, s.Currency))}
			tr.Reason += "; " + tr.Review.Detail + " (flagged for review)"
		}
		return tr

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
		next.Status = statusAfterMoney(next)
		if next.Status == StatusPaid && !s.Status.MoneyReceived() {
			// A won dispute implies a payment whose amount was never
			// confirmed: that is not paid. The dispute state is kept and
			// the session waits, like an unconfirmed success, for
			// reconciliation to confirm the payment.
			next.Status = s.Status
			if s.Status == StatusOpen {
				next.Status = StatusProcessing
			}
			tr := apply(next, ev2, "%s; the payment's amount is not confirmed yet: not paid", impliedPayment(s, what))
			tr.Unconfirmed = true
			return tr
		}
		return apply(next, ev2, "%s", impliedPayment(s, what))
	}
	return ignore(s, "unknown payment event %q", ev.Kind)
}

// applySuccess compares the confirmed amount and currency with the
// session's before settling anything.
func applySuccess(s SessionState, ev PaymentEvent) Transition {
	switch {
	case s.Status.MoneyReceived():
		return ignore(s, "duplicate or stale: session already %s", s.Status)
	case s.Status == StatusRequiresReview:
		return ignore(s, "session is held for review; a further payment report is recorded for the operator, not applied")
	}
	if !ev.Confirmed() {
		const why = "payment reported succeeded without a confirmed amount and currency"
		if s.Status == StatusOpen {
			tr := apply(with(s, StatusProcessing), EventSessionProcessing, "%s: held in processing until the provider confirms them", why)
			tr.Unconfirmed = true
			return tr
		}
		tr := ignore(s, "%s: not settled (session %s); reconciliation asks the provider again", why, s.Status)
		tr.Unconfirmed = true
		return tr
	}
	reason := "payment succeeded"
	if s.Status.Closed() {
		reason = fmt.Sprintf("late payment on %s session", s.Status)
	}
	next := s
	next.Received, next.ReceivedCurrency = ev.Amount, ev.Currency
	got, want := Money{Amount: ev.Amount, Currency: ev.Currency}, Money{Amount: s.Amount, Currency: s.Currency}
	finding := &ReviewFinding{Event: ev.Kind, Expected: s.Amount, ExpectedCurrency: s.Currency, Got: ev.Amount, GotCurrency: ev.Currency}
	switch {
	case ev.Currency != s.Currency:
		finding.Reason = ReviewCurrencyMismatch
		finding.Detail = fmt.Sprintf("received %s for a session of %s", got, want)
		next.Status = StatusRequiresReview
		tr := apply(next, EventSessionAmountMismatch, "%s; %s: held for review, not paid", reason, finding.Detail)
		tr.Review = finding
		return tr
	case ev.Amount < s.Amount:
		finding.Reason = ReviewAmountMismatch
		finding.Detail = fmt.Sprintf("received %s, less than the session's %s", got, want)
		next.Status = StatusRequiresReview
		tr := apply(next, EventSessionAmountMismatch, "%s; %s: held for review, not paid", reason, finding.Detail)
		tr.Review = finding
		return tr
	case ev.Amount > s.Amount:
		finding.Reason = ReviewAmountMismatch
		finding.Detail = fmt.Sprintf("received %s, more than the session's %s", got, want)
		next.Status = settledStatus(next)
		tr := apply(next, EventSessionPaid, "%s; %s: paid, and flagged for review", reason, finding.Detail)
		tr.Review = finding
		return tr
	}
	next.Status = settledStatus(next)
	return apply(next, EventSessionPaid, "%s; %s confirmed", reason, got)
}

// impliedPayment notes in the reason when an event reveals a payment the
// session had not seen yet (its payment.succeeded is late or lost).
func impliedPayment(s SessionState, what string) string {
	if s.Status.MoneyReceived() || s.Status == StatusRequiresReview {
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
	base := s.RefundBase()
	remaining := base - s.RefundedAmount
	if remaining <= 0 {
		return ignore(s, "duplicate or stale: session already fully refunded")
	}
	amount := ev.Amount
	reason := "refund"
	var finding *ReviewFinding
	otherCurrency := ev.Currency != "" && ev.Currency != s.Currency
	switch {
	case ev.Kind == PaymentRefunded:
		// The provider says the payment is now fully refunded; if the
		// amounts do not add up, an earlier partial refund event was lost
		// or is still on its way, and the provider's word on the end state
		// wins (a late partial refund then finds nothing left). A refund
		// larger than what is left is applied as full and flagged.
		reason = "full refund"
		if amount != 0 && !otherCurrency && amount != remaining {
			reason = fmt.Sprintf("full refund (event amount %d, remaining %d)", amount, remaining)
		}
		if amount > remaining && !otherCurrency {
			finding = &ReviewFinding{Reason: ReviewRefundExceedsPayment, Event: ev.Kind, Expected: remaining, ExpectedCurrency: s.Currency,
				Got: amount, GotCurrency: s.Currency,
				Detail: fmt.Sprintf("refund of %s exceeds the %s left to refund", FormatAmount(amount, s.Currency), FormatAmount(remaining, s.Currency))}
		}
		amount = remaining
	case otherCurrency:
		// A partial refund in another currency cannot be counted against
		// the session: it is recorded and flagged, not applied.
		tr := ignore(s, "partial refund of %d %s in a currency other than the session's %s: not applied, flagged for review", amount, ev.Currency, s.Currency)
		tr.Review = &ReviewFinding{Reason: ReviewCurrencyMismatch, Event: ev.Kind, Expected: remaining, ExpectedCurrency: s.Currency,
			Got: amount, GotCurrency: ev.Currency,
			Detail: fmt.Sprintf("partial refund of %d minor units of %s for a %s session", amount, ev.Currency, s.Currency)}
		return tr
	case amount == 0:
		// Money moved but we do not know how much: record the state change
		// without inventing an amount; reconciliation can fill it in.
		reason = "partial refund without amount"
	case amount > remaining:
		finding = &ReviewFinding{Reason: ReviewRefundExceedsPayment, Event: ev.Kind, Expected: remaining, ExpectedCurrency: s.Currency,
			Got: amount, GotCurrency: s.Currency,
			Detail: fmt.Sprintf("refund of %s exceeds the %s left to refund", FormatAmount(amount, s.Currency), FormatAmount(remaining, s.Currency))}
		amount = remaining
	}
	if finding != nil {
		reason += "; " + finding.Detail + ": the remainder is applied and the excess flagged for review"
	}
	next := s
	next.RefundedAmount += amount
	next.Status = statusAfterMoney(next)
	if next.Status == StatusPaid {
		next.Status = StatusPartiallyRefunded // the amount-less partial refund
	}
	ev2 := EventSessionPartiallyRefunded
	if next.RefundedAmount >= base {
		ev2 = EventSessionRefunded
	}
	tr := apply(next, ev2, "%s", impliedPayment(s, reason))
	tr.Review = finding
	return tr
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
