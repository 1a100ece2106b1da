package payments

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/store"
)

// SessionView is a checkout session as the merchant API shows it: the body
// of POST /v1/sessions and GET /v1/sessions/{id}, and the data of every
// session event. Field order is the JSON order. Amounts are decimal strings
// in the currency's major unit; times are RFC 3339 UTC; absent optional
// values are null.
type SessionView struct {
	SessionID      string               `json:"session_id"`
	CheckoutURL    string               `json:"checkout_url"`
	Status         domain.SessionStatus `json:"status"`
	Mode           domain.Mode          `json:"mode"`
	OrderID        string               `json:"order_id"`
	Domain         string               `json:"domain"`
	Amount         string               `json:"amount"`
	Currency       string               `json:"currency"`
	AmountRefunded string               `json:"amount_refunded"`
	// AmountReceived is what the provider confirmed was paid, in
	// CurrencyReceived (which differs from Currency only for a payment in
	// another currency); null until a payment is confirmed.
	AmountReceived   *string `json:"amount_received"`
	CurrencyReceived *string `json:"currency_received"`
	// ReviewReason is set while an operator review of the session's money
	// is open (amount_mismatch, currency_mismatch, refund_exceeds_payment,
	// dispute_exceeds_payment); null otherwise.
	ReviewReason  *string         `json:"review_reason"`
	Method        *string         `json:"method"`
	CustomerEmail *string         `json:"customer_email"`
	ReturnURL     *string         `json:"return_url"`
	CancelURL     *string         `json:"cancel_url"`
	IPNURL        *string         `json:"ipn_url"`
	Metadata      json.RawMessage `json:"metadata"`
	// Items are the session's items (docs/fulfillment.md); absent for a
	// session created without items.
	Items      json.RawMessage `json:"items,omitempty"`
	CreatedAt  string          `json:"created_at"`
	ExpiresAt  string          `json:"expires_at"`
	PaidAt     *string         `json:"paid_at"`
	CanceledAt *string         `json:"canceled_at"`
}

// timeFormat is RFC 3339 in UTC at second precision, as in the envelope.
const timeFormat = "2006-01-02T15:04:05Z"

func formatTime(t time.Time) string { return t.UTC().Format(timeFormat) }

func optTime(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := formatTime(*t)
	return &s
}

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// view builds the SessionView of a stored session.
func (s *Service) view(sess *store.Session) *SessionView {
	cur := domain.Currency(sess.Currency)
	md := sess.Metadata
	if md == "" {
		md = "{}"
	}
	v := &SessionView{
		SessionID:      sess.ID,
		CheckoutURL:    s.checkoutURL(sess.ID),
		Status:         sess.Status,
		Mode:           domain.Mode(sess.Mode),
		OrderID:        sess.OrderID,
		Domain:         sess.Domain,
		Amount:         domain.FormatAmount(sess.Amount, cur),
		Currency:       sess.Currency,
		AmountRefunded: domain.FormatAmount(sess.AmountRefunded, cur),
		ReviewReason:   optString(string(sess.ReviewReason)),
		Method:         optString(sess.Method),
		CustomerEmail:  optString(sess.CustomerEmail),
		ReturnURL:      optString(sess.ReturnURL),
		CancelURL:      optString(sess.CancelURL),
		IPNURL:         optString(sess.IPNURL),
		Metadata:       json.RawMessage(md),
		CreatedAt:      formatTime(sess.CreatedAt),
		ExpiresAt:      formatTime(sess.ExpiresAt),
		PaidAt:         optTime(sess.PaidAt),
		CanceledAt:     optTime(sess.CanceledAt),
	}
	if sess.Items != "" {
		v.Items = json.RawMessage(sess.Items)
	}
	if sess.AmountReceived > 0 && sess.CurrencyReceived != "" {
		received := domain.FormatAmount(sess.AmountReceived, domain.Currency(sess.CurrencyReceived))
		v.AmountReceived, v.CurrencyReceived = &received, optString(sess.CurrencyReceived)
	}
	return v
}

// renderSession is the one serializer of sessions: every response body and
// event payload that shows a session comes from here.
func (s *Service) renderSession(sess *store.Session) ([]byte, error) {
	return RenderView(s.view(sess))
}

// RenderView serializes a SessionView exactly as the API sends it (compact
// JSON, no trailing newline). The HTTP layer writes these bytes as they are.
func RenderView(v *SessionView) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("render session: %w", err)
	}
	return b, nil
}
