package domain

import (
	"slices"
	"time"
)

// RefundIDPrefix starts a refund id: "re_" + ULID, like the other ids.
const RefundIDPrefix = "re_"

// NewRefundID returns a refund id "re_01…".
func NewRefundID() string { return newID(RefundIDPrefix, time.Now()) }

// ValidRefundID reports whether s is a well-formed refund id.
func ValidRefundID(s string) bool { return validPrefixed(s, RefundIDPrefix) }

// RefundStatus is where a refund is: pending until the provider settles it,
// then succeeded or failed for good.
type RefundStatus string

const (
	RefundPending   RefundStatus = "pending"
	RefundSucceeded RefundStatus = "succeeded"
	RefundFailed    RefundStatus = "failed"
)

// RefundReason is why the merchant refunds (Stripe's reasons plus other).
type RefundReason string

const (
	RefundRequestedByCustomer RefundReason = "requested_by_customer"
	RefundDuplicate           RefundReason = "duplicate"
	RefundFraudulent          RefundReason = "fraudulent"
	RefundOther               RefundReason = "other"
)

// RefundReasons lists the reasons a refund may give, the default first.
func RefundReasons() []RefundReason {
	return []RefundReason{RefundRequestedByCustomer, RefundDuplicate, RefundFraudulent, RefundOther}
}

// ParseRefundReason accepts a reason exactly as spelled above; "" means
// requested_by_customer, the common case.
func ParseRefundReason(s string) (RefundReason, error) {
	if s == "" {
		return RefundRequestedByCustomer, nil
	}
	if r := RefundReason(s); slices.Contains(RefundReasons(), r) {
		return r, nil
	}
	return "", Invalid("invalid_reason", "reason", "reason must be one of requested_by_customer, duplicate, fraudulent, other")
}

// RefundSource says who started a refund.
type RefundSource string

const (
	// RefundSourceAPI: a merchant through the merchant API.
	RefundSourceAPI RefundSource = "api"
	// RefundSourceOperator: an operator through the admin API or the CLI.
	RefundSourceOperator RefundSource = "operator"
	// RefundSourceProvider: made upstream (the provider's dashboard) and
	// learned from the provider's refund webhook.
	RefundSourceProvider RefundSource = "provider"
)

// Outbound events of refunds. Their data is the refund object; they are
// numbered in the sequence of the refund's session.
const (
	EventRefundCreated   DomainEvent = "refund.created"
	EventRefundSucceeded DomainEvent = "refund.succeeded"
	EventRefundFailed    DomainEvent = "refund.failed"
)

// RefundState is what decides whether a session can be refunded and how
// much: the session's status, dispute, what was received, what was
// refunded and what refunds still pending have reserved.
type RefundState struct {
	Status   SessionStatus
	Dispute  DisputeState
	Currency Currency
	// ReceivedCurrency is the currency the provider confirmed, "" when none.
	ReceivedCurrency Currency
	// Base is what refunds are counted against (SessionState.RefundBase).
	Base     int64
	Refunded int64
	Pending  int64
}

// Refundable is what is left to refund: base minus refunded and pending.
func (s RefundState) Refundable() int64 { return max(0, s.Base-s.Refunded-s.Pending) }

// CheckRefund decides whether a refund of amount (minor units; 0 means
// everything left) may be created. It returns the amount to refund and,
// when nothing was refunded or reserved before and the refund takes
// everything, full = true (providers are then asked to refund the whole
// payment). Each refusal has its own code:
//   - not_refundable (409, field session_id): the session received no
//     money (open, processing, expired, canceled);
//   - session_disputed (409, field session_id): a chargeback is open or
//     was lost;
//   - currency_mismatch (409, field session_id): a session held for review
//     because the money arrived in another currency (an operator resolves
//     that review);
//   - already_refunded (409, field session_id): nothing is left to refund
//     (pending refunds included);
//   - amount_exceeds_refundable (422, field amount): more than is left.
func CheckRefund(s RefundState, amount int64) (refund int64, full bool, err error) {
	conflict := func(code, format string, args ...any) error {
		e := Conflict(code, format, args...)
		e.Field = "session_id"
		return e
	}
	switch {
	case !s.Status.MoneyReceived() && s.Status != StatusRequiresReview:
		return 0, false, conflict("not_refundable", "the session is %s: only a session that received money can be refunded", s.Status)
	case s.Dispute == DisputeOpen || s.Dispute == DisputeLost:
		return 0, false, conflict("session_disputed", "the payment is disputed (chargeback %s): it cannot be refunded", s.Dispute)
	case s.Status == StatusRequiresReview && s.ReceivedCurrency != "" && s.ReceivedCurrency != s.Currency:
		return 0, false, conflict("currency_mismatch", "the payment arrived in %s, not the session's %s: an operator resolves it (review)", s.ReceivedCurrency, s.Currency)
	}
	left := s.Refundable()
	if left <= 0 {
		if s.Pending > 0 {
			return 0, false, conflict("already_refunded", "nothing is left to refund: refunds of the rest are pending")
		}
		return 0, false, conflict("already_refunded", "the session is already fully refunded")
	}
	if amount == 0 {
		amount = left
	}
	if amount > left {
		return 0, false, Unprocessable("amount_exceeds_refundable", "amount", "amount exceeds what is left to refund (%s %s)",
			FormatAmount(left, s.Currency), s.Currency)
	}
	return amount, amount == s.Base && s.Refunded == 0 && s.Pending == 0, nil
}
