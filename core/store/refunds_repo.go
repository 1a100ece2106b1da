package store

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/switchyard/switchyard/core/domain"
)

// Refund is one refund of a session's payment (table refunds). Amount is
// in minor units of Currency, always the session's. FullRefund records that
// the provider is asked to refund the whole payment (Amount was everything
// the session received and nothing had been refunded); the provider call
// sends the same request on every retry. Metadata is the JSON object text
// the refunds service rendered.
type Refund struct {
	bun.BaseModel `bun:"table:refunds,alias:rf"`

	ID         string              `bun:"id,pk"`
	SessionID  string              `bun:"session_id,notnull"`
	MerchantID int64               `bun:"merchant_id,notnull"`
	Mode       KeyMode             `bun:"mode,notnull"`
	ProviderID string              `bun:"provider_id,notnull"`
	AttemptID  string              `bun:"attempt_id,notnull"`
	Amount     int64               `bun:"amount,notnull"`
	Currency   string              `bun:"currency,notnull"`
	FullRefund bool                `bun:"full_refund,notnull"`
	Reason     domain.RefundReason `bun:"reason,notnull"`
	Metadata   string              `bun:"metadata,notnull"`
	Status     domain.RefundStatus `bun:"status,notnull"`
	Source     domain.RefundSource `bun:"source,notnull"`
	// ReviewID is the review whose money this refund sends back (issue
	// 11): such a refund reserves and counts nothing on the session, the
	// provider's refund event does.
	ReviewID         string     `bun:"review_id,nullzero"`
	ProviderRefundID string     `bun:"provider_refund_id,nullzero"`
	ProviderEventID  string     `bun:"provider_event_id,nullzero"`
	FailureCode      string     `bun:"failure_code,notnull"`
	FailureMessage   string     `bun:"failure_message,notnull"`
	CreatedAt        time.Time  `bun:"created_at,notnull"`
	UpdatedAt        time.Time  `bun:"updated_at,notnull"`
	SettledAt        *time.Time `bun:"settled_at"`
}

// refundBaseSQL is domain.SessionState.RefundBase in SQL: what the
// provider confirmed was received when it is in the session's currency
// and below the session amount, else the session amount. A test keeps the
// two in step.
const refundBaseSQL = `(CASE WHEN amount_received > 0 AND currency_received = currency AND amount_received < amount
	THEN amount_received ELSE amount END)`

// refundableStatuses are the session statuses that may take a refund
// (domain.CheckRefund): money received (domain.SessionStatus.MoneyReceived),
// or held for review; a dispute is excluded by its own column.
const refundableStatuses = `('paid', 'partially_refunded', 'refunded', 'disputed', 'requires_review')`

// ReserveRefund reserves amount of a session for a refund about to be
// created: amount_refund_pending grows by amount only if the session may
// be refunded (status, no dispute) and amount_refunded +
// amount_refund_pending stays within what the session received. This one
// conditional statement is what makes concurrent refunds safe: whatever
// any instance checked before, the database applies them one after the
// other and refuses the one that would exceed. ok is false when it did
// not fit.
func (r *Repo) ReserveRefund(ctx context.Context, sessionID string, amount int64, at time.Time) (ok bool, err error) {
	res, err := r.db.NewUpdate().Model((*Session)(nil)).
		Set("amount_refund_pending = amount_refund_pending + ?", amount).
		Set("updated_at = ?", at.UTC()).
		Where("id = ?", sessionID).
		Where("status IN "+refundableStatuses).
		Where("dispute NOT IN ('open', 'lost')").
		Where("(status <> 'requires_review' OR currency_received IS NULL OR currency_received = currency)").
		Where("? > 0", amount).
		Where("amount_refunded + amount_refund_pending + ? <= "+refundBaseSQL, amount).
		Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("reserve refund: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("reserve refund: %w", err)
	}
	return n == 1, nil
}

// ReleaseRefund gives back a reservation: amount leaves
// amount_refund_pending, and, when settled is true, joins amount_refunded
// (the refund succeeded). The caller holds the session (LockSession) and
// writes its status itself.
func (r *Repo) ReleaseRefund(ctx context.Context, sessionID string, amount int64, settled bool, at time.Time) error {
	q := r.db.NewUpdate().Model((*Session)(nil)).
		Set("amount_refund_pending = amount_refund_pending - ?", amount).
		Set("updated_at = ?", at.UTC()).
		Where("id = ?", sessionID).
		Where("amount_refund_pending >= ?", amount)
	if settled {
		q = q.Set("amount_refunded = amount_refunded + ?", amount)
	}
	res, err := q.Exec(ctx)
	if err != nil {
		return fmt.Errorf("release refund: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("release refund of %d on session %s: nothing reserved", amount, sessionID)
	}
	return nil
}

// InsertRefund stores a new refund.
func (r *Repo) InsertRefund(ctx context.Context, rf *Refund) error {
	if _, err := r.db.NewInsert().Model(rf).Exec(ctx); err != nil {
		return fmt.Errorf("insert refund: %w", err)
	}
	return nil
}

// GetRefund reads a refund by id.
func (r *Repo) GetRefund(ctx context.Context, id string) (*Refund, error) {
	rf := new(Refund)
	if err := r.db.NewSelect().Model(rf).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, notFound(err, "refund")
	}
	return rf, nil
}

// SettleRefund moves a pending refund to succeeded or failed, recording
// the upstream refund id (kept when already set) and the failure. Only a
// pending refund moves: settled is false when another settler (the
// provider's webhook, a retried job on another instance) got there first.
func (r *Repo) SettleRefund(ctx context.Context, rf *Refund, at time.Time) (settled bool, err error) {
	q := r.db.NewUpdate().Model(rf).
		Set("status = ?", rf.Status).
		Set("failure_code = ?", rf.FailureCode).
		Set("failure_message = ?", rf.FailureMessage).
		Set("updated_at = ?", at.UTC()).
		Set("settled_at = ?", at.UTC()).
		Where("id = ?", rf.ID).
		Where("status = ?", domain.RefundPending)
	if rf.ProviderRefundID != "" {
		q = q.Set("provider_refund_id = COALESCE(provider_refund_id, ?)", rf.ProviderRefundID)
	}
	if rf.ProviderEventID != "" {
		q = q.Set("provider_event_id = COALESCE(provider_event_id, ?)", rf.ProviderEventID)
	}
	res, err := q.Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("settle refund: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("settle refund: %w", err)
	}
	return n == 1, nil
}

// NoteRefundProvider records what the provider said about a refund without
// settling it: its upstream refund id, the webhook that confirmed it.
// Values already recorded are kept.
func (r *Repo) NoteRefundProvider(ctx context.Context, id, providerRefundID, providerEventID string, at time.Time) error {
	q := r.db.NewUpdate().Model((*Refund)(nil)).Set("updated_at = ?", at.UTC()).Where("id = ?", id)
	if providerRefundID != "" {
		q = q.Set("provider_refund_id = COALESCE(provider_refund_id, ?)", providerRefundID)
	}
	if providerEventID != "" {
		q = q.Set("provider_event_id = COALESCE(provider_event_id, ?)", providerEventID)
	}
	if _, err := q.Exec(ctx); err != nil {
		return fmt.Errorf("note refund: %w", err)
	}
	return nil
}

// RefundByProviderRef finds the refund an upstream refund id belongs to.
func (r *Repo) RefundByProviderRef(ctx context.Context, providerID, providerRefundID string) (*Refund, error) {
	rf := new(Refund)
	err := r.db.NewSelect().Model(rf).Where("provider_id = ? AND provider_refund_id = ?", providerID, providerRefundID).Scan(ctx)
	if err != nil {
		return nil, notFound(err, "refund")
	}
	return rf, nil
}

// UnconfirmedRefund returns the oldest refund of a session that no
// provider refund webhook confirmed yet, pending or succeeded, not itself
// learned from a webhook, of exactly amount (any amount when amount is 0).
// A refund webhook without a known refund id is matched to it.
func (r *Repo) UnconfirmedRefund(ctx context.Context, sessionID string, amount int64) (*Refund, error) {
	rf := new(Refund)
	q := r.db.NewSelect().Model(rf).
		Where("session_id = ?", sessionID).
		Where("status IN (?, ?)", domain.RefundPending, domain.RefundSucceeded).
		Where("provider_event_id IS NULL").
		Where("source <> ?", domain.RefundSourceProvider).
		OrderExpr("id ASC").Limit(1)
	if amount > 0 {
		q = q.Where("amount = ?", amount)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, notFound(err, "refund")
	}
	return rf, nil
}

// RefundFilter selects refunds to list, newest first.
type RefundFilter struct {
	MerchantID int64
	Mode       KeyMode
	SessionID  string
	Status     domain.RefundStatus
	// StartingAfter is a refund id: only older refunds are listed.
	StartingAfter string
	Limit         int
}

// ListRefunds lists refunds matching f, newest first, at most f.Limit
// (which must be positive).
func (r *Repo) ListRefunds(ctx context.Context, f RefundFilter) ([]*Refund, error) {
	out := []*Refund{}
	q := r.db.NewSelect().Model(&out).OrderExpr("id DESC").Limit(int64(f.Limit))
	if f.MerchantID != 0 {
		q = q.Where("merchant_id = ?", f.MerchantID)
	}
	if f.Mode != "" {
		q = q.Where("mode = ?", f.Mode)
	}
	if f.SessionID != "" {
		q = q.Where("session_id = ?", f.SessionID)
	}
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	if f.StartingAfter != "" {
		q = q.Where("id < ?", f.StartingAfter)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("list refunds: %w", err)
	}
	return out, nil
}

// RefundByProviderEvent finds the refund a provider event was matched to.
func (r *Repo) RefundByProviderEvent(ctx context.Context, providerID, providerEventID string) (*Refund, error) {
	rf := new(Refund)
	err := r.db.NewSelect().Model(rf).Where("provider_id = ? AND provider_event_id = ?", providerID, providerEventID).Limit(1).Scan(ctx)
	if err != nil {
		return nil, notFound(err, "refund")
	}
	return rf, nil
}

// GetAttempt reads a payment attempt by id.
func (r *Repo) GetAttempt(ctx context.Context, id string) (*PaymentAttempt, error) {
	a := new(PaymentAttempt)
	if err := r.db.NewSelect().Model(a).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, notFound(err, "payment attempt")
	}
	return a, nil
}

// ReviveRefund turns a failed refund into a succeeded one: the provider
// reported by its refund id that it did make it. ok is false when the
// refund was not failed.
func (r *Repo) ReviveRefund(ctx context.Context, id, providerEventID string, at time.Time) (ok bool, err error) {
	q := r.db.NewUpdate().Model((*Refund)(nil)).
		Set("status = ?", domain.RefundSucceeded).
		Set("failure_code = ''").
		Set("failure_message = ''").
		Set("updated_at = ?", at.UTC()).
		Set("settled_at = ?", at.UTC()).
		Where("id = ?", id).
		Where("status = ?", domain.RefundFailed)
	if providerEventID != "" {
		q = q.Set("provider_event_id = COALESCE(provider_event_id, ?)", providerEventID)
	}
	res, err := q.Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("revive refund: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("revive refund: %w", err)
	}
	return n == 1, nil
}

// LatestProviderEvent returns the newest provider event of type typ that
// concerned the session at the provider instance.
func (r *Repo) LatestProviderEvent(ctx context.Context, sessionID, providerID, typ string) (*ProviderEvent, error) {
	e := new(ProviderEvent)
	err := r.db.NewSelect().Model(e).
		Where("session_id = ? AND provider_id = ? AND type = ?", sessionID, providerID, typ).
		OrderExpr("id DESC").Limit(1).
		Scan(ctx)
	if err != nil {
		return nil, notFound(err, "provider event")
	}
	return e, nil
}
