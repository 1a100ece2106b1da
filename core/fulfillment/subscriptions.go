package fulfillment

import (
	"context"
	"fmt"
	"strings"

	"github.com/uptrace/bun"

	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/sdk/provider"
)

// Reasons of the subscription lifecycle's actions: the suspension's is
// what WHM records (suspendacct reason) and what the suspended mail says.
const (
	ReasonChargeFailed = "subscription charge failed"
	ReasonRenewed      = "subscription renewed"
)

// SubscriptionEventTx reacts to an event of a subscription linked to sess,
// inside the provider event's transaction (core/payments found the link
// and checked the instance's mode; a redelivered event never gets here):
//
//   - subscription.payment_failed: each live service of the session gets
//     a suspend action due when its product's grace_period ends (at once
//     without one). A service already suspended for non-payment, or with
//     such a suspend pending, is left alone: the grace period counts from
//     the first failed charge, not from the provider's retries.
//   - subscription.renewed: pending suspends for non-payment are canceled
//     (a job that fires later finds its action canceled and does nothing),
//     and a service suspended for non-payment is unsuspended. A suspension
//     by an operator, a refund or anything else stays.
//
// On a paused service (a dispute) these actions wait like every automatic
// one. It returns what it did, for the provider event's record.
func (s *Service) SubscriptionEventTx(ctx context.Context, tx bun.Tx, sess *store.Session, typ provider.EventType) (string, error) {
	r := store.NewRepo(tx)
	svcs, err := r.SessionServices(ctx, sess.ID)
	if err != nil {
		return "", err
	}
	var did []string
	for _, svc := range svcs {
		if svc.Kind != domain.KindProvision || svc.Status == domain.ServiceTerminated {
			continue
		}
		var what string
		switch typ {
		case provider.SubscriptionPaymentFailed:
			what, err = s.chargeFailed(ctx, r, tx, svc)
		case provider.SubscriptionRenewed:
			what, err = s.renewed(ctx, r, tx, svc)
		default:
			return fmt.Sprintf("%s changes no service", typ), nil
		}
		if err != nil {
			return "", fmt.Errorf("fulfillment: %s: service %s: %w", typ, svc.ID, err)
		}
		s.log.InfoContext(ctx, "subscription event", "type", typ, "service_id", svc.ID, "session_id", sess.ID, "did", what)
		did = append(did, svc.ID+" "+what)
	}
	if len(did) == 0 {
		return "the session has no live service", nil
	}
	return strings.Join(did, "; "), nil
}

// graceSuspend reports a suspend for non-payment.
func graceSuspend(a *store.ServiceAction) bool {
	return a.Action == domain.ActionSuspend && a.Source == SourceSubscription
}

// chargeFailed queues the suspension of svc for non-payment, due when the
// product's grace period ends.
func (s *Service) chargeFailed(ctx context.Context, r *store.Repo, tx bun.Tx, svc *store.Service) (string, error) {
	if svc.Status == domain.ServiceSuspended && svc.SuspendSource == SourceSubscription {
		return "suspended for non-payment already", nil
	}
	acts, err := r.ServiceActions(ctx, svc.ID, domain.ActionPending, domain.ActionPaused)
	if err != nil {
		return "", err
	}
	for _, a := range acts {
		if graceSuspend(a) {
			return "has a suspend for non-payment pending already (" + a.ID + ")", nil
		}
	}
	spec, err := itemSpec(ctx, r, svc.ItemID)
	if err != nil {
		return "", err
	}
	na := newAction{action: domain.ActionSuspend, source: SourceSubscription, reason: ReasonChargeFailed}
	what := "suspend queued now (no grace period)"
	if g := spec.Grace(); g > 0 {
		na.notBefore = s.now().Add(g)
		what = fmt.Sprintf("suspend due at %s (grace period %s)", formatTime(na.notBefore), g)
	}
	if svc.Paused {
		what += "; the service is paused, so it waits for an operator's resume"
	}
	return what, s.enqueueAction(ctx, r, tx, svc, na)
}

// renewed cancels pending suspends for non-payment of svc and lifts a
// suspension for non-payment.
func (s *Service) renewed(ctx context.Context, r *store.Repo, tx bun.Tx, svc *store.Service) (string, error) {
	acts, err := r.ServiceActions(ctx, svc.ID, domain.ActionPending, domain.ActionPaused)
	if err != nil {
		return "", err
	}
	now := s.now()
	var did []string
	unsuspendQueued := false
	for _, a := range acts {
		switch {
		case graceSuspend(a):
			a.Status, a.LastError, a.UpdatedAt = domain.ActionCanceled, "subscription renewed before the suspension was made", now
			if err := r.UpdateServiceAction(ctx, a); err != nil {
				return "", err
			}
			did = append(did, "pending suspend "+a.ID+" canceled")
		case a.Action == domain.ActionUnsuspend && a.Source == SourceRenewal:
			unsuspendQueued = true
		}
	}
	switch {
	case svc.Status != domain.ServiceSuspended:
	case svc.SuspendSource != SourceSubscription:
		did = append(did, fmt.Sprintf("stays suspended (suspended by %s, not for non-payment)", orUnknown(svc.SuspendSource)))
	case unsuspendQueued:
		did = append(did, "unsuspend pending already")
	default:
		if err := s.enqueueAction(ctx, r, tx, svc, newAction{action: domain.ActionUnsuspend, source: SourceRenewal, reason: ReasonRenewed}); err != nil {
			return "", err
		}
		did = append(did, "unsuspend queued")
	}
	if len(did) == 0 {
		return "nothing to undo", nil
	}
	return strings.Join(did, ", "), nil
}

func orUnknown(s string) string {
	if s == "" {
		return "an earlier version (source not recorded)"
	}
	return s
}

// subscriptionMoot says why an action of the subscription lifecycle no
// longer applies when its turn comes, else "": a suspend for non-payment
// of a service suspended already (an operator's or a refund's suspension
// is not taken over, so a renewal will not lift it), or a renewal's
// unsuspend of a service that is no longer suspended for non-payment (a
// refund or an operator suspended it meanwhile).
func subscriptionMoot(svc *store.Service, a *store.ServiceAction) string {
	switch {
	case graceSuspend(a) && svc.Status == domain.ServiceSuspended:
		return fmt.Sprintf("the service is suspended already (by %s); left as it is", orUnknown(svc.SuspendSource))
	case a.Action == domain.ActionUnsuspend && a.Source == SourceRenewal &&
		(svc.Status != domain.ServiceSuspended || svc.SuspendSource != SourceSubscription):
		return "the service is not suspended for non-payment (any more); a renewal lifts only that"
	}
	return ""
}
