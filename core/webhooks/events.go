package webhooks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/uptrace/bun"

	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/store"
)

// envelopeTime is RFC 3339 UTC at second precision, like every time in the
// merchant API.
const envelopeTime = "2006-01-02T15:04:05Z"

// envelope is the body of every webhook, whatever the signing profile.
// Field order is the JSON order.
type envelope struct {
	ID        string          `json:"id"`
	Event     string          `json:"event"`
	CreatedAt string          `json:"created_at"`
	TenantID  int64           `json:"tenant_id"`
	Sequence  int64           `json:"sequence"`
	Data      json.RawMessage `json:"data"`
}

// Envelope renders an event as the body Switchyard POSTs: the same bytes on
// every attempt of every delivery of the event. data is the stored session
// document, byte for byte; sequence is the event's per-session number.
func Envelope(ev *store.Event) ([]byte, error) {
	data := json.RawMessage(ev.Data)
	if len(data) == 0 {
		data = json.RawMessage("{}")
	}
	b, err := json.Marshal(envelope{
		ID: ev.ID, Event: ev.Type, CreatedAt: ev.CreatedAt.UTC().Format(envelopeTime),
		TenantID: ev.MerchantID, Sequence: ev.Seq, Data: data,
	})
	if err != nil {
		return nil, fmt.Errorf("webhooks: render event %s: %w", ev.ID, err)
	}
	return b, nil
}

// DeliverArgs is the River job of one delivery attempt.
type DeliverArgs struct {
	DeliveryID string `json:"delivery_id"`
	AttemptID  int64  `json:"attempt_id"`
}

// Kind implements river.JobArgs.
func (DeliverArgs) Kind() string { return "webhook_delivery" }

// InsertOpts bounds River's own retries (database trouble while recording)
// whichever runner enqueues, with or without a Registry.
func (DeliverArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: deliverJobAttempts}
}

// deliverJobAttempts is how often River retries a job that could not record
// its attempt; receivers' failures never count here.
const deliverJobAttempts = 10

// EventsInserted creates the deliveries of freshly inserted events in the
// caller's transaction: one per endpoint whose site, mode and event filter
// match, plus one to the session's ipn_url when it has one. Each pending
// delivery gets its first attempt and that attempt's job, so the event, its
// deliveries and their jobs commit or vanish together. A disabled endpoint
// gets a delivery recorded as disabled and nothing is sent; Recover sends
// those once the endpoint is enabled again.
// sess is the events' session (all of events belong to it) as the
// transaction leaves it: its domain picks site-bound endpoints and its
// ipn_url gets a delivery. core/payments calls it through its EventSink
// hook.
func (s *Service) EventsInserted(ctx context.Context, tx bun.Tx, sess *store.Session, events ...*store.Event) error {
	if len(events) == 0 {
		return nil
	}
	r := s.store.InTx(tx)
	site, ipnURL := sess.Domain, sess.IPNURL
	eps, err := r.LiveWebhookEndpoints(ctx, sess.MerchantID)
	if err != nil {
		return err
	}
	for _, ev := range events {
		if ev.SessionID != sess.ID {
			return fmt.Errorf("webhooks: event %s is for session %s, not %s", ev.ID, ev.SessionID, sess.ID)
		}
		for _, ep := range eps {
			if (ep.Site != "" && ep.Site != site) || (ep.Mode != "" && ep.Mode != string(ev.Mode)) || !matchesType(ep.EventTypes, ev.Type) {
				continue
			}
			if err := s.createDelivery(ctx, r, tx, ev, ep, ep.URL); err != nil {
				return err
			}
		}
		if ipnURL == "" {
			continue
		}
		cfg, err := r.IPNEndpoint(ctx, ev.MerchantID, site)
		if err != nil && !errors.Is(err, domain.ErrNotFound) {
			return err
		}
		if err := s.createDelivery(ctx, r, tx, ev, cfg, ipnURL); err != nil {
			return err
		}
	}
	return nil
}

// createDelivery inserts a delivery of ev to url. ep is the endpoint (or
// IPN config) that signs it; without one, or when it is disabled, the
// delivery is recorded as disabled with the reason, and never sent.
func (s *Service) createDelivery(ctx context.Context, r *store.Repo, tx bun.Tx, ev *store.Event, ep *store.WebhookEndpoint, url string) error {
	ts := s.now()
	d := &store.WebhookDelivery{
		ID: domain.NewDeliveryID(), EventID: ev.ID, MerchantID: ev.MerchantID, EventType: ev.Type,
		URL: url, Status: store.DeliveryPending, CreatedAt: ts, UpdatedAt: ts,
	}
	switch {
	case ep == nil:
		d.Status = store.DeliveryDisabled
		d.LastError = "no IPN signing config for this site: add one with `switchyard endpoints add --ipn`, then resend"
	case !ep.Enabled:
		d.EndpointID = &ep.ID
		d.Status = store.DeliveryDisabled
		d.LastError = disabledReason(ep)
	default:
		d.EndpointID = &ep.ID
	}
	if d.Status == store.DeliveryPending {
		d.NextAttemptAt = &ts
	}
	if err := r.InsertWebhookDelivery(ctx, d); err != nil {
		return err
	}
	if d.Status != store.DeliveryPending {
		return nil
	}
	return s.scheduleAttempt(ctx, r, tx, d, 1, store.CauseAuto, ts)
}

// scheduleAttempt writes attempt n of d and its job, due at at.
func (s *Service) scheduleAttempt(ctx context.Context, r *store.Repo, tx bun.Tx, d *store.WebhookDelivery, n int, cause string, at time.Time) error {
	a := &store.WebhookAttempt{DeliveryID: d.ID, N: n, Cause: cause, State: store.AttemptScheduled, ScheduledAt: at}
	if err := r.InsertWebhookAttempt(ctx, a); err != nil {
		return err
	}
	var opts *river.InsertOpts
	if at.After(s.now()) {
		opts = &river.InsertOpts{ScheduledAt: at}
	}
	_, err := s.jobs.EnqueueTx(ctx, tx, DeliverArgs{DeliveryID: d.ID, AttemptID: a.ID}, opts)
	return err
}
