package store

import (
	"context"
	"fmt"
	"time"

	"github.com/switchyard/switchyard/core/domain"
)

// InsertReview stores a new money review.
func (r *Repo) InsertReview(ctx context.Context, rv *Review) error {
	if _, err := r.db.NewInsert().Model(rv).Exec(ctx); err != nil {
		return fmt.Errorf("insert review: %w", err)
	}
	return nil
}

// GetReview reads one review.
func (r *Repo) GetReview(ctx context.Context, id string) (*Review, error) {
	rv := new(Review)
	if err := r.db.NewSelect().Model(rv).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, notFound(err, "review")
	}
	return rv, nil
}

// SessionReviews lists a session's reviews, oldest first.
func (r *Repo) SessionReviews(ctx context.Context, sessionID string) ([]*Review, error) {
	out := []*Review{}
	if err := r.db.NewSelect().Model(&out).Where("session_id = ?", sessionID).OrderExpr("created_at, id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list session reviews: %w", err)
	}
	return out, nil
}

// ReviewFilter selects reviews for the operator's queue. Zero values do
// not filter; Pending means open or refund_pending (the queue).
type ReviewFilter struct {
	Status     domain.ReviewStatus
	Pending    bool
	MerchantID int64
	// AfterID pages: reviews with a greater id (ids sort by creation).
	AfterID string
	Limit   int
}

// maxReviewPage bounds one listing.
const maxReviewPage = 200

// ListReviews lists reviews in id (creation) order.
func (r *Repo) ListReviews(ctx context.Context, f ReviewFilter) ([]*Review, error) {
	out := []*Review{}
	q := r.db.NewSelect().Model(&out).OrderExpr("id")
	switch {
	case f.Status != "":
		q = q.Where("status = ?", f.Status)
	case f.Pending:
		q = q.Where("status IN (?, ?)", domain.ReviewOpen, domain.ReviewRefundPending)
	}
	if f.MerchantID > 0 {
		q = q.Where("merchant_id = ?", f.MerchantID)
	}
	if f.AfterID != "" {
		q = q.Where("id > ?", f.AfterID)
	}
	limit := f.Limit
	if limit <= 0 || limit > maxReviewPage {
		limit = maxReviewPage
	}
	if err := q.Limit(int64(limit)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("list reviews: %w", err)
	}
	return out, nil
}

// UpdateReview writes back a review's decision columns.
func (r *Repo) UpdateReview(ctx context.Context, rv *Review) error {
	res, err := r.db.NewUpdate().Model(rv).
		Column("status", "resolution", "refund_amount", "refund_currency", "resolved_by", "note", "resolved_at").
		WherePK().
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("update review: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return domain.NotFound("review")
	}
	return nil
}

// ClosedSessionsWithStaleAttempts lists expired or canceled sessions that
// have an attempt still processing since before cutoff (a payment reported
// succeeded without a confirmed amount after the session closed), oldest
// attempt first, for the reconciliation job.
func (r *Repo) ClosedSessionsWithStaleAttempts(ctx context.Context, cutoff time.Time, limit int) ([]*Session, error) {
	out := []*Session{}
	err := r.db.NewSelect().Model(&out).
		Where("sess.status IN (?, ?)", domain.StatusExpired, domain.StatusCanceled).
		Where("EXISTS (SELECT 1 FROM payment_attempts pa WHERE pa.session_id = sess.id AND pa.status = ? AND pa.provider_ref IS NOT NULL AND pa.updated_at < ?)",
			AttemptProcessing, cutoff.UTC()).
		OrderExpr("sess.updated_at ASC").
		Limit(int64(limit)).
		Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("list closed sessions with stale attempts: %w", err)
	}
	return out, nil
}
