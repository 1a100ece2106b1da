package payments

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/sdk/provider"
)

// This file is what the refunds service (core/refunds) uses of sessions,
// so that a session's status, events and Idempotency-Keys keep one
// implementation.

// ValidateIdempotencyKey checks an Idempotency-Key header as session create
// does (at most 255 printable ASCII characters).
func ValidateIdempotencyKey(key string) error { return validateIdempotencyKey(key) }

// ValidateMetadata bounds metadata as session create does and returns its
// canonical JSON.
func ValidateMetadata(md map[string]string) (string, error) { return validateMetadata(md) }

// IdempotencyTTL is how long a stored Idempotency-Key response is replayed
// (sessions.idempotency_ttl).
func (s *Service) IdempotencyTTL() time.Duration { return s.idemTTL }

// ReplayIdempotent returns the stored response for a key and request hash,
// 409 idempotency_key_reused for another request under the key, or nil;
// stale reports an expired stored key, which the caller's transaction
// deletes before reusing it.
func (s *Service) ReplayIdempotent(ctx context.Context, r *store.Repo, merchantID int64, mode domain.Mode, key, hash string) (*Response, bool, error) {
	return s.replay(ctx, r, merchantID, mode, key, hash)
}

// StoreIdempotent stores resp for replay under key, in the caller's
// transaction; a concurrent request with the same key makes it a unique
// violation, which rolls the loser back.
func (s *Service) StoreIdempotent(ctx context.Context, r *store.Repo, merchantID int64, mode domain.Mode, key, hash string, resp *Response) error {
	return r.InsertIdempotencyKey(ctx, &store.IdempotencyKey{
		MerchantID: merchantID, Mode: mode, Key: key, RequestHash: hash,
		ResponseStatus: resp.Status, ResponseBody: resp.Body, SessionID: resp.SessionID, CreatedAt: s.now(),
	})
}

// AppendEventTx emits an event of sess in its sequence, with data as the
// payload (nil: the session as the status endpoint renders it), and hands
// it to the webhooks in the same transaction. The caller saves sess.
func (s *Service) AppendEventTx(ctx context.Context, r *store.Repo, tx bun.Tx, sess *store.Session, typ domain.DomainEvent, data []byte, at time.Time) error {
	if data == nil {
		return s.appendEvent(ctx, r, tx, sess, typ, at)
	}
	sess.EventSeq++
	return s.insertEvent(ctx, r, tx, sess, typ, data, at)
}

// SettleRefundTx counts a refund of amount that the provider made on the
// locked session, as the provider's refund event would: the state machine
// moves amount_refunded and the status (partially_refunded, or refunded
// once everything received went back, which closes the session's reviews),
// session.partially_refunded or session.refunded is emitted, and sess is
// saved. refundID names the refund in a review it may raise.
func (s *Service) SettleRefundTx(ctx context.Context, r *store.Repo, tx bun.Tx, sess *store.Session, providerID, refundID string, amount int64, at time.Time) error {
	st := sess.State()
	kind := domain.PaymentPartiallyRefunded
	if st.RefundedAmount+amount >= st.RefundBase() {
		kind = domain.PaymentRefunded
	}
	pe := domain.PaymentEvent{Kind: kind, Amount: amount, Currency: domain.Currency(sess.Currency)}
	tr := domain.ApplyEvent(st, pe)
	if !tr.Apply {
		return fmt.Errorf("refund %s of %d on session %s was not applied: %s", refundID, amount, sess.ID, tr.Reason)
	}
	if err := s.commitTransition(ctx, r, tx, sess, pe, tr, "", providerID, "refund:"+refundID, at); err != nil {
		return err
	}
	return r.UpdateSession(ctx, sess)
}

// PaymentData is the Data of the newest payment.succeeded event the
// provider instance sent for the session: upstream ids (PayPro's order and
// order item) a refund API may need. Empty when there is none.
func (s *Service) PaymentData(ctx context.Context, r *store.Repo, sessionID, providerID string) (map[string]string, error) {
	ev, err := r.LatestProviderEvent(ctx, sessionID, providerID, string(provider.PaymentSucceeded))
	if errors.Is(err, domain.ErrNotFound) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, err
	}
	var p eventPayload
	if err := json.Unmarshal([]byte(ev.Payload), &p); err != nil {
		return nil, fmt.Errorf("provider event %d: %w", ev.ID, err)
	}
	if p.Data == nil {
		p.Data = map[string]string{}
	}
	return p.Data, nil
}

// RefundMatcher settles providers' refund webhooks against Switchyard's
// own refunds, inside the webhook's transaction; *refunds.Service
// implements it.
type RefundMatcher interface {
	// MatchProviderRefundTx settles or notes the refund the event
	// reports; handled is false for a refund made upstream.
	MatchProviderRefundTx(ctx context.Context, r *store.Repo, tx bun.Tx, sess *store.Session, providerID string, ev provider.Event, eventID string) (handled bool, reason string, err error)
	// RecordProviderRefundTx records an upstream refund that was applied
	// to the session for applied minor units. The caller saves sess.
	RecordProviderRefundTx(ctx context.Context, r *store.Repo, tx bun.Tx, sess *store.Session, providerID string, ev provider.Event, eventID string, applied int64) error
}

// SetRefunds connects the refunds service, which is built after this one
// (it uses this service for sessions). Call it before serving. When m also
// carries out review refunds (ReviewRefunder) and none was given in Deps,
// it does those too.
func (s *Service) SetRefunds(m RefundMatcher) {
	s.refunds = m
	if rr, ok := m.(ReviewRefunder); ok && s.reviewRefunds == nil {
		s.reviewRefunds = rr
	}
}

// ApplyRefundEventTx applies a refund the provider made as its refund event
// would be applied (issue 11's rules: what fits is counted, reviews a full
// refund settles are closed), inside tx. eventID names it; the refunds
// service uses it for the refunds of review decisions, whose provider may
// send no refund event of its own.
func (s *Service) ApplyRefundEventTx(ctx context.Context, r *store.Repo, tx bun.Tx, providerID, eventID string, ev provider.Event) error {
	_, _, _, err := s.applyToSession(ctx, r, tx, providerID, eventID, ev, confirmation{}, s.now())
	return err
}
