package refunds

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/store"
)

// RefundView is a refund as the merchant API shows it: the body of POST
// /v1/sessions/{id}/refunds and GET /v1/refunds/{id}, an entry of the
// session's refund list and the data of every refund.* event. Field order
// is the JSON order; amounts are decimal strings in the currency's major
// unit; times RFC 3339 UTC; absent values null.
type RefundView struct {
	RefundID          string              `json:"refund_id"`
	SessionID         string              `json:"session_id"`
	Status            domain.RefundStatus `json:"status"`
	Amount            string              `json:"amount"`
	Currency          string              `json:"currency"`
	Reason            domain.RefundReason `json:"reason"`
	Source            domain.RefundSource `json:"source"`
	ProviderReference *string             `json:"provider_reference"`
	FailureCode       *string             `json:"failure_code"`
	FailureMessage    *string             `json:"failure_message"`
	Metadata          json.RawMessage     `json:"metadata"`
	Mode              domain.Mode         `json:"mode"`
	CreatedAt         string              `json:"created_at"`
	SettledAt         *string             `json:"settled_at"`
}

// ListView is a page of refunds, newest first.
type ListView struct {
	Data    []*RefundView `json:"data"`
	HasMore bool          `json:"has_more"`
}

const timeFormat = "2006-01-02T15:04:05Z"

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// View renders a stored refund.
func View(rf *store.Refund) *RefundView {
	md := rf.Metadata
	if md == "" {
		md = "{}"
	}
	v := &RefundView{
		RefundID:          rf.ID,
		SessionID:         rf.SessionID,
		Status:            rf.Status,
		Amount:            domain.FormatAmount(rf.Amount, domain.Currency(rf.Currency)),
		Currency:          rf.Currency,
		Reason:            rf.Reason,
		Source:            rf.Source,
		ProviderReference: optString(rf.ProviderRefundID),
		FailureCode:       optString(rf.FailureCode),
		FailureMessage:    optString(rf.FailureMessage),
		Metadata:          json.RawMessage(md),
		Mode:              domain.Mode(rf.Mode),
		CreatedAt:         rf.CreatedAt.UTC().Format(timeFormat),
	}
	if rf.SettledAt != nil {
		s := rf.SettledAt.UTC().Format(timeFormat)
		v.SettledAt = &s
	}
	return v
}

// Render serializes a view exactly as the API sends it (compact JSON).
func Render(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("render refund: %w", err)
	}
	return b, nil
}

// settledNow is the settled_at of a refund settled at t.
func settledNow(t time.Time) *time.Time { return &t }
