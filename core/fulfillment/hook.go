package fulfillment

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/store"
)

// Action sources: who asked for an action. Automatic ones pause with a
// dispute; an operator's run regardless. A suspension keeps its action's
// source (services.suspend_source): SourceSubscription marks a suspension
// for non-payment, the only kind SourceRenewal lifts.
const (
	SourcePayment      = "payment"
	SourceRefund       = "refund"
	SourceSubscription = "subscription"
	SourceRenewal      = "renewal"
	SourceOperator     = "operator"
)

// EventsInserted reacts to a session's events inside the transaction that
// inserted them (core/app fans the payments service's events out to the
// webhooks and to this service):
//
//   - session.paid: the client is recorded (client.created or
//     client.updated) and every item's kind enqueues its work. Only
//     session.paid starts fulfillment: a session held for amount review
//     emits it only when an operator accepts the review.
//   - session.disputed: the session's services are paused; their pending
//     automatic actions wait until an operator resumes them.
//   - session.refunded (everything went back, by any route): each
//     service is suspended or terminated as its product says.
func (s *Service) EventsInserted(ctx context.Context, tx bun.Tx, sess *store.Session, events ...*store.Event) error {
	for _, ev := range events {
		var err error
		switch domain.DomainEvent(ev.Type) {
		case domain.EventSessionPaid:
			err = s.onPaid(ctx, tx, sess)
		case domain.EventSessionDisputed:
			err = s.pauseSession(ctx, tx, sess.ID, "dispute opened on session "+sess.ID)
		case domain.EventSessionRefunded:
			err = s.onRefunded(ctx, tx, sess)
		}
		if err != nil {
			return fmt.Errorf("fulfillment: %s: %w", ev.Type, err)
		}
	}
	return nil
}

func (s *Service) onPaid(ctx context.Context, tx bun.Tx, sess *store.Session) error {
	if sess.Items == "" {
		return nil
	}
	r := store.NewRepo(tx)
	existing, err := r.SessionServices(ctx, sess.ID)
	if err != nil {
		return err
	}
	if len(existing) > 0 {
		return nil // started already
	}
	rows, err := r.SessionItems(ctx, sess.ID)
	if err != nil {
		return err
	}
	items := make([]Item, 0, len(rows))
	for _, row := range rows {
		it, err := s.item(row)
		if err != nil {
			return err
		}
		items = append(items, it)
	}
	fs := Session{ID: sess.ID, MerchantID: sess.MerchantID, Mode: domain.Mode(sess.Mode), OrderID: sess.OrderID, CustomerEmail: sess.CustomerEmail}
	if sess.CustomerEmail != "" {
		if fs.ClientID, err = s.recordClient(ctx, r, tx, sess, items); err != nil {
			return err
		}
	}
	for _, it := range items {
		k, ok := s.kinds[it.Spec.Kind]
		if !ok {
			return fmt.Errorf("item %s: no handler for kind %s", it.ID, it.Spec.Kind)
		}
		if err := k.Enqueue(ctx, tx, fs, it); err != nil {
			return fmt.Errorf("item %s: %w", it.ID, err)
		}
	}
	return nil
}

// pauseSession pauses the session's live services and their pending
// automatic actions.
func (s *Service) pauseSession(ctx context.Context, tx bun.Tx, sessionID, reason string) error {
	r := store.NewRepo(tx)
	svcs, err := r.SessionServices(ctx, sessionID)
	if err != nil {
		return err
	}
	now := s.now()
	for _, svc := range svcs {
		if svc.Status == domain.ServiceTerminated || svc.Paused {
			continue
		}
		svc.Paused, svc.PauseReason, svc.UpdatedAt = true, reason, now
		if err := r.UpdateService(ctx, svc); err != nil {
			return err
		}
		acts, err := r.ServiceActions(ctx, svc.ID, domain.ActionPending)
		if err != nil {
			return err
		}
		for _, a := range acts {
			if isOperator(a.Source) {
				continue
			}
			a.Status, a.UpdatedAt = domain.ActionPaused, now
			if err := r.UpdateServiceAction(ctx, a); err != nil {
				return err
			}
		}
		s.log.InfoContext(ctx, "service paused", "service_id", svc.ID, "session_id", sessionID, "reason", reason)
	}
	return nil
}

// onRefunded suspends or terminates the session's services per product.
func (s *Service) onRefunded(ctx context.Context, tx bun.Tx, sess *store.Session) error {
	r := store.NewRepo(tx)
	svcs, err := r.SessionServices(ctx, sess.ID)
	if err != nil {
		return err
	}
	for _, svc := range svcs {
		if svc.Status == domain.ServiceTerminated {
			continue
		}
		spec, err := itemSpec(ctx, r, svc.ItemID)
		if err != nil {
			return err
		}
		act := domain.ActionSuspend
		if spec.OnRefund == domain.RefundTerminate {
			act = domain.ActionTerminate
		}
		if err := s.enqueueAction(ctx, r, tx, svc, newAction{action: act, source: SourceRefund,
			reason: "session " + sess.ID + " refunded"}); err != nil {
			return err
		}
	}
	return nil
}

func itemSpec(ctx context.Context, r *store.Repo, itemID string) (domain.FulfillmentSpec, error) {
	var spec domain.FulfillmentSpec
	row, err := r.GetSessionItem(ctx, itemID)
	if err != nil {
		return spec, err
	}
	if err := json.Unmarshal([]byte(row.Spec), &spec); err != nil {
		return spec, fmt.Errorf("item %s: decode spec: %w", itemID, err)
	}
	return spec, nil
}
