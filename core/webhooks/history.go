package webhooks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/webhook"
)

// Listing limits.
const (
	DefaultListLimit = 100
	MaxListLimit     = 1000
)

func clampLimit(n int) int {
	if n <= 0 {
		return DefaultListLimit
	}
	return min(n, MaxListLimit)
}

// Event is an outbound event as the admin API shows it.
type Event struct {
	ID        string          `json:"id"`
	Event     string          `json:"event"`
	CreatedAt time.Time       `json:"created_at"`
	TenantID  int64           `json:"tenant_id"`
	Mode      string          `json:"mode"`
	SessionID string          `json:"session_id"`
	Sequence  int64           `json:"sequence"`
	Data      json.RawMessage `json:"data"`
}

func eventView(e *store.Event) *Event {
	return &Event{ID: e.ID, Event: e.Type, CreatedAt: e.CreatedAt, TenantID: e.MerchantID, Mode: string(e.Mode),
		SessionID: e.SessionID, Sequence: e.Seq, Data: json.RawMessage(e.Data)}
}

// Delivery is a delivery as the admin API shows it.
type Delivery struct {
	ID             string     `json:"id"`
	EventID        string     `json:"event_id"`
	EventType      string     `json:"event_type"`
	MerchantID     int64      `json:"merchant_id"`
	EndpointID     *string    `json:"endpoint_id"`
	URL            string     `json:"url"`
	Status         string     `json:"status"`
	Attempts       int        `json:"attempts"`
	NextAttemptAt  *time.Time `json:"next_attempt_at"`
	LastStatusCode *int       `json:"last_status_code"`
	LastError      string     `json:"last_error"`
	CreatedAt      time.Time  `json:"created_at"`
	UpdatedAt      time.Time  `json:"updated_at"`
	// AttemptLog is filled by GetDelivery and GetEvent.
	AttemptLog []*Attempt `json:"attempt_log,omitempty"`
}

func deliveryView(d *store.WebhookDelivery) *Delivery {
	return &Delivery{ID: d.ID, EventID: d.EventID, EventType: d.EventType, MerchantID: d.MerchantID,
		EndpointID: d.EndpointID, URL: d.URL, Status: d.Status, Attempts: d.Attempts, NextAttemptAt: d.NextAttemptAt,
		LastStatusCode: d.LastStatusCode, LastError: d.LastError, CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt}
}

// Attempt is one POST of a delivery.
type Attempt struct {
	N            int        `json:"n"`
	Cause        string     `json:"cause"`
	State        string     `json:"state"`
	ScheduledAt  time.Time  `json:"scheduled_at"`
	AttemptedAt  *time.Time `json:"attempted_at"`
	StatusCode   *int       `json:"status_code"`
	LatencyMS    *int64     `json:"latency_ms"`
	ResponseBody string     `json:"response_body"`
	Error        string     `json:"error"`
}

func attemptView(a *store.WebhookAttempt) *Attempt {
	return &Attempt{N: a.N, Cause: a.Cause, State: a.State, ScheduledAt: a.ScheduledAt, AttemptedAt: a.AttemptedAt,
		StatusCode: a.StatusCode, LatencyMS: a.LatencyMS, ResponseBody: a.ResponseBody, Error: a.Error}
}

// EventDetail is an event with every delivery and attempt.
type EventDetail struct {
	*Event
	Deliveries []*Delivery `json:"deliveries"`
}

// ListEvents lists events, newest first.
func (s *Service) ListEvents(ctx context.Context, f store.EventFilter) ([]*Event, error) {
	f.Limit = clampLimit(f.Limit)
	es, err := s.store.FindEvents(ctx, f)
	if err != nil {
		return nil, err
	}
	out := make([]*Event, 0, len(es))
	for _, e := range es {
		out = append(out, eventView(e))
	}
	return out, nil
}

// GetEvent returns an event with its deliveries and their attempts.
func (s *Service) GetEvent(ctx context.Context, id string) (*EventDetail, error) {
	e, err := s.store.GetEventByID(ctx, id)
	if err != nil {
		return nil, err
	}
	ds, err := s.store.ListWebhookDeliveries(ctx, store.DeliveryFilter{EventID: id})
	if err != nil {
		return nil, err
	}
	out := &EventDetail{Event: eventView(e), Deliveries: make([]*Delivery, 0, len(ds))}
	for _, d := range ds {
		dv, err := s.withAttempts(ctx, d)
		if err != nil {
			return nil, err
		}
		out.Deliveries = append(out.Deliveries, dv)
	}
	return out, nil
}

func (s *Service) withAttempts(ctx context.Context, d *store.WebhookDelivery) (*Delivery, error) {
	as, err := s.store.WebhookAttempts(ctx, d.ID)
	if err != nil {
		return nil, err
	}
	dv := deliveryView(d)
	dv.AttemptLog = make([]*Attempt, 0, len(as))
	for _, a := range as {
		dv.AttemptLog = append(dv.AttemptLog, attemptView(a))
	}
	return dv, nil
}

// ListDeliveries lists deliveries, newest first.
func (s *Service) ListDeliveries(ctx context.Context, f store.DeliveryFilter) ([]*Delivery, error) {
	f.Limit = clampLimit(f.Limit)
	ds, err := s.store.ListWebhookDeliveries(ctx, f)
	if err != nil {
		return nil, err
	}
	out := make([]*Delivery, 0, len(ds))
	for _, d := range ds {
		out = append(out, deliveryView(d))
	}
	return out, nil
}

// GetDelivery returns a delivery with its attempts.
func (s *Service) GetDelivery(ctx context.Context, id string) (*Delivery, error) {
	d, err := s.store.GetWebhookDelivery(ctx, id)
	if err != nil {
		return nil, err
	}
	return s.withAttempts(ctx, d)
}

// Resend schedules one more attempt of a settled delivery (succeeded,
// failed or disabled), right away. A pending delivery already has an
// attempt coming: that is a conflict. A manual attempt that fails does not
// start a new retry schedule.
func (s *Service) Resend(ctx context.Context, id string) (*Delivery, error) {
	return s.resend(ctx, id, store.CauseResend)
}

func (s *Service) resend(ctx context.Context, id, cause string) (*Delivery, error) {
	var out *store.WebhookDelivery
	err := s.store.RunInTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		r := store.NewRepo(tx)
		d, err := r.GetWebhookDelivery(ctx, id)
		if err != nil {
			return err
		}
		if d.Status == store.DeliveryPending {
			return domain.Conflict("delivery_pending", "delivery %s already has an attempt scheduled", d.ID)
		}
		ep, err := s.resendTarget(ctx, r, d)
		if err != nil {
			return err
		}
		as, err := r.WebhookAttempts(ctx, d.ID)
		if err != nil {
			return err
		}
		ts := s.now()
		d.EndpointID = &ep.ID
		d.Status, d.NextAttemptAt, d.UpdatedAt = store.DeliveryPending, &ts, ts
		if err := s.scheduleAttempt(ctx, r, tx, d, len(as)+1, cause, ts); err != nil {
			return err
		}
		out = d
		return r.UpdateWebhookDelivery(ctx, d)
	})
	if err != nil {
		return nil, err
	}
	return deliveryView(out), nil
}

// resendTarget finds the enabled endpoint that signs a resend. An IPN
// delivery recorded before its site had an IPN config picks up the config
// added since.
func (s *Service) resendTarget(ctx context.Context, r *store.Repo, d *store.WebhookDelivery) (*store.WebhookEndpoint, error) {
	var ep *store.WebhookEndpoint
	var err error
	if d.EndpointID != nil {
		ep, err = r.GetWebhookEndpoint(ctx, *d.EndpointID)
	} else {
		var ev *store.Event
		if ev, err = r.GetEventByID(ctx, d.EventID); err != nil {
			return nil, err
		}
		var site string
		if site, _, err = r.SessionWebhookTarget(ctx, ev.SessionID); err != nil {
			return nil, err
		}
		ep, err = r.IPNEndpoint(ctx, d.MerchantID, site)
	}
	if errors.Is(err, domain.ErrNotFound) {
		return nil, domain.Unprocessable("endpoint_missing", "", "delivery %s has no endpoint to sign it (deleted, or no IPN config for the site)", d.ID)
	}
	if err != nil {
		return nil, err
	}
	if !ep.Enabled {
		return nil, domain.Conflict("endpoint_disabled", "%s; enable it before resending", disabledReason(ep))
	}
	return ep, nil
}

// RecoverRequest selects the deliveries to retry.
type RecoverRequest struct {
	Since      time.Time
	MerchantID int64
	EndpointID string
}

// RecoverResult counts what Recover did.
type RecoverResult struct {
	// Resent is every delivery scheduled again: ResentFailed ones (their
	// retries ran out) and ResentDisabled ones (recorded while their
	// endpoint was off, which is enabled again).
	Resent         int `json:"resent"`
	ResentFailed   int `json:"resent_failed"`
	ResentDisabled int `json:"resent_disabled"`
	// Skipped could not be resent (endpoint still disabled or deleted).
	Skipped int `json:"skipped"`
	// Errors explain the skipped ones (at most 20).
	Errors []string `json:"errors,omitempty"`
}

// Recover resends, one attempt each, every delivery created since a time
// (optionally one merchant's or one endpoint's) that failed, or that was
// recorded as disabled (its endpoint was off, e.g. after a 410) and whose
// endpoint is enabled again. Those whose endpoint is still disabled are
// skipped and listed.
func (s *Service) Recover(ctx context.Context, req RecoverRequest) (*RecoverResult, error) {
	if req.Since.IsZero() {
		return nil, domain.Invalid("invalid_since", "since", "since is required (RFC 3339)")
	}
	res := &RecoverResult{}
	for _, status := range []string{store.DeliveryFailed, store.DeliveryDisabled} {
		f := store.DeliveryFilter{MerchantID: req.MerchantID, EndpointID: req.EndpointID, Status: status,
			Since: req.Since, Limit: MaxListLimit}
		for {
			ds, err := s.store.ListWebhookDeliveries(ctx, f)
			if err != nil {
				return nil, err
			}
			for _, d := range ds {
				if _, err := s.resend(ctx, d.ID, store.CauseRecover); err != nil {
					if !errors.Is(err, domain.ErrConflict) && !errors.Is(err, domain.ErrUnprocessable) {
						return nil, err
					}
					res.Skipped++
					if len(res.Errors) < 20 {
						res.Errors = append(res.Errors, fmt.Sprintf("%s: %v", d.ID, err))
					}
					continue
				}
				res.Resent++
				if status == store.DeliveryFailed {
					res.ResentFailed++
				} else {
					res.ResentDisabled++
				}
			}
			if len(ds) < f.Limit {
				break
			}
			f.Before = ds[len(ds)-1].ID
		}
	}
	return res, nil
}

// TestResult is the outcome of a test delivery.
type TestResult struct {
	EventID      string `json:"event_id"`
	Succeeded    bool   `json:"succeeded"`
	StatusCode   int    `json:"status_code,omitempty"`
	LatencyMS    int64  `json:"latency_ms"`
	ResponseBody string `json:"response_body"`
	Error        string `json:"error,omitempty"`
}

// TestEvent is the type of test deliveries.
const TestEvent = "webhook.test"

// TestEndpoint signs and POSTs a webhook.test event to an endpoint now,
// and reports the answer. Test events are not stored and not retried.
func (s *Service) TestEndpoint(ctx context.Context, id string) (*TestResult, error) {
	ep, err := s.store.GetWebhookEndpoint(ctx, id)
	if err != nil {
		return nil, err
	}
	if ep.Kind != store.EndpointURL {
		return nil, domain.Unprocessable("no_url", "", "an IPN signing config has no URL to test; create a session with an ipn_url instead")
	}
	data, _ := json.Marshal(map[string]any{"endpoint_id": ep.ID, "message": "test event from Switchyard"})
	ev := &store.Event{ID: domain.NewEventID(), MerchantID: ep.MerchantID, Type: TestEvent, Data: string(data), CreatedAt: s.now()}
	body, err := Envelope(ev)
	if err != nil {
		return nil, err
	}
	secrets, err := s.signingSecrets(ep, s.now())
	if err != nil {
		return nil, err
	}
	hdr, err := webhook.Sign(ep.Profile, secrets, ev.ID, s.now(), body)
	if err != nil {
		return nil, err
	}
	out := s.post(ctx, ep.URL, hdr, body)
	return &TestResult{EventID: ev.ID, Succeeded: out.state == store.AttemptOK, StatusCode: out.code,
		LatencyMS: out.latency.Milliseconds(), ResponseBody: out.body, Error: out.err}, nil
}
