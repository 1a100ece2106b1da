package refunds

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/uptrace/bun"

	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/jobs"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/sdk/provider"
	"github.com/switchyard/switchyard/sdk/sdkerr"
)

// CallProviderArgs is the durable job that asks the provider to refund: one
// per refund, written with the refund.
type CallProviderArgs struct {
	RefundID string `json:"refund_id"`
}

// Kind implements river.JobArgs.
func (CallProviderArgs) Kind() string { return "refund_provider_call" }

// The provider call's retry schedule: 14 attempts, waits doubling from
// 5 s (a plugin still starting) to an hour, about 4.5 hours in all — well
// inside the 24 hours for which Stripe keeps an idempotency key, so a
// retry can never become a second refund there.
const (
	MaxCallAttempts = 14
	callBaseDelay   = 5 * time.Second
	callMaxDelay    = time.Hour
	// callTimeout bounds one provider call.
	callTimeout = 30 * time.Second
)

// CallPolicy is the provider call's retry policy.
func CallPolicy() jobs.RetryPolicy {
	return jobs.Exponential(MaxCallAttempts, callBaseDelay, callMaxDelay, 0.2)
}

// IdempotencyKey is the key every provider call for refund id carries: the
// same on every retry, after a crash and on any instance, so a provider
// never returns the money twice for one refund.
func IdempotencyKey(refundID string) string { return "switchyard_refund_" + refundID }

// RegisterJobs adds the provider-call worker to a job registry.
func (s *Service) RegisterJobs(reg *jobs.Registry) error {
	return jobs.Register(reg, &callWorker{svc: s}, CallPolicy())
}

type callWorker struct {
	river.WorkerDefaults[CallProviderArgs]
	svc *Service
}

// Timeout leaves the provider call its whole budget.
func (w *callWorker) Timeout(*river.Job[CallProviderArgs]) time.Duration {
	return callTimeout + 15*time.Second
}

func (w *callWorker) Work(ctx context.Context, job *river.Job[CallProviderArgs]) error {
	return w.svc.CallProvider(ctx, job.Args.RefundID, job.Attempt >= job.MaxAttempts)
}

// outcome is how a refund ends.
type outcome struct {
	status           domain.RefundStatus
	providerRefundID string
	providerEventID  string
	failureCode      string
	failureMessage   string
}

// CallProvider makes the provider call of a pending refund and records its
// outcome. Errors the provider reports as declined or invalid (and a
// provider instance that no longer exists or cannot refund) fail the
// refund with the provider's message; unavailable, retryable and internal
// errors return an error so the job is retried with the same idempotency
// key — except on the last attempt, which fails the refund. A refund that
// is no longer pending (its webhook settled it first, or another run did)
// is left alone.
func (s *Service) CallProvider(ctx context.Context, refundID string, lastAttempt bool) error {
	rf, err := s.store.GetRefund(ctx, refundID)
	if errors.Is(err, domain.ErrNotFound) {
		s.log.WarnContext(ctx, "refund job for an unknown refund; dropped", "refund_id", refundID)
		return nil
	}
	if err != nil {
		return err
	}
	if rf.Status != domain.RefundPending || rf.ProviderRefundID != "" {
		// Settled, or accepted upstream as pending: its webhook settles it.
		return nil
	}
	att, err := s.store.GetAttempt(ctx, rf.AttemptID)
	if err != nil {
		return err
	}
	data, err := s.sessions.PaymentData(ctx, s.store.Repo, rf.SessionID, rf.ProviderID)
	if err != nil {
		return err
	}
	p, err := s.providers.Provider(rf.ProviderID)
	switch {
	case errors.Is(err, domain.ErrNotFound):
		return s.finish(ctx, rf, outcome{status: domain.RefundFailed, failureCode: "provider_not_configured",
			failureMessage: "the provider instance that took the payment is no longer configured"})
	case err != nil:
		return s.retryOrFail(ctx, rf, lastAttempt, fmt.Errorf("provider %s: %w", rf.ProviderID, err))
	}
	req := provider.RefundRequest{
		ProviderRef: att.ProviderRef, SessionID: rf.SessionID, Amount: rf.Amount, Currency: rf.Currency,
		IdempotencyKey: IdempotencyKey(rf.ID), Reason: string(rf.Reason), PaymentData: data,
	}
	if rf.FullRefund {
		req.Amount = 0 // the whole payment: PayPro's DoRefund, Stripe without an amount
	}
	callCtx, cancel := context.WithTimeout(ctx, callTimeout)
	res, err := p.Refund(callCtx, req)
	cancel()
	if err != nil {
		switch sdkerr.CategoryOf(err) {
		case sdkerr.CategoryUnavailable, sdkerr.CategoryRetryable, sdkerr.CategoryInternal:
			return s.retryOrFail(ctx, rf, lastAttempt, err)
		}
		code, msg := string(sdkerr.CategoryOf(err)), err.Error()
		if e, ok := sdkerr.As(err); ok {
			msg = e.Message
			if e.Code != "" {
				code = e.Code
			}
		}
		return s.finish(ctx, rf, outcome{status: domain.RefundFailed, failureCode: code, failureMessage: msg})
	}
	if res.Amount != 0 && res.Amount != rf.Amount {
		s.log.ErrorContext(ctx, "provider refunded another amount than asked; recorded as asked, check upstream",
			"refund_id", rf.ID, "asked", rf.Amount, "provider_amount", res.Amount, "provider_refund_id", res.RefundRef)
	}
	switch res.Status {
	case provider.RefundSucceeded:
		return s.finish(ctx, rf, outcome{status: domain.RefundSucceeded, providerRefundID: res.RefundRef})
	case provider.RefundFailed:
		return s.finish(ctx, rf, outcome{status: domain.RefundFailed, providerRefundID: res.RefundRef,
			failureCode: "refund_failed", failureMessage: nonEmpty(res.FailureMessage, "the provider reported the refund as failed")})
	default:
		// Accepted but not settled upstream: the provider's refund webhook
		// settles it; the job is done.
		if res.RefundRef != "" {
			if err := s.store.NoteRefundProvider(ctx, rf.ID, res.RefundRef, "", s.now()); err != nil {
				return err
			}
		}
		return nil
	}
}

// retryOrFail returns err for River to retry, or, on the last attempt,
// fails the refund with it.
func (s *Service) retryOrFail(ctx context.Context, rf *store.Refund, lastAttempt bool, err error) error {
	if !lastAttempt {
		s.log.WarnContext(ctx, "refund provider call failed; will retry", "refund_id", rf.ID, "err", err)
		return fmt.Errorf("refund %s: %w", rf.ID, err)
	}
	return s.finish(ctx, rf, outcome{status: domain.RefundFailed, failureCode: "provider_unavailable",
		failureMessage: fmt.Sprintf("the provider could not be reached after %d attempts: %v", MaxCallAttempts, err)})
}

// finish settles rf in its own transaction under the session's lock.
func (s *Service) finish(ctx context.Context, rf *store.Refund, o outcome) error {
	return s.inTx(ctx, func(ctx context.Context, r *store.Repo, tx bun.Tx) error {
		sess, err := r.LockSession(ctx, rf.SessionID)
		if err != nil {
			return err
		}
		cur, err := r.GetRefund(ctx, rf.ID)
		if err != nil {
			return err
		}
		return s.settleTx(ctx, r, tx, sess, cur, o)
	})
}

// settleTx moves a pending refund to its outcome with the session locked:
// the reservation is released, into amount_refunded (through the session
// state machine, with session.refunded or session.partially_refunded) when
// it succeeded; refund.succeeded or refund.failed is emitted. A refund that
// is no longer pending only gets the upstream ids noted: it is never
// counted twice.
func (s *Service) settleTx(ctx context.Context, r *store.Repo, tx bun.Tx, sess *store.Session, rf *store.Refund, o outcome) error {
	now := s.now()
	ref, err := freeRef(ctx, r, rf, o.providerRefundID)
	if err != nil {
		return err
	}
	o.providerRefundID = ref
	if rf.Status != domain.RefundPending {
		return r.NoteRefundProvider(ctx, rf.ID, o.providerRefundID, o.providerEventID, now)
	}
	rf.Status, rf.FailureCode, rf.FailureMessage = o.status, o.failureCode, o.failureMessage
	rf.UpdatedAt, rf.SettledAt = now, settledNow(now)
	if rf.ProviderRefundID == "" {
		rf.ProviderRefundID = o.providerRefundID
	}
	if rf.ProviderEventID == "" {
		rf.ProviderEventID = o.providerEventID
	}
	settled, err := r.SettleRefund(ctx, rf, now)
	if err != nil || !settled {
		return err
	}
	// A review's refund reserved nothing and is counted by the provider's
	// refund event (see RequestReviewRefund).
	counted := rf.ReviewID == ""
	if counted {
		if err := r.ReleaseRefund(ctx, sess.ID, rf.Amount, false, now); err != nil {
			return err
		}
	}
	ev := domain.EventRefundFailed
	if o.status == domain.RefundSucceeded {
		ev = domain.EventRefundSucceeded
	}
	if err := s.appendRefundEvent(ctx, r, tx, sess, rf, ev, now); err != nil {
		return err
	}
	if o.status == domain.RefundSucceeded && counted {
		if err := s.sessions.SettleRefundTx(ctx, r, tx, sess, rf.ProviderID, rf.ID, rf.Amount, now); err != nil {
			return err
		}
	} else {
		sess.UpdatedAt = now
		if err := r.UpdateSession(ctx, sess); err != nil {
			return err
		}
		if o.status == domain.RefundSucceeded && o.providerEventID == "" {
			// A review's refund that the provider call made: applied as
			// its refund event would be (the webhook, if one comes, finds
			// it applied).
			if err := s.applyReviewRefund(ctx, r, tx, sess, rf, now); err != nil {
				return err
			}
		}
	}
	s.count(ctx, string(o.status), rf.Source)
	s.log.InfoContext(ctx, "refund settled", "refund_id", rf.ID, "session_id", rf.SessionID, "status", o.status,
		"provider_refund_id", rf.ProviderRefundID, "failure_code", o.failureCode)
	return nil
}

// applyReviewRefund applies a review's refund to its session through the
// payments service's provider-event rules, as the refund event it stands
// for (see RequestReviewRefund).
func (s *Service) applyReviewRefund(ctx context.Context, r *store.Repo, tx bun.Tx, sess *store.Session, rf *store.Refund, now time.Time) error {
	eventID := "switchyard_refund:" + rf.ID
	if err := r.NoteRefundProvider(ctx, rf.ID, "", eventID, now); err != nil {
		return err
	}
	att, err := r.GetAttempt(ctx, rf.AttemptID)
	if err != nil {
		return err
	}
	kind := provider.PaymentPartiallyRefunded
	if rf.FullRefund {
		kind = provider.PaymentRefunded
	}
	ev := provider.Event{
		Type: kind, ProviderEventID: eventID, ProviderRef: att.ProviderRef, SessionID: sess.ID,
		Amount: rf.Amount, Currency: rf.Currency, OccurredAt: now, RawType: "switchyard.review_refund",
		Data: map[string]string{"refund_id": rf.ProviderRefundID},
	}
	return s.sessions.ApplyRefundEventTx(ctx, r, tx, rf.ProviderID, eventID, ev)
}

// freeRef is ref unless another refund already carries it (one upstream
// refund is one row, by a unique index): a webhook matched by amount may
// have given that id to another refund of the same amount.
func freeRef(ctx context.Context, r *store.Repo, rf *store.Refund, ref string) (string, error) {
	if ref == "" || rf.ProviderRefundID != "" {
		return "", nil
	}
	other, err := r.RefundByProviderRef(ctx, rf.ProviderID, ref)
	switch {
	case errors.Is(err, domain.ErrNotFound):
		return ref, nil
	case err != nil:
		return "", err
	case other.ID != rf.ID:
		return "", nil
	}
	return ref, nil
}

func nonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
