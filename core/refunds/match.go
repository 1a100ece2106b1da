package refunds

import (
	"context"
	"errors"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/sdk/provider"
)

// MatchProviderRefundTx looks for the refund a provider's refund webhook
// (payment.refunded / payment.partially_refunded) reports, inside the
// webhook's transaction with the session locked. A refund Switchyard made
// is found by the upstream refund id (Data["refund_id"]) or, while the
// provider call has not returned it yet (or the provider returns none, as
// PayPro), as the session's oldest refund of that amount that no webhook
// confirmed yet (for payment.refunded, of any amount). Then:
//   - a pending refund is settled as succeeded, counted once;
//   - a succeeded refund was already counted: the webhook is only noted;
//   - a refund that failed here but that the provider reports by its id
//     (a retried call that was refused although the first one went
//     through) is revived as succeeded and counted.
//
// handled is false when no refund of Switchyard's matches: the refund was
// made upstream (the provider's dashboard), and the caller applies it to
// the session and records it with RecordProviderRefundTx.
func (s *Service) MatchProviderRefundTx(ctx context.Context, r *store.Repo, tx bun.Tx, sess *store.Session, providerID string,
	ev provider.Event, eventID string) (handled bool, reason string, err error) {
	refundRef := ev.Data["refund_id"]
	var rf *store.Refund
	byRef := false
	if refundRef != "" {
		rf, err = r.RefundByProviderRef(ctx, providerID, refundRef)
		switch {
		case err == nil:
			byRef = true
		case !errors.Is(err, domain.ErrNotFound):
			return false, "", err
		}
	}
	if rf == nil {
		if rf, err = s.unconfirmed(ctx, r, sess.ID, providerID, ev); err != nil {
			return false, "", err
		}
	}
	if rf == nil || rf.SessionID != sess.ID || rf.ProviderID != providerID {
		return false, "", nil
	}
	noteRef := refundRef
	if byRef || rf.ProviderRefundID != "" {
		noteRef = "" // already the refund's id, or it has its own
	}
	if rf.ReviewID != "" {
		return s.matchReviewRefund(ctx, r, tx, sess, rf, noteRef, eventID)
	}
	switch {
	case rf.Status == domain.RefundPending:
		o := outcome{status: domain.RefundSucceeded, providerRefundID: noteRef, providerEventID: eventID}
		if err := s.settleTx(ctx, r, tx, sess, rf, o); err != nil {
			return false, "", err
		}
		return true, fmt.Sprintf("confirms refund %s: settled as succeeded", rf.ID), nil
	case rf.Status == domain.RefundFailed && byRef:
		if err := s.reviveTx(ctx, r, tx, sess, rf, eventID); err != nil {
			return false, "", err
		}
		return true, fmt.Sprintf("refund %s had failed here but the provider made it: counted as succeeded", rf.ID), nil
	default:
		if err := r.NoteRefundProvider(ctx, rf.ID, noteRef, eventID, s.now()); err != nil {
			return false, "", err
		}
		return true, fmt.Sprintf("confirms refund %s, already counted", rf.ID), nil
	}
}

// matchReviewRefund notes that the provider made a review's refund. The
// first event reporting it is applied to the session by the caller
// (handled false), as issue 11 decides for the review's money; any later
// one, under another event id, was already applied.
func (s *Service) matchReviewRefund(ctx context.Context, r *store.Repo, tx bun.Tx, sess *store.Session, rf *store.Refund,
	noteRef, eventID string) (bool, string, error) {
	if rf.ProviderEventID != "" && rf.ProviderEventID != eventID {
		return true, fmt.Sprintf("confirms review refund %s, already applied", rf.ID), nil
	}
	if rf.Status == domain.RefundPending {
		o := outcome{status: domain.RefundSucceeded, providerRefundID: noteRef, providerEventID: eventID}
		if err := s.settleTx(ctx, r, tx, sess, rf, o); err != nil {
			return false, "", err
		}
	} else if err := r.NoteRefundProvider(ctx, rf.ID, noteRef, eventID, s.now()); err != nil {
		return false, "", err
	}
	return false, "", nil
}

// unconfirmed finds the refund a webhook without a known refund id
// confirms, or nil.
func (s *Service) unconfirmed(ctx context.Context, r *store.Repo, sessionID, providerID string, ev provider.Event) (*store.Refund, error) {
	amounts := []int64{ev.Amount}
	if ev.Type == provider.PaymentRefunded {
		// "Now fully refunded", whatever amount the provider reports
		// (PayPro's total includes the taxes it collected).
		amounts = append(amounts, 0)
	}
	for _, a := range amounts {
		if a < 0 || (a == 0 && ev.Type != provider.PaymentRefunded) {
			continue
		}
		rf, err := r.UnconfirmedRefund(ctx, sessionID, a)
		if errors.Is(err, domain.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if rf.ProviderID == providerID && (ev.Currency == "" || ev.Currency == rf.Currency) {
			return rf, nil
		}
	}
	return nil, nil
}

// reviveTx turns a failed refund that the provider did make into a
// succeeded one and counts it.
func (s *Service) reviveTx(ctx context.Context, r *store.Repo, tx bun.Tx, sess *store.Session, rf *store.Refund, eventID string) error {
	now := s.now()
	ok, err := r.ReviveRefund(ctx, rf.ID, eventID, now)
	if err != nil || !ok {
		return err
	}
	rf.Status, rf.FailureCode, rf.FailureMessage, rf.UpdatedAt, rf.SettledAt = domain.RefundSucceeded, "", "", now, settledNow(now)
	if rf.ProviderEventID == "" {
		rf.ProviderEventID = eventID
	}
	if err := s.appendRefundEvent(ctx, r, tx, sess, rf, domain.EventRefundSucceeded, now); err != nil {
		return err
	}
	if err := s.sessions.SettleRefundTx(ctx, r, tx, sess, rf.ProviderID, rf.ID, rf.Amount, now); err != nil {
		return err
	}
	s.count(ctx, "revived", rf.Source)
	return nil
}

// RecordProviderRefundTx records a refund made upstream (the provider's
// dashboard) that the caller applied to the session for applied minor
// units: a succeeded refund with source provider, so the session's refund
// list shows every refund, and its refund.created and refund.succeeded
// events (both showing it succeeded: it was made before Switchyard heard
// of it). Nothing is recorded when nothing was applied. The caller saves
// sess afterwards (its event sequence moved).
func (s *Service) RecordProviderRefundTx(ctx context.Context, r *store.Repo, tx bun.Tx, sess *store.Session, providerID string,
	ev provider.Event, eventID string, applied int64) error {
	if applied <= 0 {
		return nil
	}
	if _, err := r.RefundByProviderEvent(ctx, providerID, eventID); err == nil {
		return nil // a review's refund, matched and already listed
	} else if !errors.Is(err, domain.ErrNotFound) {
		return err
	}
	now := s.now()
	rf := &store.Refund{
		ID: domain.NewRefundID(), SessionID: sess.ID, MerchantID: sess.MerchantID, Mode: sess.Mode, ProviderID: providerID,
		Amount: applied, Currency: sess.Currency, Reason: domain.RefundOther, Metadata: "{}",
		Status: domain.RefundSucceeded, Source: domain.RefundSourceProvider, ProviderEventID: eventID,
		CreatedAt: now, UpdatedAt: now, SettledAt: settledNow(now),
	}
	if ref := ev.Data["refund_id"]; ref != "" {
		if _, err := r.RefundByProviderRef(ctx, providerID, ref); errors.Is(err, domain.ErrNotFound) {
			rf.ProviderRefundID = ref
		} else if err != nil {
			return err
		}
	}
	if att, err := refundedAttempt(ctx, r, sess.ID); err == nil {
		rf.AttemptID = att.ID
	}
	if err := r.InsertRefund(ctx, rf); err != nil {
		return err
	}
	for _, typ := range []domain.DomainEvent{domain.EventRefundCreated, domain.EventRefundSucceeded} {
		if err := s.appendRefundEvent(ctx, r, tx, sess, rf, typ, now); err != nil {
			return err
		}
	}
	s.count(ctx, "succeeded", domain.RefundSourceProvider)
	return nil
}
