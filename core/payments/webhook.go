package payments

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/sdk/provider"
	"github.com/switchyard/switchyard/sdk/sdkerr"
)

// ApplyWebhook handles one inbound provider webhook for provider instance
// providerID. typ is the {type} path segment and must equal the plugin's
// Describe name; an alias route passes "" to skip that check.
//
// Order of work, so nothing is acknowledged before it is durable and
// unverified traffic cannot fill the disk:
//  1. the plugin verifies and normalizes the request (HandleWebhook);
//  2. a request it accepted (events, or an answer below 400) is stored
//     whole and marked verified (webhook_requests); one it did not accept
//     is stored as a bounded excerpt (intakeExcerpt), counted in the
//     switchyard.webhook.intake.rejected metric, and answered;
//  3. each event is applied in its own transaction, de-duplicated by
//     (provider, provider event id);
//  4. the plugin's response is returned for the HTTP layer to send.
//
// One write per request, so junk costs one bounded row; the retention job
// (PruneWebhookRequests) deletes rows past their window.
//
// Errors: unknown provider or type mismatch → not found (404); a disabled
// instance, a plugin down or timing out → unavailable (503, the provider
// retries); a webhook that fails verification → unauthorized (401); a
// store failure → 500, and the provider's retry is safe because events are
// de-duplicated.
func (s *Service) ApplyWebhook(ctx context.Context, providerID, typ string, req provider.WebhookRequest) (provider.HTTPResponse, error) {
	desc, err := s.providers.Describe(providerID)
	if err != nil {
		if errors.Is(err, domain.ErrNotFound) {
			s.CountWebhookRejection(ctx, providerID, RejectUnknownProvider)
			return provider.HTTPResponse{}, domain.NotFound("provider")
		}
		s.CountWebhookRejection(ctx, providerID, RejectUnavailable)
		if _, ok := domain.AsError(err); ok {
			// The host's own answer (disabled, not started yet) says why.
			return provider.HTTPResponse{}, err
		}
		return provider.HTTPResponse{}, unavailable(err)
	}
	if typ != "" && typ != desc.Name {
		s.CountWebhookRejection(ctx, providerID, RejectNotFound)
		return provider.HTTPResponse{}, domain.NotFound("provider")
	}

	at := s.now()
	out, err := s.verifyWebhook(ctx, providerID, req)
	if err != nil || !acceptedWebhook(out) {
		s.recordRejected(ctx, providerID, req, at, responseStatus(out.Response, err))
		return out.Response, err
	}
	raw, err := verifiedRequest(providerID, req, at, responseStatus(out.Response, nil))
	if err != nil {
		return provider.HTTPResponse{}, err
	}
	if err := s.recordVerified(ctx, raw); err != nil {
		return provider.HTTPResponse{}, err
	}
	if err := s.applyWebhookEvents(ctx, providerID, raw.ID, out.Events); err != nil {
		// Best effort: the answer is diagnostics; the provider retries.
		if rerr := s.store.SetWebhookResponseStatus(context.WithoutCancel(ctx), raw.ID, errorStatus(err)); rerr != nil {
			s.log.WarnContext(ctx, "could not record webhook response status", "webhook_request_id", raw.ID, "err", rerr)
		}
		return provider.HTTPResponse{}, err
	}
	return out.Response, nil
}

// recordVerified stores a verified request before its events apply. It
// shares its commit with concurrent requests (group commit): on SQLite each
// commit is a serial fsync, and intake made two per webhook, which capped it
// near one webhook per two fsyncs whatever the CPU.
func (s *Service) recordVerified(ctx context.Context, raw *store.WebhookRequest) error {
	return s.store.RunInGroupTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		// A rerun after the group rolled back must not reuse an id that was
		// never committed.
		raw.ID = 0
		return store.NewRepo(tx).InsertWebhookRequest(ctx, raw)
	})
}

// verifyWebhook has the plugin verify and normalize req, mapping its
// errors onto the domain's.
func (s *Service) verifyWebhook(ctx context.Context, providerID string, req provider.WebhookRequest) (provider.WebhookResponse, error) {
	p, err := s.providers.Provider(providerID)
	if err != nil {
		if errors.Is(err, domain.ErrNotFound) {
			return provider.WebhookResponse{}, domain.NotFound("provider")
		}
		return provider.WebhookResponse{}, unavailable(err)
	}
	out, err := p.HandleWebhook(ctx, req)
	if err != nil {
		switch sdkerr.CategoryOf(err) {
		case sdkerr.CategoryUnauthorized:
			return provider.WebhookResponse{}, &domain.Error{Kind: domain.ErrUnauthorized, Code: "webhook_unverified",
				Message: "the webhook could not be verified"}
		case sdkerr.CategoryInvalidInput:
			return provider.WebhookResponse{}, domain.Invalid("invalid_webhook", "", "the webhook payload was rejected by the provider plugin")
		case sdkerr.CategoryNotFound:
			return provider.WebhookResponse{}, domain.NotFound("webhook route")
		default:
			return provider.WebhookResponse{}, unavailable(err)
		}
	}
	return out, nil
}

// applyWebhookEvents applies a verified request's events, oldest first.
// Events apply whenever the plugin returned no error, whatever its HTTP
// response: a redirect (303 back to the checkout) is a normal answer, and a
// plugin that rejects a request returns no events.
func (s *Service) applyWebhookEvents(ctx context.Context, providerID string, requestID int64, evs []provider.Event) error {
	events := append([]provider.Event(nil), evs...)
	sort.SliceStable(events, func(i, j int) bool { return events[i].OccurredAt.Before(events[j].OccurredAt) })
	for _, ev := range events {
		if _, err := s.applyProviderEvent(ctx, providerID, &requestID, ev); err != nil {
			return fmt.Errorf("apply %s event %s: %w", providerID, ev.ProviderEventID, err)
		}
	}
	return nil
}

// applyAccountEvent hands a webhook's account event (Stripe's
// account.application.deauthorized) to the accounts service in the event's
// transaction. An event it refuses is recorded as ignored rather than
// failed: the provider would otherwise redeliver it forever.
func (s *Service) applyAccountEvent(ctx context.Context, tx bun.Tx, providerID string, ev provider.Event) (store.ProviderEventOutcome, string, string, error) {
	if s.accounts == nil {
		return store.OutcomeIgnored, fmt.Sprintf("%s: connected accounts are not configured", ev.Type), "", nil
	}
	err := s.accounts.ApplyEventTx(ctx, tx, providerID, ev)
	var de *domain.Error
	switch {
	case err == nil:
		return store.OutcomeApplied, string(ev.Type) + " applied to the merchant's connected account", "", nil
	case errors.As(err, &de) && (errors.Is(err, domain.ErrInvalid) || errors.Is(err, domain.ErrNotFound)):
		return store.OutcomeIgnored, fmt.Sprintf("%s refused: %s", ev.Type, de.Message), "", nil
	}
	return "", "", "", err
}

// redactHeaders is the copy of the headers that is stored: credentials a
// provider may send (basic auth, cookies) are replaced, because stored
// requests are shown to operators. The plugin always gets the originals.
func redactHeaders(h http.Header) http.Header {
	out := h.Clone()
	for _, k := range []string{"Authorization", "Proxy-Authorization", "Cookie"} {
		if len(out.Values(k)) > 0 {
			out[http.CanonicalHeaderKey(k)] = []string{"[redacted]"}
		}
	}
	return out
}

// unavailable marks a plugin failure as 503 with a safe message, keeping
// the cause for logs.
func unavailable(cause error) error {
	return fmt.Errorf("%w: %w", &domain.Error{Kind: domain.ErrUnavailable, Code: "provider_unavailable",
		Message: "the payment provider plugin is unavailable; retry later"}, cause)
}

// errorStatus mirrors the HTTP error mapping for the webhook log.
func errorStatus(err error) int {
	switch {
	case errors.Is(err, domain.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, domain.ErrUnauthorized):
		return http.StatusUnauthorized
	case errors.Is(err, domain.ErrInvalid):
		return http.StatusBadRequest
	case errors.Is(err, domain.ErrUnavailable):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// Outcome is what applying one provider event did.
type Outcome struct {
	Duplicate bool
	SessionID string
	Outcome   store.ProviderEventOutcome
	Reason    string
}

// paymentKinds maps the SDK's normalized payment events onto the domain
// state machine's inputs (same strings; a test keeps them in step).
func paymentKind(t provider.EventType) (domain.PaymentEventKind, bool) {
	k := domain.PaymentEventKind(t)
	for _, known := range domain.PaymentEventKinds() {
		if k == known {
			return k, true
		}
	}
	return "", false
}

// eventPayload is how a normalized event is kept in provider_events.
type eventPayload struct {
	Type            provider.EventType `json:"type"`
	ProviderEventID string             `json:"provider_event_id"`
	ProviderRef     string             `json:"provider_ref"`
	SessionID       string             `json:"session_id,omitempty"`
	Amount          int64              `json:"amount"`
	Currency        string             `json:"currency,omitempty"`
	OccurredAt      string             `json:"occurred_at,omitempty"`
	RawType         string             `json:"raw_type,omitempty"`
	Data            map[string]string  `json:"data,omitempty"`
}

// applyProviderEvent applies one normalized event in one transaction: the
// de-duplication row, the session change, the attempt change, any review
// and the domain events commit together or not at all. A
// payment.succeeded that states no amount is first confirmed with the
// provider (confirmAmount), outside the transaction so no lock is held
// across a plugin call.
func (s *Service) applyProviderEvent(ctx context.Context, providerID string, requestID *int64, ev provider.Event) (Outcome, error) {
	p := eventPayload{Type: ev.Type, ProviderEventID: ev.ProviderEventID, ProviderRef: ev.ProviderRef, SessionID: ev.SessionID,
		Amount: ev.Amount, Currency: ev.Currency, RawType: ev.RawType, Data: ev.Data}
	if !ev.OccurredAt.IsZero() {
		p.OccurredAt = ev.OccurredAt.UTC().Format("2006-01-02T15:04:05.999999999Z")
	}
	payload, err := json.Marshal(p)
	if err != nil {
		return Outcome{}, fmt.Errorf("encode provider event: %w", err)
	}
	eventID := ev.ProviderEventID
	if eventID == "" {
		// Without an upstream id the content is the identity: an identical
		// redelivery still de-duplicates.
		sum := sha256.Sum256(payload)
		eventID = "sha256:" + hex.EncodeToString(sum[:])
	}
	conf := s.confirmAmount(ctx, providerID, ev)

	var out Outcome
	err = s.inTx(ctx, func(ctx context.Context, r *store.Repo, tx bun.Tx) error {
		out = Outcome{}
		now := s.now()
		row := &store.ProviderEvent{
			ProviderID: providerID, ProviderEventID: eventID, WebhookRequestID: requestID, Type: string(ev.Type),
			RawType: ev.RawType, ProviderRef: ev.ProviderRef, Payload: string(payload), Outcome: store.OutcomeRecorded, ReceivedAt: now,
		}
		inserted, err := r.InsertProviderEvent(ctx, row)
		if err != nil {
			return err
		}
		if !inserted {
			out = Outcome{Duplicate: true, Outcome: store.OutcomeIgnored, Reason: "duplicate provider event"}
			return nil
		}
		out.Outcome, out.Reason, out.SessionID, err = s.applyToSession(ctx, r, tx, providerID, eventID, ev, conf, now)
		if err != nil {
			return err
		}
		return r.UpdateProviderEventOutcome(ctx, providerID, eventID, out.SessionID, out.Outcome, out.Reason)
	})
	if err == nil {
		s.log.InfoContext(ctx, "provider event", "provider_id", providerID, "provider_event_id", eventID, "type", ev.Type,
			"session_id", out.SessionID, "outcome", out.Outcome, "reason", out.Reason, "duplicate", out.Duplicate)
		s.countSettled(ctx, providerID, ev, out)
	}
	return out, err
}

// confirmation is the amount and currency the core compares with the
// session for a payment.succeeded: the event's own when it states both,
// else what the provider's GetPayment answers. Amount 0 means none could be
// confirmed, and note says why (or how it was confirmed).
type confirmation struct {
	amount   int64
	currency domain.Currency
	note     string
}

// confirmAmount asks the provider instance the event came through about a
// payment.succeeded that states no amount or currency. Any failure leaves
// it unconfirmed: the session is then not settled, and reconciliation asks
// again later.
func (s *Service) confirmAmount(ctx context.Context, providerID string, ev provider.Event) confirmation {
	stated := confirmation{amount: ev.Amount, currency: domain.Currency(ev.Currency)}
	if ev.Type != provider.PaymentSucceeded || (ev.Amount > 0 && ev.Currency != "") {
		return stated
	}
	ref := ev.ProviderRef
	if ref == "" && domain.ValidSessionID(ev.SessionID) {
		atts, err := s.store.SessionAttempts(ctx, ev.SessionID)
		if err != nil {
			return confirmation{note: "could not read the session's attempts to confirm the amount"}
		}
		for i := len(atts) - 1; i >= 0 && ref == ""; i-- {
			if atts[i].ProviderID == providerID {
				ref = atts[i].ProviderRef
			}
		}
	}
	if ref == "" {
		return confirmation{note: "the event states no amount and names no payment to ask the provider about"}
	}
	p, err := s.providers.Provider(providerID)
	if err != nil {
		return confirmation{note: "the event states no amount and the provider plugin is unavailable to confirm it"}
	}
	pay, err := p.GetPayment(ctx, provider.GetPaymentRequest{ProviderRef: ref, SessionID: ev.SessionID})
	switch {
	case err != nil:
		s.log.WarnContext(ctx, "could not confirm a payment's amount", "provider_id", providerID, "provider_ref", ref, "err", err)
		return confirmation{note: fmt.Sprintf("the event states no amount and GetPayment failed (%s)", sdkerr.CategoryOf(err))}
	case pay.Status != provider.StatusSucceeded:
		return confirmation{note: fmt.Sprintf("the event states no amount and GetPayment reports the payment %s", pay.Status)}
	case pay.Amount <= 0 || pay.Currency == "":
		return confirmation{note: "the event states no amount and GetPayment does not state one either"}
	}
	return confirmation{amount: pay.Amount, currency: domain.Currency(pay.Currency),
		note: fmt.Sprintf("amount confirmed by GetPayment: %s", domain.Money{Amount: pay.Amount, Currency: domain.Currency(pay.Currency)})}
}

// applyToSession runs the state machine for one new event and persists
// the result; it returns the outcome to record and the session it concerned.
//
// Instance binding: an event changes a session only through the provider
// instance one of the session's attempts was routed to. The attempt is
// found by the event's provider ref at this instance; failing that, the
// session's latest attempt at this instance. A session with no attempt at
// this instance is not touched: the event is recorded with the reason. Nor
// is a session whose mode is not the instance's (mode_mismatch).
func (s *Service) applyToSession(ctx context.Context, r *store.Repo, tx bun.Tx, providerID, eventID string, ev provider.Event, conf confirmation, now time.Time) (store.ProviderEventOutcome, string, string, error) {
	kind, ok := paymentKind(ev.Type)
	if !ok {
		switch {
		case ev.Type == provider.AccountConnected || ev.Type == provider.AccountDisconnected:
			return s.applyAccountEvent(ctx, tx, providerID, ev)
		case subscriptionEvent(ev.Type):
			return s.applySubscriptionEvent(ctx, r, tx, providerID, eventID, ev, now)
		case ev.Type.MovesMoney():
			return store.OutcomeRecorded, fmt.Sprintf("%s moves money but has no session state; kept for the operator", ev.Type), ev.SessionID, nil
		}
		return store.OutcomeIgnored, fmt.Sprintf("%s does not change a checkout session", ev.Type), "", nil
	}

	b, err := s.bindSession(ctx, r, providerID, ev)
	if err != nil {
		return "", "", "", err
	}
	if b.refused != "" {
		return store.OutcomeRecorded, b.refused, b.sessionID(), nil
	}
	sess, att, note := b.sess, b.att, b.note

	refundKind := kind == domain.PaymentRefunded || kind == domain.PaymentPartiallyRefunded
	if refundKind && s.refunds != nil {
		// A refund Switchyard made is settled (or was already counted) by
		// the refunds service; only a refund made upstream goes on below.
		handled, reason, err := s.refunds.MatchProviderRefundTx(ctx, r, tx, sess, providerID, ev, eventID)
		if err != nil {
			return "", "", "", err
		}
		if handled {
			return store.OutcomeApplied, reason + note, sess.ID, nil
		}
	}

	pe := domain.PaymentEvent{Kind: kind, Amount: ev.Amount, Currency: domain.Currency(ev.Currency)}
	if kind == domain.PaymentSucceeded {
		pe.Amount, pe.Currency = conf.amount, conf.currency
		if conf.note != "" {
			note += "; " + conf.note
		}
	}
	tr := domain.ApplyEvent(sess.State(), pe)

	attemptKind := kind
	if tr.Unconfirmed {
		// Not settled: the attempt waits in processing for reconciliation.
		attemptKind = domain.PaymentProcessing
	}
	if next, ok := attemptAfter(att.Status, attemptKind); ok {
		att.Status, att.UpdatedAt = next, now
		if att.ProviderRef == "" && ev.ProviderRef != "" {
			att.ProviderRef = ev.ProviderRef
		}
		if kind == domain.PaymentFailed {
			att.Error = failureMessage(ev)
		}
		if err := r.UpdateAttempt(ctx, att); err != nil {
			return "", "", "", err
		}
	}

	if !tr.Apply && tr.Review == nil {
		return store.OutcomeRecorded, tr.Reason + note, sess.ID, nil
	}
	refundedBefore := sess.AmountRefunded
	if err := s.commitTransition(ctx, r, tx, sess, pe, tr, att.Method, providerID, eventID, now); err != nil {
		return "", "", "", err
	}
	if refundKind && tr.Apply && s.refunds != nil {
		// A refund made in the provider's dashboard: listed with the
		// session's refunds for what was applied.
		if err := s.refunds.RecordProviderRefundTx(ctx, r, tx, sess, providerID, ev, eventID, sess.AmountRefunded-refundedBefore); err != nil {
			return "", "", "", err
		}
	}
	if err := r.UpdateSession(ctx, sess); err != nil {
		return "", "", "", err
	}
	if !tr.Apply {
		return store.OutcomeRecorded, tr.Reason + note, sess.ID, nil
	}
	return store.OutcomeApplied, tr.Reason + note, sess.ID, nil
}

// commitTransition carries the transition the state machine made of pe onto
// the locked session: its new state (paid_at and, on hosted checkout, the
// shopper's method the first time money arrives; the refund decisions a
// refund closes), the review it found and its domain events. method is the paying
// attempt's; reviewEventID names what raised a review. The caller saves
// sess.
func (s *Service) commitTransition(ctx context.Context, r *store.Repo, tx bun.Tx, sess *store.Session, pe domain.PaymentEvent,
	tr domain.Transition, method, providerID, reviewEventID string, now time.Time) error {
	before := sess.Status
	if tr.Apply {
		sess.SetState(tr.Next)
		sess.UpdatedAt = now
		received := sess.Status.MoneyReceived() || sess.Status == domain.StatusRequiresReview
		if received && !before.MoneyReceived() && before != domain.StatusRequiresReview {
			if sess.PaidAt == nil && sess.Status.MoneyReceived() {
				sess.PaidAt = &now
			}
			// On hosted checkout the shopper chose the method; the session
			// tells the merchant which one it was.
			if sess.Method == "" {
				sess.Method = method
			}
		}
		if pe.Kind == domain.PaymentRefunded || pe.Kind == domain.PaymentPartiallyRefunded {
			full := sess.Status == domain.StatusRefunded && before != domain.StatusRefunded
			if err := s.closeRefundedReviews(ctx, r, sess, full, pe.Amount, pe.Currency, now); err != nil {
				return err
			}
		}
	}
	if tr.Review != nil {
		if err := s.openReview(ctx, r, sess, providerID, reviewEventID, *tr.Review, now); err != nil {
			return err
		}
	}
	if tr.Apply && tr.DomainEvent != "" {
		if err := s.appendEvent(ctx, r, tx, sess, tr.DomainEvent, now); err != nil {
			return err
		}
	}
	if tr.Review != nil && tr.DomainEvent != domain.EventSessionAmountMismatch {
		if err := s.appendEvent(ctx, r, tx, sess, domain.EventSessionAmountMismatch, now); err != nil {
			return err
		}
	}
	return nil
}

// binding is the session a provider event concerns, found through the
// instance it came from (see applyToSession).
type binding struct {
	sess *store.Session        // locked; nil when none was found
	att  *store.PaymentAttempt // the attempt at the event's instance
	note string                // what in the event contradicted the records
	// refused, when set, says why the event may not change the session.
	refused string
}

func (b binding) sessionID() string {
	if b.sess == nil {
		return ""
	}
	return b.sess.ID
}

// bindSession finds and locks the session an event concerns: the attempt
// by the event's provider ref at this instance, else the session the event
// names and its latest attempt at this instance. A session with no attempt
// at this instance, or of another mode than the instance's, is refused.
func (s *Service) bindSession(ctx context.Context, r *store.Repo, providerID string, ev provider.Event) (binding, error) {
	var b binding
	if ev.ProviderRef != "" {
		a, err := r.AttemptByProviderRef(ctx, providerID, ev.ProviderRef)
		switch {
		case err == nil:
			b.att = a
		case !errors.Is(err, domain.ErrNotFound):
			return b, err
		}
	}
	sessionID := ev.SessionID
	switch {
	case sessionID == "" && b.att != nil:
		sessionID = b.att.SessionID
	case sessionID != "" && b.att != nil && b.att.SessionID != sessionID:
		// The attempt is our own record of which session the upstream
		// payment belongs to; a contradicting event field is noted.
		b.note = fmt.Sprintf("; event named session %s but provider ref belongs to %s", sessionID, b.att.SessionID)
		sessionID = b.att.SessionID
	}
	if sessionID == "" || !domain.ValidSessionID(sessionID) {
		b.refused = "no session matches this event (unknown session id and provider ref)"
		return b, nil
	}
	sess, err := r.LockSession(ctx, sessionID)
	if errors.Is(err, domain.ErrNotFound) {
		b.refused = "no session " + sessionID
		return b, nil
	}
	if err != nil {
		return b, err
	}
	b.sess = sess
	if b.att == nil {
		atts, err := r.SessionAttempts(ctx, sess.ID)
		if err != nil {
			return b, err
		}
		b.att = latestAttemptAt(atts, providerID)
		if b.att == nil {
			b.refused = instanceMismatch(sess.ID, providerID, atts) + b.note
			return b, nil
		}
		if ev.ProviderRef != "" && b.att.ProviderRef != "" {
			b.note += fmt.Sprintf("; provider ref %s is not the attempt's (%s)", ev.ProviderRef, b.att.ProviderRef)
		}
	}
	if why := s.modeMismatch(sess, providerID); why != "" {
		b.refused = why + b.note
	}
	return b, nil
}

// modeMismatch says why an event from providerID may not change sess when
// the instance's mode is not the session's, else "". Routing keeps modes
// apart, but an instance can be reconfigured to the other mode after a
// session was routed to it: test money never settles a live session, nor
// live money a test one.
func (s *Service) modeMismatch(sess *store.Session, providerID string) string {
	m := s.router.Mode(providerID)
	if m == domain.Mode(sess.Mode) {
		return ""
	}
	return fmt.Sprintf("mode_mismatch: session %s is a %s-mode session and provider instance %s is a %s-mode instance; an event applies only through an instance of the session's mode, so it is recorded, not applied",
		sess.ID, sess.Mode, providerID, m)
}

// latestAttemptAt is the session's most recent attempt routed to
// providerID, or nil.
func latestAttemptAt(atts []*store.PaymentAttempt, providerID string) *store.PaymentAttempt {
	for i := len(atts) - 1; i >= 0; i-- {
		if atts[i].ProviderID == providerID {
			return atts[i]
		}
	}
	return nil
}

// instanceMismatch explains why an event from providerID does not touch a
// session none of whose attempts was routed there.
func instanceMismatch(sessionID, providerID string, atts []*store.PaymentAttempt) string {
	if len(atts) == 0 {
		return fmt.Sprintf("instance_mismatch: session %s has no payment attempt, so no provider instance may settle it; event from %s not applied", sessionID, providerID)
	}
	var routed []string
	for _, a := range atts {
		if !slices.Contains(routed, a.ProviderID) {
			routed = append(routed, a.ProviderID)
		}
	}
	return fmt.Sprintf("instance_mismatch: session %s was routed to %s, not %s; an event applies only through the instance the session's attempt was routed to, so it is recorded, not applied",
		sessionID, strings.Join(routed, ", "), providerID)
}

// attemptAfter moves an attempt forward only: pending → processing →
// succeeded | failed; a late success may follow a failure (money arrived
// after all), nothing follows success.
func attemptAfter(cur store.AttemptStatus, kind domain.PaymentEventKind) (store.AttemptStatus, bool) {
	var next store.AttemptStatus
	switch kind {
	case domain.PaymentProcessing:
		next = store.AttemptProcessing
	case domain.PaymentFailed:
		next = store.AttemptFailed
	case domain.PaymentSucceeded, domain.PaymentRefunded, domain.PaymentPartiallyRefunded,
		domain.PaymentDisputed, domain.PaymentDisputeWon, domain.PaymentDisputeLost:
		next = store.AttemptSucceeded
	default:
		return cur, false
	}
	switch cur {
	case store.AttemptSucceeded:
		return cur, false
	case store.AttemptFailed:
		return next, next == store.AttemptSucceeded
	case store.AttemptProcessing:
		return next, next != store.AttemptProcessing
	default:
		return next, next != cur
	}
}

// failureMessage is the shopper-safe text stored on a failed attempt.
func failureMessage(ev provider.Event) string {
	if code := ev.Data["failure_code"]; code != "" {
		return "payment failed (" + truncate(code, 60) + ")"
	}
	return "payment failed"
}
