package payments

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/store"
)

// Reviews: money a provider confirmed that does not match its session, and
// refunds or disputes beyond what was paid, are held or flagged for an
// operator (docs/decisions.md, "Money integrity"). The state machine finds
// them; this file stores them and carries out the operator's decision.

// ReviewRefunder carries out an operator's decision to send money back.
// The refunds service (issue 13) implements it by creating the provider
// refund for review.RefundAmount in review.RefundCurrency as a durable job
// in tx; the provider's refund event then closes the review. Without one
// (nil), the decision is recorded and the operator makes the refund in
// the provider's dashboard, whose refund event closes the review the same
// way.
type ReviewRefunder interface {
	RequestReviewRefund(ctx context.Context, tx bun.Tx, sess *store.Session, review *store.Review) error
}

// ReviewView is a review as the admin API and the CLI show it. Amounts are
// decimal strings in their own currency.
type ReviewView struct {
	ID               string                   `json:"id"`
	SessionID        string                   `json:"session_id"`
	MerchantID       int64                    `json:"merchant_id"`
	Mode             string                   `json:"mode"`
	Reason           domain.ReviewReason      `json:"reason"`
	Status           domain.ReviewStatus      `json:"status"`
	Event            string                   `json:"event"`
	ProviderID       string                   `json:"provider_id"`
	ProviderEventID  string                   `json:"provider_event_id"`
	ExpectedAmount   string                   `json:"expected_amount"`
	ExpectedCurrency string                   `json:"expected_currency"`
	ReceivedAmount   string                   `json:"received_amount"`
	ReceivedCurrency string                   `json:"received_currency"`
	Detail           string                   `json:"detail"`
	Resolution       *domain.ReviewResolution `json:"resolution"`
	RefundAmount     *string                  `json:"refund_amount"`
	RefundCurrency   *string                  `json:"refund_currency"`
	ResolvedBy       *string                  `json:"resolved_by"`
	Note             *string                  `json:"note"`
	CreatedAt        string                   `json:"created_at"`
	// ResolvedAt is when the operator decided (for refund_pending too).
	ResolvedAt *string `json:"resolved_at"`
}

func reviewView(rv *store.Review) *ReviewView {
	v := &ReviewView{
		ID: rv.ID, SessionID: rv.SessionID, MerchantID: rv.MerchantID, Mode: string(rv.Mode),
		Reason: rv.Reason, Status: rv.Status, Event: rv.EventKind, ProviderID: rv.ProviderID, ProviderEventID: rv.ProviderEventID,
		ExpectedAmount:   domain.FormatAmount(rv.ExpectedAmount, domain.Currency(rv.ExpectedCurrency)),
		ExpectedCurrency: rv.ExpectedCurrency,
		ReceivedAmount:   domain.FormatAmount(rv.ReceivedAmount, domain.Currency(rv.ReceivedCurrency)),
		ReceivedCurrency: rv.ReceivedCurrency,
		Detail:           rv.Detail,
		ResolvedBy:       optString(rv.ResolvedBy),
		Note:             optString(rv.Note),
		CreatedAt:        formatTime(rv.CreatedAt),
		ResolvedAt:       optTime(rv.ResolvedAt),
	}
	if rv.Resolution != "" {
		res := rv.Resolution
		v.Resolution = &res
	}
	if rv.RefundAmount > 0 {
		amt := domain.FormatAmount(rv.RefundAmount, domain.Currency(rv.RefundCurrency))
		v.RefundAmount, v.RefundCurrency = &amt, optString(rv.RefundCurrency)
	}
	return v
}

// openReview stores a finding for sess (locked by the caller) and makes it
// the session's current review reason.
func (s *Service) openReview(ctx context.Context, r *store.Repo, sess *store.Session, providerID, eventID string, f domain.ReviewFinding, now time.Time) error {
	rv := &store.Review{
		ID: domain.NewReviewID(), SessionID: sess.ID, MerchantID: sess.MerchantID, Mode: sess.Mode,
		Reason: f.Reason, Status: domain.ReviewOpen, EventKind: string(f.Event),
		ProviderID: providerID, ProviderEventID: eventID,
		ExpectedAmount: f.Expected, ExpectedCurrency: string(f.ExpectedCurrency),
		ReceivedAmount: f.Got, ReceivedCurrency: string(f.GotCurrency),
		Detail: f.Detail, CreatedAt: now,
	}
	if err := r.InsertReview(ctx, rv); err != nil {
		return err
	}
	sess.ReviewReason = f.Reason
	s.log.WarnContext(ctx, "money held or flagged for review", "session_id", sess.ID, "review_id", rv.ID,
		"reason", f.Reason, "detail", f.Detail, "provider_id", providerID)
	return nil
}

// closeRefundedReviews closes payment reviews whose money the provider
// reports returned: all of them when the session is now fully refunded
// (whether the operator decided so, refund_pending, or not yet, open), else
// the oldest refund_pending one whose decided refund is exactly this
// refund's amount (an overpayment's excess sent back).
func (s *Service) closeRefundedReviews(ctx context.Context, r *store.Repo, sess *store.Session, full bool, amount int64, currency domain.Currency, now time.Time) error {
	rvs, err := r.SessionReviews(ctx, sess.ID)
	if err != nil {
		return err
	}
	if currency == "" {
		currency = domain.Currency(sess.Currency)
	}
	matched := false
	for _, rv := range rvs {
		if rv.Status == domain.ReviewResolved || domain.PaymentEventKind(rv.EventKind) != domain.PaymentSucceeded {
			continue
		}
		if !full {
			if matched || rv.Status != domain.ReviewRefundPending || rv.RefundAmount != amount || rv.RefundCurrency != string(currency) {
				continue
			}
			matched = true
		}
		rv.Status, rv.Resolution = domain.ReviewResolved, domain.ResolutionRefunded
		if rv.ResolvedAt == nil {
			rv.ResolvedAt = &now
		}
		if rv.ResolvedBy == "" {
			rv.ResolvedBy = "provider refund"
		}
		if err := r.UpdateReview(ctx, rv); err != nil {
			return err
		}
	}
	return s.syncReviewReason(ctx, r, sess)
}

// syncReviewReason sets the session's review reason to its latest review
// that is not resolved, or clears it.
func (s *Service) syncReviewReason(ctx context.Context, r *store.Repo, sess *store.Session) error {
	rvs, err := r.SessionReviews(ctx, sess.ID)
	if err != nil {
		return err
	}
	sess.ReviewReason = ""
	for _, rv := range rvs {
		if rv.Status != domain.ReviewResolved {
			sess.ReviewReason = rv.Reason
		}
	}
	return nil
}

// ReviewListRequest filters ListReviews. Status "" or "pending" lists the
// operator's queue (open and refund_pending).
type ReviewListRequest struct {
	Status     string
	MerchantID int64
	After      string
	Limit      int
}

// ListReviews lists reviews for operators.
func (s *Service) ListReviews(ctx context.Context, in ReviewListRequest) ([]*ReviewView, error) {
	f := store.ReviewFilter{MerchantID: in.MerchantID, AfterID: in.After, Limit: in.Limit}
	switch in.Status {
	case "", "pending":
		f.Pending = true
	case "all":
	default:
		st, err := domain.ParseReviewStatus(in.Status)
		if err != nil {
			return nil, err
		}
		f.Status = st
	}
	rvs, err := s.store.ListReviews(ctx, f)
	if err != nil {
		return nil, err
	}
	out := make([]*ReviewView, 0, len(rvs))
	for _, rv := range rvs {
		out = append(out, reviewView(rv))
	}
	return out, nil
}

// GetReview returns one review.
func (s *Service) GetReview(ctx context.Context, id string) (*ReviewView, error) {
	if !domain.ValidReviewID(id) {
		return nil, domain.NotFound("review")
	}
	rv, err := s.store.GetReview(ctx, id)
	if err != nil {
		return nil, err
	}
	return reviewView(rv), nil
}

// SessionDetail is a session as operators see it (the admin API's GET
// /admin/v1/sessions/{id} and the console's session page): the merchant's
// view, whose it is, its reviews, and what happened to it — the payment
// attempts with routing's reasons and the provider events with their
// stored requests (credentials redacted). The merchant events and their
// deliveries come from the webhooks service.
type SessionDetail struct {
	Session        *SessionView         `json:"session"`
	MerchantID     int64                `json:"merchant_id"`
	Reviews        []*ReviewView        `json:"reviews"`
	Attempts       []*AttemptRecord     `json:"attempts"`
	ProviderEvents []*ProviderEventView `json:"provider_events"`
}

// AdminSession returns any merchant's session with its reviews, attempts
// and provider events. Unknown and malformed ids are not found.
func (s *Service) AdminSession(ctx context.Context, id string) (*SessionDetail, error) {
	if !domain.ValidSessionID(id) {
		return nil, domain.NotFound("session")
	}
	sess, err := s.store.GetSession(ctx, id)
	if err != nil {
		return nil, err
	}
	rvs, err := s.store.SessionReviews(ctx, id)
	if err != nil {
		return nil, err
	}
	out := &SessionDetail{Session: s.view(sess), MerchantID: sess.MerchantID, Reviews: make([]*ReviewView, 0, len(rvs))}
	for _, rv := range rvs {
		out.Reviews = append(out.Reviews, reviewView(rv))
	}
	if out.Attempts, err = s.attemptRecords(ctx, id); err != nil {
		return nil, err
	}
	if out.ProviderEvents, err = s.providerEventViews(ctx, id); err != nil {
		return nil, err
	}
	return out, nil
}

// ResolveReviewRequest is an operator's decision on a review.
type ResolveReviewRequest struct {
	// Action is "accept" or "refund".
	Action string
	// Note is free text kept with the decision (at most 1000 characters).
	Note string
	// Operator names who decided, for the record ("admin-api", "cli:alice").
	Operator string
}

// maxReviewNote bounds the operator's note.
const maxReviewNote = 1000

// ResolveReview carries out an operator's decision on an open review:
//
//   - accept: a session held in requires_review becomes paid (session.paid);
//     a flag on a session that is already paid (more money than asked, a
//     refund or dispute beyond what was paid) is acknowledged. The review is
//     resolved.
//   - refund: the money received (all of it for a held session, the excess
//     for an overpaid one) is to go back. The decision and the amount are
//     recorded (refund_pending) and handed to the ReviewRefunder if there is
//     one; the session keeps its status until the provider reports the
//     refund, which closes the review (resolution refunded). Refund and
//     dispute findings have no money left to send back: 422.
//
// A review that is not open is 409 review_not_open.
func (s *Service) ResolveReview(ctx context.Context, id string, in ResolveReviewRequest) (*ReviewView, error) {
	action, err := domain.ParseReviewAction(in.Action)
	if err != nil {
		return nil, err
	}
	if len(in.Note) > maxReviewNote {
		return nil, domain.Invalid("invalid_note", "note", "note must be at most %d characters", maxReviewNote)
	}
	if !domain.ValidReviewID(id) {
		return nil, domain.NotFound("review")
	}
	first, err := s.store.GetReview(ctx, id)
	if err != nil {
		return nil, err
	}
	var out *store.Review
	err = s.inTx(ctx, func(ctx context.Context, r *store.Repo, tx bun.Tx) error {
		// Reviews change only with their session locked, so the decision
		// and a concurrent provider event serialize.
		sess, err := r.LockSession(ctx, first.SessionID)
		if err != nil {
			return err
		}
		rv, err := r.GetReview(ctx, id)
		if err != nil {
			return err
		}
		if rv.Status != domain.ReviewOpen {
			return domain.Conflict("review_not_open", "review %s is %s; only an open review can be resolved", rv.ID, rv.Status)
		}
		now := s.now()
		held := sess.Status == domain.StatusRequiresReview && domain.PaymentEventKind(rv.EventKind) == domain.PaymentSucceeded
		rv.Resolution, rv.ResolvedBy, rv.Note, rv.ResolvedAt = action, operatorName(in.Operator), strings.TrimSpace(in.Note), &now
		switch action {
		case domain.ResolutionAccept:
			rv.Status = domain.ReviewResolved
			if err := r.UpdateReview(ctx, rv); err != nil {
				return err
			}
			if held {
				tr := domain.AcceptHeld(sess.State())
				if !tr.Apply {
					return fmt.Errorf("accept review %s: %s", rv.ID, tr.Reason)
				}
				sess.SetState(tr.Next)
				sess.UpdatedAt = now
				if sess.PaidAt == nil {
					sess.PaidAt = &now
				}
				if err := s.syncReviewReason(ctx, r, sess); err != nil {
					return err
				}
				if err := s.appendEvent(ctx, r, tx, sess, tr.DomainEvent, now); err != nil {
					return err
				}
			} else if err := s.syncReviewReason(ctx, r, sess); err != nil {
				return err
			}
		case domain.ResolutionRefund:
			due, ok := domain.RefundDue(rv.Finding(), held)
			if !ok {
				return &domain.Error{Kind: domain.ErrUnprocessable, Code: "nothing_to_refund", Field: "action",
					Message: fmt.Sprintf("a %s review has no money left to send back (the %s already moved it); accept acknowledges it", rv.Reason, rv.EventKind)}
			}
			rv.Status, rv.RefundAmount, rv.RefundCurrency = domain.ReviewRefundPending, due.Amount, string(due.Currency)
			if err := r.UpdateReview(ctx, rv); err != nil {
				return err
			}
			if s.reviewRefunds != nil {
				if err := s.reviewRefunds.RequestReviewRefund(ctx, tx, sess, rv); err != nil {
					return err
				}
			}
			if err := s.syncReviewReason(ctx, r, sess); err != nil {
				return err
			}
		}
		out = rv
		return r.UpdateSession(ctx, sess)
	})
	if err != nil {
		return nil, err
	}
	s.log.InfoContext(ctx, "review resolved", "review_id", out.ID, "session_id", out.SessionID, "resolution", out.Resolution,
		"status", out.Status, "resolved_by", out.ResolvedBy)
	return reviewView(out), nil
}

func operatorName(s string) string {
	if s = strings.TrimSpace(s); s == "" {
		return "operator"
	}
	return s
}
