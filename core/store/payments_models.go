package store

import (
	"time"

	"github.com/uptrace/bun"

	"github.com/switchyard/switchyard/core/domain"
)

// Session is a checkout session row. Money columns are minor units of
// Currency. Metadata is the JSON object text the payments service rendered;
// the store never interprets it.
type Session struct {
	bun.BaseModel `bun:"table:sessions,alias:sess"`

	ID             string               `bun:"id,pk"`
	MerchantID     int64                `bun:"merchant_id,notnull"`
	Mode           KeyMode              `bun:"mode,notnull"`
	Status         domain.SessionStatus `bun:"status,notnull"`
	Domain         string               `bun:"domain,notnull"`
	OrderID        string               `bun:"order_id,notnull"`
	Amount         int64                `bun:"amount,notnull"`
	Currency       string               `bun:"currency,notnull"`
	Method         string               `bun:"method,nullzero"`
	ReturnURL      string               `bun:"return_url,notnull"`
	CancelURL      string               `bun:"cancel_url,notnull"`
	IPNURL         string               `bun:"ipn_url,notnull"` // added by migration 0003
	CustomerEmail  string               `bun:"customer_email,notnull"`
	Metadata       string               `bun:"metadata,notnull"`
	AmountRefunded int64                `bun:"amount_refunded,notnull"`
	Dispute        domain.DisputeState  `bun:"dispute,notnull"`
	// AmountReceived and CurrencyReceived are what a provider confirmed
	// (migration 0010); zero/empty (NULL) until one is confirmed.
	AmountReceived   int64  `bun:"amount_received,nullzero"`
	CurrencyReceived string `bun:"currency_received,nullzero"`
	// ReviewReason is the reason of the latest open review, "" when none.
	ReviewReason domain.ReviewReason `bun:"review_reason,notnull"`
	// AmountRefundPending is what pending refunds reserved (migration
	// 0030). Only the refunds repository writes it, with conditional
	// updates; UpdateSession leaves it alone.
	AmountRefundPending int64 `bun:"amount_refund_pending,notnull"`
	// Items is the session's items as the API shows them (JSON array
	// text, no secrets), NULL for a session without items (migration
	// 0051). Only Repo.InsertSessionItems writes it.
	Items      string     `bun:"items,nullzero"`
	EventSeq   int64      `bun:"event_seq,notnull"`
	ExpiresAt  time.Time  `bun:"expires_at,notnull"`
	PaidAt     *time.Time `bun:"paid_at"`
	CanceledAt *time.Time `bun:"canceled_at"`
	CreatedAt  time.Time  `bun:"created_at,notnull"`
	UpdatedAt  time.Time  `bun:"updated_at,notnull"`
}

// State is the part of the session the domain state machine works on.
func (s *Session) State() domain.SessionState {
	return domain.SessionState{Status: s.Status, Amount: s.Amount, Currency: domain.Currency(s.Currency),
		Received: s.AmountReceived, ReceivedCurrency: domain.Currency(s.CurrencyReceived),
		RefundedAmount: s.AmountRefunded, Dispute: s.Dispute}
}

// SetState writes a state machine result back onto the session.
func (s *Session) SetState(st domain.SessionState) {
	s.Status, s.AmountRefunded, s.Dispute = st.Status, st.RefundedAmount, st.Dispute
	s.AmountReceived, s.CurrencyReceived = st.Received, string(st.ReceivedCurrency)
}

// AttemptStatus is the state of one provider payment attempt.
type AttemptStatus string

const (
	AttemptPending    AttemptStatus = "pending"
	AttemptProcessing AttemptStatus = "processing"
	AttemptSucceeded  AttemptStatus = "succeeded"
	AttemptFailed     AttemptStatus = "failed"
)

// PaymentAttempt is one try at collecting a session's payment through one
// provider instance. Reason records why routing chose that provider; Seq
// numbers a session's attempts from 1. RedirectURL is the provider page the
// shopper was sent to, empty when the provider needed no redirect (or the
// attempt predates migration 0006); UpdateAttempt leaves it alone, use
// RecordAttemptOutcome to write it.
type PaymentAttempt struct {
	bun.BaseModel `bun:"table:payment_attempts,alias:pa"`

	ID          string        `bun:"id,pk"`
	SessionID   string        `bun:"session_id,notnull"`
	Seq         int64         `bun:"seq,notnull"`
	ProviderID  string        `bun:"provider_id,notnull"`
	Method      string        `bun:"method,notnull"`
	Status      AttemptStatus `bun:"status,notnull"`
	ProviderRef string        `bun:"provider_ref,nullzero"`
	Reason      string        `bun:"reason,notnull"`
	Error       string        `bun:"error,notnull"`
	RedirectURL string        `bun:"redirect_url,nullzero"` // added by migration 0006
	CreatedAt   time.Time     `bun:"created_at,notnull"`
	UpdatedAt   time.Time     `bun:"updated_at,notnull"`
}

// Event is an outbound domain event (session.paid …). Data is the session
// exactly as the status endpoint renders it, stored as text so it reads back
// byte for byte. Seq orders a session's events.
type Event struct {
	bun.BaseModel `bun:"table:events,alias:ev"`

	ID         string    `bun:"id,pk"`
	MerchantID int64     `bun:"merchant_id,notnull"`
	Mode       KeyMode   `bun:"mode,notnull"`
	SessionID  string    `bun:"session_id,notnull"`
	Type       string    `bun:"type,notnull"`
	Seq        int64     `bun:"seq,notnull"`
	Data       string    `bun:"data,notnull"`
	CreatedAt  time.Time `bun:"created_at,notnull"`
}

// WebhookRequest is an inbound provider webhook, stored once its plugin
// has judged it: whole (Verified) when the plugin accepted it, before its
// events apply, so nothing is acknowledged that is not durable; as a
// bounded excerpt otherwise (Truncated when anything was cut), so
// unverified traffic cannot fill the disk. Headers is a JSON object of
// string arrays; BodySize is the body's length as received.
type WebhookRequest struct {
	bun.BaseModel `bun:"table:webhook_requests,alias:wr"`

	ID             int64     `bun:"id,pk,autoincrement"`
	ProviderID     string    `bun:"provider_id,notnull"`
	Method         string    `bun:"method,notnull"`
	Path           string    `bun:"path,notnull"`
	Query          string    `bun:"query,notnull"`
	Headers        string    `bun:"headers,notnull"`
	Body           []byte    `bun:"body,notnull"`
	RemoteAddr     string    `bun:"remote_addr,notnull"`
	ReceivedAt     time.Time `bun:"received_at,notnull"`
	ResponseStatus *int      `bun:"response_status"`
	Verified       bool      `bun:"verified,notnull"`
	BodySize       int64     `bun:"body_size,notnull"`
	Truncated      bool      `bun:"truncated,notnull"`
}

// ProviderEventOutcome says what applying a provider event did.
type ProviderEventOutcome string

const (
	// OutcomeApplied: the session changed.
	OutcomeApplied ProviderEventOutcome = "applied"
	// OutcomeRecorded: kept for the record, session unchanged (stale,
	// unknown session, failed after paid …); Reason says why.
	OutcomeRecorded ProviderEventOutcome = "recorded"
	// OutcomeIgnored: nothing to apply (test pings, event kinds the
	// session state machine does not handle).
	OutcomeIgnored ProviderEventOutcome = "ignored"
)

// ProviderEvent is a normalized event from a provider plugin. The unique
// (provider_id, provider_event_id) pair is the de-duplication key.
type ProviderEvent struct {
	bun.BaseModel `bun:"table:provider_events,alias:pe"`

	ID               int64                `bun:"id,pk,autoincrement"`
	ProviderID       string               `bun:"provider_id,notnull"`
	ProviderEventID  string               `bun:"provider_event_id,notnull"`
	WebhookRequestID *int64               `bun:"webhook_request_id"`
	Type             string               `bun:"type,notnull"`
	RawType          string               `bun:"raw_type,notnull"`
	SessionID        string               `bun:"session_id,nullzero"`
	ProviderRef      string               `bun:"provider_ref,notnull"`
	Payload          string               `bun:"payload,notnull"`
	Outcome          ProviderEventOutcome `bun:"outcome,notnull"`
	Reason           string               `bun:"reason,notnull"`
	ReceivedAt       time.Time            `bun:"received_at,notnull"`
}

// IdempotencyKey is a stored response to replay for a repeated
// Idempotency-Key. RequestHash identifies the request body it answered.
type IdempotencyKey struct {
	bun.BaseModel `bun:"table:idempotency_keys,alias:ik"`

	MerchantID     int64     `bun:"merchant_id,pk"`
	Mode           KeyMode   `bun:"mode,pk"`
	Key            string    `bun:"idem_key,pk"`
	RequestHash    string    `bun:"request_hash,notnull"`
	ResponseStatus int       `bun:"response_status,notnull"`
	ResponseBody   []byte    `bun:"response_body,notnull"`
	SessionID      string    `bun:"session_id,nullzero"`
	CreatedAt      time.Time `bun:"created_at,notnull"`
}

// Review is an operator review of money on a session (session_reviews):
// what the session expected, what the provider reported, and what the
// operator decided. Amounts are minor units of their own currencies.
type Review struct {
	bun.BaseModel `bun:"table:session_reviews,alias:rv"`

	ID               string                  `bun:"id,pk"`
	SessionID        string                  `bun:"session_id,notnull"`
	MerchantID       int64                   `bun:"merchant_id,notnull"`
	Mode             KeyMode                 `bun:"mode,notnull"`
	Reason           domain.ReviewReason     `bun:"reason,notnull"`
	Status           domain.ReviewStatus     `bun:"status,notnull"`
	EventKind        string                  `bun:"event_kind,notnull"`
	ProviderID       string                  `bun:"provider_id,notnull"`
	ProviderEventID  string                  `bun:"provider_event_id,notnull"`
	ExpectedAmount   int64                   `bun:"expected_amount,notnull"`
	ExpectedCurrency string                  `bun:"expected_currency,notnull"`
	ReceivedAmount   int64                   `bun:"received_amount,notnull"`
	ReceivedCurrency string                  `bun:"received_currency,notnull"`
	Detail           string                  `bun:"detail,notnull"`
	Resolution       domain.ReviewResolution `bun:"resolution,notnull"`
	RefundAmount     int64                   `bun:"refund_amount,notnull"`
	RefundCurrency   string                  `bun:"refund_currency,notnull"`
	ResolvedBy       string                  `bun:"resolved_by,notnull"`
	Note             string                  `bun:"note,notnull"`
	CreatedAt        time.Time               `bun:"created_at,notnull"`
	ResolvedAt       *time.Time              `bun:"resolved_at"`
}

// Finding is the review's finding as the domain sees it.
func (r *Review) Finding() domain.ReviewFinding {
	return domain.ReviewFinding{Reason: r.Reason, Event: domain.PaymentEventKind(r.EventKind),
		Expected: r.ExpectedAmount, ExpectedCurrency: domain.Currency(r.ExpectedCurrency),
		Got: r.ReceivedAmount, GotCurrency: domain.Currency(r.ReceivedCurrency), Detail: r.Detail}
}
