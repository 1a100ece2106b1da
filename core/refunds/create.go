package refunds

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/uptrace/bun"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/payments"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/sdk/provider"
)

// CreateRequest is the body of POST /v1/sessions/{id}/refunds. Amount is raw
// so that a JSON number gets invalid_amount (amounts are strings) rather
// than a type error; omitted or null means everything left to refund.
type CreateRequest struct {
	Amount   json.RawMessage   `json:"amount,omitempty"`
	Reason   string            `json:"reason,omitempty"`
	Metadata map[string]string `json:"metadata,omitempty"`
}

// Caller is who asks for a refund. A merchant sees only its own sessions
// of its key's mode; an operator (MerchantID 0) sees every session.
type Caller struct {
	MerchantID int64
	Mode       domain.Mode
	Source     domain.RefundSource
}

// Merchant is the caller of the merchant API.
func Merchant(merchantID int64, mode domain.Mode) Caller {
	return Caller{MerchantID: merchantID, Mode: mode, Source: domain.RefundSourceAPI}
}

// Operator is the caller of the admin API and the CLI.
func Operator() Caller { return Caller{Source: domain.RefundSourceOperator} }

// Create validates a refund of a session and creates it, or returns the
// response an earlier request with the same Idempotency-Key got.
//
// The refund row, the reservation of its amount on the session (a
// conditional UPDATE that refuses to exceed what the session received),
// its refund.created event and the job that calls the provider are one
// transaction: a refund exists exactly when its provider call will be
// made. The answer is 201 with the refund, pending until the provider
// settles it.
//
// Idempotency-Key works as for session create: the first response is
// stored and replayed byte for byte for the same body and session; another
// body or session under the key is 409 idempotency_key_reused; concurrent
// requests with one key create one refund (the key's primary key decides,
// the loser replays the winner). Keys are scoped to the session's merchant
// and mode, shared with session create's.
func (s *Service) Create(ctx context.Context, c Caller, sessionID string, req *CreateRequest, idemKey string) (*payments.Response, error) {
	if idemKey != "" {
		if err := payments.ValidateIdempotencyKey(idemKey); err != nil {
			return nil, err
		}
	}
	reason, err := domain.ParseRefundReason(req.Reason)
	if err != nil {
		return nil, err
	}
	md, err := payments.ValidateMetadata(req.Metadata)
	if err != nil {
		return nil, err
	}
	// Currency never changes: read the session once outside the
	// transaction to parse the amount (400s store nothing) and to scope
	// the key.
	sess, err := sessionFor(ctx, s.store.Repo, c.MerchantID, c.Mode, sessionID, false)
	if err != nil {
		return nil, err
	}
	merchantID, mode := sess.MerchantID, domain.Mode(sess.Mode)
	var hash string
	stale := false
	if idemKey != "" {
		if hash, err = requestHash(sessionID, req); err != nil {
			return nil, err
		}
		resp, wasStale, err := s.sessions.ReplayIdempotent(ctx, s.store.Repo, merchantID, mode, idemKey, hash)
		if resp != nil || err != nil {
			return resp, err
		}
		stale = wasStale
	}
	var amount int64
	if len(req.Amount) > 0 && string(bytes.TrimSpace(req.Amount)) != "null" {
		if amount, err = domain.ParseAmountJSON(req.Amount, domain.Currency(sess.Currency)); err != nil {
			return nil, err
		}
	}

	var resp *payments.Response
	var created *store.Refund
	attempt := 0
	err = s.inTx(ctx, func(ctx context.Context, r *store.Repo, tx bun.Tx) error {
		resp, created = nil, nil
		attempt++
		now := s.now()
		if idemKey != "" && (stale || attempt > 1) {
			if err := r.DeleteIdempotencyKey(ctx, merchantID, mode, idemKey, now.Add(-s.sessions.IdempotencyTTL())); err != nil {
				return err
			}
			replayed, _, err := s.sessions.ReplayIdempotent(ctx, r, merchantID, mode, idemKey, hash)
			if replayed != nil || err != nil {
				resp = replayed
				return err
			}
		}
		rf, err := s.createTx(ctx, r, tx, c, sessionID, amount, reason, md, now)
		if err != nil {
			return err
		}
		body, err := Render(View(rf))
		if err != nil {
			return err
		}
		resp, created = &payments.Response{Status: http.StatusCreated, Body: body, SessionID: sessionID}, rf
		if idemKey != "" {
			return s.sessions.StoreIdempotent(ctx, r, merchantID, mode, idemKey, hash, resp)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if created != nil {
		s.count(ctx, "created", created.Source)
		s.log.InfoContext(ctx, "refund created", "refund_id", created.ID, "session_id", created.SessionID,
			"amount", created.Amount, "currency", created.Currency, "provider_id", created.ProviderID, "source", created.Source)
	}
	return resp, nil
}

// createTx checks the session under its lock, reserves the amount and
// writes the refund, its event and its job.
func (s *Service) createTx(ctx context.Context, r *store.Repo, tx bun.Tx, c Caller, sessionID string, amount int64,
	reason domain.RefundReason, md string, now time.Time) (*store.Refund, error) {
	sess, err := sessionFor(ctx, r, c.MerchantID, c.Mode, sessionID, true)
	if err != nil {
		return nil, err
	}
	amount, full, err := domain.CheckRefund(refundState(sess), amount)
	if err != nil {
		return nil, err
	}
	att, err := refundedAttempt(ctx, r, sess.ID)
	if err != nil {
		e := domain.Conflict("not_refundable", "the session has no provider payment to refund")
		e.Field = "session_id"
		return nil, e
	}
	if err := s.checkCapabilities(att.ProviderID, full); err != nil {
		return nil, err
	}
	ok, err := r.ReserveRefund(ctx, sess.ID, amount, now)
	if err != nil {
		return nil, err
	}
	if !ok {
		// Another refund took the rest between our read and the update.
		return nil, domain.Unprocessable("amount_exceeds_refundable", "amount", "amount exceeds what is left to refund")
	}
	rf := &store.Refund{
		ID: domain.NewRefundID(), SessionID: sess.ID, MerchantID: sess.MerchantID, Mode: sess.Mode,
		ProviderID: att.ProviderID, AttemptID: att.ID, Amount: amount, Currency: sess.Currency, FullRefund: full,
		Reason: reason, Metadata: md, Status: domain.RefundPending, Source: c.Source, CreatedAt: now, UpdatedAt: now,
	}
	if err := r.InsertRefund(ctx, rf); err != nil {
		return nil, err
	}
	if err := s.appendRefundEvent(ctx, r, tx, sess, rf, domain.EventRefundCreated, now); err != nil {
		return nil, err
	}
	sess.UpdatedAt = now
	if err := r.UpdateSession(ctx, sess); err != nil {
		return nil, err
	}
	if _, err := s.jobs.EnqueueTx(ctx, tx, CallProviderArgs{RefundID: rf.ID}, nil); err != nil {
		return nil, fmt.Errorf("enqueue refund %s: %w", rf.ID, err)
	}
	return rf, nil
}

// refundState is what domain.CheckRefund needs from a session.
func refundState(sess *store.Session) domain.RefundState {
	return domain.RefundState{
		Status: sess.Status, Dispute: sess.Dispute, Currency: domain.Currency(sess.Currency), ReceivedCurrency: domain.Currency(sess.CurrencyReceived),
		Base: sess.State().RefundBase(), Refunded: sess.AmountRefunded, Pending: sess.AmountRefundPending,
	}
}

// checkCapabilities refuses a refund the session's provider is known not
// to be able to make (422 refunds_unsupported, partial_refunds_unsupported
// on amount).
func (s *Service) checkCapabilities(providerID string, full bool) error {
	desc, err := s.providers.Describe(providerID)
	switch {
	case errors.Is(err, domain.ErrNotFound):
		return domain.Unprocessable("refunds_unsupported", "", "the provider instance that took the payment (%s) is no longer configured", providerID)
	case err != nil:
		// Not running in this process (the CLI launches no plugins) or
		// down for now: the refund is accepted and its job, which waits for
		// the plugin, fails it if the provider cannot refund.
		return nil
	case !desc.Has(provider.CapabilityRefunds):
		return domain.Unprocessable("refunds_unsupported", "", "the payment's provider (%s) cannot refund through Switchyard", desc.Name)
	case !full && !desc.Has(provider.CapabilityPartialRefunds):
		return domain.Unprocessable("partial_refunds_unsupported", "amount", "the payment's provider (%s) refunds only the whole payment", desc.Name)
	}
	return nil
}

// requestHash identifies a refund request for Idempotency-Key matching:
// the session and the body re-encoded canonically (fixed field order,
// sorted metadata), so formatting does not matter and any value does.
func requestHash(sessionID string, req *CreateRequest) (string, error) {
	canon := struct {
		Kind      string            `json:"kind"`
		SessionID string            `json:"session_id"`
		Amount    json.RawMessage   `json:"amount,omitempty"`
		Reason    string            `json:"reason,omitempty"`
		Metadata  map[string]string `json:"metadata,omitempty"`
	}{"refund", sessionID, compactJSON(req.Amount), req.Reason, req.Metadata}
	b, err := json.Marshal(canon)
	if err != nil {
		return "", fmt.Errorf("hash refund request: %w", err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

func compactJSON(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 {
		return nil
	}
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return raw
	}
	return b.Bytes()
}

// count adds one to switchyard.refunds.
func (s *Service) count(ctx context.Context, outcome string, source domain.RefundSource) {
	s.refunds.Add(ctx, 1, metric.WithAttributes(attribute.String("outcome", outcome), attribute.String("source", string(source))))
}
