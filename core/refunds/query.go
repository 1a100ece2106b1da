package refunds

import (
	"context"

	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/store"
)

// List limits: a page holds 1 to MaxListLimit refunds, DefaultListLimit
// when none is asked for.
const (
	DefaultListLimit = 10
	MaxListLimit     = 100
)

// Get returns a refund the caller may see: another merchant's, or one of
// the other mode, is not found (404) exactly like one that does not exist.
func (s *Service) Get(ctx context.Context, c Caller, refundID string) (*RefundView, error) {
	if !domain.ValidRefundID(refundID) {
		return nil, domain.NotFound("refund")
	}
	rf, err := s.store.GetRefund(ctx, refundID)
	if err != nil {
		return nil, err
	}
	if c.MerchantID != 0 && (rf.MerchantID != c.MerchantID || domain.Mode(rf.Mode) != c.Mode) {
		return nil, domain.NotFound("refund")
	}
	return View(rf), nil
}

// ListParams page through refunds, newest first.
type ListParams struct {
	// StartingAfter is the last refund id of the previous page.
	StartingAfter string
	Limit         int
	// Operator filters (ignored for merchants, who see their own).
	MerchantID int64
	Status     domain.RefundStatus
}

// ListSession lists a session's refunds, newest first, every source.
func (s *Service) ListSession(ctx context.Context, c Caller, sessionID string, p ListParams) (*ListView, error) {
	if _, err := sessionFor(ctx, s.store.Repo, c.MerchantID, c.Mode, sessionID, false); err != nil {
		return nil, err
	}
	return s.list(ctx, store.RefundFilter{SessionID: sessionID, Status: p.Status}, p)
}

// List lists refunds for an operator: every merchant's, or p.MerchantID's.
func (s *Service) List(ctx context.Context, p ListParams) (*ListView, error) {
	return s.list(ctx, store.RefundFilter{MerchantID: p.MerchantID, Status: p.Status}, p)
}

func (s *Service) list(ctx context.Context, f store.RefundFilter, p ListParams) (*ListView, error) {
	limit := p.Limit
	switch {
	case limit == 0:
		limit = DefaultListLimit
	case limit < 1 || limit > MaxListLimit:
		return nil, domain.Invalid("invalid_limit", "limit", "limit must be between 1 and %d", MaxListLimit)
	}
	if p.StartingAfter != "" && !domain.ValidRefundID(p.StartingAfter) {
		return nil, domain.Invalid("invalid_cursor", "starting_after", "starting_after must be a refund id (re_…)")
	}
	if p.Status != "" && p.Status != domain.RefundPending && p.Status != domain.RefundSucceeded && p.Status != domain.RefundFailed {
		return nil, domain.Invalid("invalid_status", "status", "status must be pending, succeeded or failed")
	}
	f.StartingAfter, f.Limit = p.StartingAfter, limit+1
	rows, err := s.store.ListRefunds(ctx, f)
	if err != nil {
		return nil, err
	}
	out := &ListView{Data: make([]*RefundView, 0, min(len(rows), limit))}
	for i, rf := range rows {
		if i == limit {
			out.HasMore = true
			break
		}
		out.Data = append(out.Data, View(rf))
	}
	return out, nil
}
