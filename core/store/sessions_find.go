package store

import (
	"context"
	"fmt"
	"time"

	"github.com/switchyard/switchyard/core/domain"
)

// SessionFilter selects sessions for operators, newest first. Zero fields
// match all.
type SessionFilter struct {
	MerchantID int64
	Status     domain.SessionStatus
	// ProviderID matches sessions with an attempt routed to it.
	ProviderID string
	// Method matches the session's fixed method or any attempt's method.
	Method string
	Mode   KeyMode
	// From and To bound created_at: From inclusive, To exclusive.
	From, To time.Time
	// SessionID and OrderID match exactly.
	SessionID string
	OrderID   string
	// Before is a cursor: ids lower than this one (ids sort by creation).
	Before string
	Limit  int
}

// FindSessions lists sessions matching f, newest first.
func (r *Repo) FindSessions(ctx context.Context, f SessionFilter) ([]*Session, error) {
	out := []*Session{}
	q := r.db.NewSelect().Model(&out)
	if f.MerchantID > 0 {
		q = q.Where("sess.merchant_id = ?", f.MerchantID)
	}
	if f.Status != "" {
		q = q.Where("sess.status = ?", f.Status)
	}
	if f.ProviderID != "" {
		q = q.Where("EXISTS (SELECT 1 FROM payment_attempts pa WHERE pa.session_id = sess.id AND pa.provider_id = ?)", f.ProviderID)
	}
	if f.Method != "" {
		q = q.Where("(sess.method = ? OR EXISTS (SELECT 1 FROM payment_attempts pa WHERE pa.session_id = sess.id AND pa.method = ?))", f.Method, f.Method)
	}
	if f.Mode != "" {
		q = q.Where("sess.mode = ?", f.Mode)
	}
	if !f.From.IsZero() {
		q = q.Where("sess.created_at >= ?", f.From.UTC())
	}
	if !f.To.IsZero() {
		q = q.Where("sess.created_at < ?", f.To.UTC())
	}
	if f.SessionID != "" {
		q = q.Where("sess.id = ?", f.SessionID)
	}
	if f.OrderID != "" {
		q = q.Where("sess.order_id = ?", f.OrderID)
	}
	if f.Before != "" {
		q = q.Where("sess.id < ?", f.Before)
	}
	if f.Limit > 0 {
		q = q.Limit(int64(f.Limit))
	}
	if err := q.OrderExpr("sess.id DESC").Scan(ctx); err != nil {
		return nil, fmt.Errorf("find sessions: %w", err)
	}
	return out, nil
}

// AttemptStat is one group of payment attempts: a provider instance, a
// method, a currency and an attempt status, with how many attempts there
// were and the sum of their sessions' amounts (minor units).
type AttemptStat struct {
	ProviderID string        `bun:"provider_id"`
	Method     string        `bun:"method"`
	Currency   string        `bun:"currency"`
	Status     AttemptStatus `bun:"status"`
	Count      int64         `bun:"n"`
	Amount     int64         `bun:"amount"`
}

// AttemptStats groups the payment attempts created at or after since.
func (r *Repo) AttemptStats(ctx context.Context, since time.Time) ([]AttemptStat, error) {
	var out []AttemptStat
	err := r.db.NewSelect().TableExpr("payment_attempts AS pa").
		Join("JOIN sessions AS sess ON sess.id = pa.session_id").
		ColumnExpr("pa.provider_id, pa.method, sess.currency, pa.status").
		ColumnExpr("COUNT(*) AS n, COALESCE(SUM(sess.amount), 0) AS amount").
		Where("pa.created_at >= ?", since.UTC()).
		GroupExpr("pa.provider_id, pa.method, sess.currency, pa.status").
		OrderExpr("pa.provider_id, pa.method, sess.currency, pa.status").
		Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("attempt stats: %w", err)
	}
	return out, nil
}

// SessionProviderEvents lists the provider events applied to or recorded
// for a session, in the order they arrived.
func (r *Repo) SessionProviderEvents(ctx context.Context, sessionID string) ([]*ProviderEvent, error) {
	out := []*ProviderEvent{}
	if err := r.db.NewSelect().Model(&out).Where("session_id = ?", sessionID).Order("received_at", "id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list session provider events: %w", err)
	}
	return out, nil
}
