package store

import (
	"context"
	"fmt"

	"github.com/switchyard/switchyard/core/domain"
)

// LatestAttempt reads a session's most recent payment attempt (highest
// Seq; Seq, unlike created_at, never depends on clocks). A session without
// attempts is domain.NotFound("payment attempt").
func (r *Repo) LatestAttempt(ctx context.Context, sessionID string) (*PaymentAttempt, error) {
	a := new(PaymentAttempt)
	err := r.db.NewSelect().Model(a).Where("session_id = ?", sessionID).OrderExpr("seq DESC").Limit(1).Scan(ctx)
	if err != nil {
		return nil, notFound(err, "payment attempt")
	}
	return a, nil
}

// RecordAttemptOutcome writes back what the provider answered for an
// attempt: what UpdateAttempt writes (status, provider ref, error) plus
// the redirect URL the shopper is sent to.
func (r *Repo) RecordAttemptOutcome(ctx context.Context, a *PaymentAttempt) error {
	res, err := r.db.NewUpdate().Model(a).
		Column("status", "provider_ref", "error", "redirect_url", "updated_at").
		WherePK().
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("record payment attempt outcome: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return domain.NotFound("payment attempt")
	}
	return nil
}
