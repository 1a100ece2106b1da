package refunds

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/payments"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/sdk/provider"
)

var _ payments.ReviewRefunder = (*Service)(nil)

// RequestReviewRefund carries out an operator's decision to send a
// review's money back (payments.ReviewRefunder): a refund of
// review.RefundAmount in review.RefundCurrency at the provider instance
// the money arrived through, created in the decision's transaction with
// its job, like any refund. It reserves nothing and counts nothing on the
// session: the money is not the session's (an underpayment held for
// review, or the excess of an overpayment), so the provider's refund
// event is applied to the session as issue 11 decides, which closes the
// review. A provider that cannot refund leaves the decision recorded for
// the operator to carry out in the provider's dashboard.
func (s *Service) RequestReviewRefund(ctx context.Context, tx bun.Tx, sess *store.Session, rv *store.Review) error {
	r := store.NewRepo(tx)
	now := s.now()
	atts, err := r.SessionAttempts(ctx, sess.ID)
	if err != nil {
		return err
	}
	var att *store.PaymentAttempt
	for i := len(atts) - 1; i >= 0; i-- {
		if atts[i].ProviderID == rv.ProviderID && atts[i].ProviderRef != "" {
			att = atts[i]
			break
		}
	}
	if att == nil {
		s.log.WarnContext(ctx, "review refund: no payment at the provider to refund; the operator refunds upstream",
			"review_id", rv.ID, "session_id", sess.ID, "provider_id", rv.ProviderID)
		return nil
	}
	desc, err := s.providers.Describe(rv.ProviderID)
	if err != nil || !desc.Has(provider.CapabilityRefunds) {
		s.log.WarnContext(ctx, "review refund: the provider cannot refund through Switchyard; the operator refunds upstream",
			"review_id", rv.ID, "session_id", sess.ID, "provider_id", rv.ProviderID, "err", err)
		return nil
	}
	full := rv.RefundAmount == sess.AmountReceived && rv.RefundCurrency == sess.CurrencyReceived &&
		sess.AmountRefunded == 0 && sess.AmountRefundPending == 0
	rf := &store.Refund{
		ID: domain.NewRefundID(), SessionID: sess.ID, MerchantID: sess.MerchantID, Mode: sess.Mode,
		ProviderID: rv.ProviderID, AttemptID: att.ID, Amount: rv.RefundAmount, Currency: rv.RefundCurrency, FullRefund: full,
		Reason: domain.RefundOther, Metadata: fmt.Sprintf(`{"review_id":%q}`, rv.ID), Status: domain.RefundPending,
		Source: domain.RefundSourceOperator, ReviewID: rv.ID, CreatedAt: now, UpdatedAt: now,
	}
	if err := r.InsertRefund(ctx, rf); err != nil {
		return err
	}
	if err := s.appendRefundEvent(ctx, r, tx, sess, rf, domain.EventRefundCreated, now); err != nil {
		return err
	}
	if _, err := s.jobs.EnqueueTx(ctx, tx, CallProviderArgs{RefundID: rf.ID}, nil); err != nil {
		return fmt.Errorf("enqueue refund %s: %w", rf.ID, err)
	}
	s.count(ctx, "created", rf.Source)
	s.log.InfoContext(ctx, "review refund created", "refund_id", rf.ID, "review_id", rv.ID, "session_id", sess.ID,
		"amount", rf.Amount, "currency", rf.Currency)
	return nil
}
