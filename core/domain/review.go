package domain

import "fmt"

// ReviewReason says why money on a session needs an operator.
type ReviewReason string

const (
	// ReviewAmountMismatch: the provider confirmed another amount than the
	// session's, in its currency. Less holds the session in
	// requires_review; more pays it and flags it.
	ReviewAmountMismatch ReviewReason = "amount_mismatch"
	// ReviewCurrencyMismatch: the provider confirmed a payment (or a
	// partial refund) in another currency than the session's.
	ReviewCurrencyMismatch ReviewReason = "currency_mismatch"
	// ReviewRefundExceedsPayment: a refund larger than what was left to
	// refund; what fits was applied, the rest is for the operator.
	ReviewRefundExceedsPayment ReviewReason = "refund_exceeds_payment"
	// ReviewDisputeExceedsPayment: a chargeback for more than was paid.
	ReviewDisputeExceedsPayment ReviewReason = "dispute_exceeds_payment"
)

// ReviewReasons lists every reason.
func ReviewReasons() []ReviewReason {
	return []ReviewReason{ReviewAmountMismatch, ReviewCurrencyMismatch, ReviewRefundExceedsPayment, ReviewDisputeExceedsPayment}
}

// ReviewFinding is what the state machine found wrong with an event's
// money: the amount the session expected there and the amount the
// provider reported, each in minor units of its currency.
type ReviewFinding struct {
	Reason ReviewReason
	// Event is the kind of provider event that raised it.
	Event            PaymentEventKind
	Expected         int64
	ExpectedCurrency Currency
	Got              int64
	GotCurrency      Currency
	Detail           string
}

// ReviewStatus is where a review is in its life.
type ReviewStatus string

const (
	// ReviewOpen: waiting for an operator.
	ReviewOpen ReviewStatus = "open"
	// ReviewRefundPending: the operator decided the money goes back; the
	// review closes when the provider reports the refund (see Resolution).
	ReviewRefundPending ReviewStatus = "refund_pending"
	// ReviewResolved: closed.
	ReviewResolved ReviewStatus = "resolved"
)

// ParseReviewStatus accepts a status exactly as spelled above.
func ParseReviewStatus(s string) (ReviewStatus, error) {
	switch st := ReviewStatus(s); st {
	case ReviewOpen, ReviewRefundPending, ReviewResolved:
		return st, nil
	}
	return "", Invalid("invalid_status", "status", "review status must be open, refund_pending or resolved, got %q", s)
}

// ReviewResolution is how a review was closed.
type ReviewResolution string

const (
	// ResolutionAccept: the operator accepts the money as it is. A session
	// held in requires_review becomes paid; a flag on a paid session is
	// acknowledged.
	ResolutionAccept ReviewResolution = "accept"
	// ResolutionRefund: the operator decided the money goes back to the
	// shopper. The decision is recorded (refund_pending) with the amount to
	// return; the refund itself is made at the provider (today in its
	// dashboard; by the refunds service once it exists), and the provider's
	// refund event closes the review as ResolutionRefunded.
	ResolutionRefund ReviewResolution = "refund"
	// ResolutionRefunded: the provider reported the money returned.
	ResolutionRefunded ReviewResolution = "refunded"
)

// ParseReviewAction accepts the actions an operator can take.
func ParseReviewAction(s string) (ReviewResolution, error) {
	switch r := ReviewResolution(s); r {
	case ResolutionAccept, ResolutionRefund:
		return r, nil
	}
	return "", Invalid("invalid_action", "action", "action must be accept or refund, got %q", s)
}

// AcceptHeld settles a session that was held in requires_review because an
// operator accepted the money received: it becomes paid (or whatever its
// refunds and dispute make it) with a session.paid event.
func AcceptHeld(s SessionState) Transition {
	if s.Status != StatusRequiresReview {
		return ignore(s, "session is %s, not held for review", s.Status)
	}
	next := s
	next.Status = settledStatus(next)
	return apply(next, EventSessionPaid, "operator accepted %s for a session of %s",
		Money{Amount: s.Received, Currency: s.ReceivedCurrency}, Money{Amount: s.Amount, Currency: s.Currency})
}

// RefundDue is the money an operator's refund decision sends back for a
// finding: all that was received when the session was held, the excess
// when it was paid with more than asked. Refund and dispute findings have
// nothing to send back (the money already moved): ok is false.
func RefundDue(f ReviewFinding, held bool) (Money, bool) {
	switch {
	case f.Event != PaymentSucceeded:
		return Money{}, false
	case held:
		return Money{Amount: f.Got, Currency: f.GotCurrency}, f.Got > 0
	case f.GotCurrency == f.ExpectedCurrency && f.Got > f.Expected:
		return Money{Amount: f.Got - f.Expected, Currency: f.GotCurrency}, true
	}
	return Money{}, false
}

// String renders a finding for logs.
func (f ReviewFinding) String() string {
	return fmt.Sprintf("%s: %s", f.Reason, f.Detail)
}
