package payments

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/sdk/provider"
)

// Subscriptions reacts to a linked subscription's renewal or failed
// renewal charge inside the provider event's transaction, with the
// subscription's session locked; *fulfillment.Service implements it (a
// failed charge suspends the session's services after their grace period,
// a renewal lifts a suspension for non-payment). It returns what it did,
// kept as the provider event's reason.
type Subscriptions interface {
	SubscriptionEventTx(ctx context.Context, tx bun.Tx, sess *store.Session, typ provider.EventType) (string, error)
}

// subscriptionEvent reports the event types applied through a
// subscription's link rather than a payment attempt.
func subscriptionEvent(t provider.EventType) bool {
	switch t {
	case provider.SubscriptionCreated, provider.SubscriptionRenewed, provider.SubscriptionPaymentFailed:
		return true
	}
	return false
}

// applySubscriptionEvent applies subscription.created (link the
// subscription to its session), subscription.renewed and
// subscription.payment_failed (through the link, to the Subscriptions
// hook). A subscription is known only through its link: an event for one
// that no subscription.created linked is recorded and changes nothing —
// the session is never guessed from a customer, an amount or a session id
// the event alone names.
func (s *Service) applySubscriptionEvent(ctx context.Context, r *store.Repo, tx bun.Tx, providerID, eventID string, ev provider.Event, now time.Time) (store.ProviderEventOutcome, string, string, error) {
	subID := strings.TrimSpace(ev.Data["subscription_id"])
	if subID == "" {
		return store.OutcomeRecorded, fmt.Sprintf("%s names no subscription_id; recorded, not applied", ev.Type), "", nil
	}
	if ev.Type == provider.SubscriptionCreated {
		return s.linkSubscription(ctx, r, providerID, eventID, subID, ev, now)
	}
	link, err := r.GetSubscription(ctx, providerID, subID)
	if errors.Is(err, domain.ErrNotFound) {
		return store.OutcomeRecorded, fmt.Sprintf("unknown_subscription: no session is linked to subscription %s at %s (no subscription.created of it resolved to a session); recorded, not applied",
			subID, providerID), "", nil
	}
	if err != nil {
		return "", "", "", err
	}
	sess, err := r.LockSession(ctx, link.SessionID)
	if err != nil {
		return "", "", "", err
	}
	if why := s.modeMismatch(sess, providerID); why != "" {
		return store.OutcomeRecorded, why, sess.ID, nil
	}
	if s.subscriptions == nil {
		return store.OutcomeRecorded, fmt.Sprintf("%s of subscription %s: nothing is wired to react to it; kept for the operator", ev.Type, subID), sess.ID, nil
	}
	did, err := s.subscriptions.SubscriptionEventTx(ctx, tx, sess, ev.Type)
	if err != nil {
		return "", "", "", err
	}
	return store.OutcomeApplied, fmt.Sprintf("%s of subscription %s: %s", ev.Type, subID, did), sess.ID, nil
}

// linkSubscription links a subscription to the session its
// subscription.created resolves to, by the same rules as a payment event
// (the attempt at this instance, the instance's mode). The first link
// stays: a later event naming another session does not move it.
func (s *Service) linkSubscription(ctx context.Context, r *store.Repo, providerID, eventID, subID string, ev provider.Event, now time.Time) (store.ProviderEventOutcome, string, string, error) {
	b, err := s.bindSession(ctx, r, providerID, ev)
	if err != nil {
		return "", "", "", err
	}
	if b.refused != "" {
		return store.OutcomeRecorded, "subscription " + subID + " not linked: " + b.refused, b.sessionID(), nil
	}
	sess := b.sess
	inserted, err := r.LinkSubscription(ctx, &store.Subscription{ProviderID: providerID, SubscriptionID: subID, SessionID: sess.ID,
		MerchantID: sess.MerchantID, Mode: sess.Mode, ProviderEventID: eventID, CreatedAt: now})
	if err != nil {
		return "", "", "", err
	}
	if inserted {
		return store.OutcomeApplied, fmt.Sprintf("subscription %s linked to session %s", subID, sess.ID) + b.note, sess.ID, nil
	}
	cur, err := r.GetSubscription(ctx, providerID, subID)
	if err != nil {
		return "", "", "", err
	}
	if cur.SessionID != sess.ID {
		return store.OutcomeRecorded, fmt.Sprintf("subscription %s is linked to session %s already; not moved to %s", subID, cur.SessionID, sess.ID) + b.note, sess.ID, nil
	}
	return store.OutcomeRecorded, fmt.Sprintf("subscription %s is linked to session %s already", subID, sess.ID), sess.ID, nil
}
