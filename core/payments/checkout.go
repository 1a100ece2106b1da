package payments

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/uptrace/bun"

	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/routing"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/sdk/provider"
	"github.com/switchyard/switchyard/sdk/sdkerr"
)

// Checkout is what the hosted checkout page shows for a session.
type Checkout struct {
	Session         *SessionView
	MerchantName    string
	IntegrationMode domain.IntegrationMode
	// Methods the shopper can choose now for this session's amount and
	// currency (empty when the session is not open).
	Methods []MethodView
	// LastAttempt is the most recent payment attempt, nil before the first;
	// the return page uses it to say "confirming" or "failed, try another".
	LastAttempt *AttemptView
}

// AttemptView is a payment attempt as the checkout sees it.
type AttemptView struct {
	ID     string
	Method string
	Status store.AttemptStatus
	// Error is a shopper-safe reason for a failed attempt.
	Error string
}

// CheckoutView loads a session for the hosted checkout by id alone: the id
// is the shopper's bearer capability (160 random bits).
func (s *Service) CheckoutView(ctx context.Context, sessionID string) (*Checkout, error) {
	if !domain.ValidSessionID(sessionID) {
		return nil, domain.NotFound("session")
	}
	sess, err := s.loadForCheckout(ctx, sessionID)
	if err != nil {
		return nil, err
	}
	m, err := s.store.GetMerchant(ctx, sess.MerchantID)
	if err != nil {
		return nil, fmt.Errorf("checkout: load merchant: %w", err)
	}
	plan := domain.Plan(m.Plan)
	out := &Checkout{
		Session:         s.view(sess),
		MerchantName:    m.Name,
		IntegrationMode: plan.IntegrationMode(),
		Methods:         []MethodView{},
	}
	if sess.Status.CanStartPayment() {
		for _, mv := range s.methods(ctx, m.ID, plan, domain.Mode(sess.Mode)) {
			if sess.Method != "" && mv.Method != sess.Method {
				continue
			}
			_, err := s.router.Route(ctx, routing.Request{MerchantID: m.ID, Mode: domain.Mode(sess.Mode), Plan: plan, Method: mv.Method,
				Amount: sess.Amount, Currency: domain.Currency(sess.Currency)})
			if err == nil {
				out.Methods = append(out.Methods, mv)
			}
		}
	}
	attempts, err := s.store.SessionAttempts(ctx, sess.ID)
	if err != nil {
		return nil, err
	}
	if n := len(attempts); n > 0 {
		a := attempts[n-1]
		out.LastAttempt = &AttemptView{ID: a.ID, Method: a.Method, Status: a.Status, Error: a.Error}
	}
	return out, nil
}

// loadForCheckout reads a session for the shopper. An open session past
// its expires_at is expired on the spot (with its event), so the shopper
// sees the truth even if the expiry job is late.
func (s *Service) loadForCheckout(ctx context.Context, sessionID string) (*store.Session, error) {
	sess, err := s.store.GetSession(ctx, sessionID)
	if err != nil {
		return nil, err
	}
	if sess.Status != domain.StatusOpen || s.now().Before(sess.ExpiresAt) {
		return sess, nil
	}
	if _, err := s.expireDue(ctx, sessionID); err != nil {
		return nil, err
	}
	return s.store.GetSession(ctx, sessionID)
}

// refuseStart explains why a session takes no new payment attempt, with a
// distinct code per reason so the checkout can show the right page.
func refuseStart(sess *store.Session, now time.Time) error {
	switch {
	case sess.Status.MoneyReceived():
		return domain.Conflict("session_paid", "this checkout session is already paid")
	case sess.Status == domain.StatusRequiresReview:
		return domain.Conflict("session_under_review", "a payment for this session was received and is under review")
	case sess.Status == domain.StatusExpired:
		return domain.Conflict("session_expired", "this checkout session has expired")
	case sess.Status == domain.StatusCanceled:
		return domain.Conflict("session_canceled", "this checkout session was canceled")
	case sess.Status == domain.StatusProcessing:
		return domain.Conflict("payment_in_progress", "a payment for this session is already being processed")
	case !now.Before(sess.ExpiresAt):
		return domain.Conflict("session_expired", "this checkout session has expired")
	}
	return nil
}

// attemptIdempotencyKey is stable for one attempt, so a retried
// CreatePayment (after a timeout) cannot create a second upstream payment.
func attemptIdempotencyKey(sessionID, attemptID string) string {
	return "switchyard:" + sessionID + ":" + attemptID
}

// reuseAttemptFor bounds how long a pending attempt's provider page is
// offered again instead of creating a new upstream payment. The SDK does
// not tell how long a provider keeps its page valid (CreatePaymentResponse
// has no expiry), so this is a fixed bound chosen to lie within the known
// ones: a Stripe Checkout Session lives at least 30 minutes (its minimum
// expires_at; the plugin leaves Stripe's 24 h default), the sandbox page an
// hour by default. It comfortably covers a shopper going Back from the
// provider page or reloading the checkout; after it a fresh attempt is
// safer than a link that may have died. See docs/decisions.md.
const reuseAttemptFor = 30 * time.Minute

// StartPayment routes the session's payment and creates it at a provider,
// trying the next candidate when one is unavailable or asks for a retry.
// It returns where to send the shopper: the provider's page, or the
// checkout return page when the provider needs no redirect. method may be
// empty when the merchant fixed it at create time; country (ISO 3166
// alpha-2) may be empty.
//
// A shopper who comes back before finishing on the provider's page (Back,
// a reload of the checkout) is sent to that same page again: when the
// session's latest attempt is for the same method, still pending, has a
// redirect and is younger than reuseAttemptFor, its URL is returned and no
// new attempt (nor upstream payment) is made. A failed attempt, or another
// method, makes a new one.
//
// Errors: session_paid / session_expired / session_canceled /
// payment_in_progress (409); method_mismatch, missing_field (400);
// method_unavailable (422); payment_declined (422); no_provider_available
// (503) when every candidate failed.
func (s *Service) StartPayment(ctx context.Context, sessionID, method, country string) (string, error) {
	if !domain.ValidSessionID(sessionID) {
		return "", domain.NotFound("session")
	}
	sess, err := s.loadForCheckout(ctx, sessionID)
	if err != nil {
		return "", err
	}
	if err := refuseStart(sess, s.now()); err != nil {
		return "", err
	}
	switch {
	case sess.Method != "" && method != "" && method != sess.Method:
		return "", domain.Invalid("method_mismatch", "method", "this session is for method %q", sess.Method)
	case sess.Method != "":
		method = sess.Method
	case method == "":
		return "", missing("method")
	}
	if next, ok, err := s.pendingRedirect(ctx, sess, method); err != nil || ok {
		return next, err
	}
	m, err := s.store.GetMerchant(ctx, sess.MerchantID)
	if err != nil {
		return "", fmt.Errorf("start payment: load merchant: %w", err)
	}
	candidates, err := s.router.Route(ctx, routing.Request{
		MerchantID: m.ID, Mode: domain.Mode(sess.Mode), Plan: domain.Plan(m.Plan), Method: method,
		Amount: sess.Amount, Currency: domain.Currency(sess.Currency), Country: country,
	})
	if err != nil {
		return "", err
	}
	var lastErr error
	for _, c := range candidates {
		next, err := s.tryCandidate(ctx, sess, m.Name, method, c)
		if err == nil {
			return next, nil
		}
		if !retryableProviderError(err) {
			return "", err
		}
		lastErr = err
	}
	s.log.WarnContext(ctx, "every provider candidate failed", "session_id", sess.ID, "method", method, "err", lastErr)
	return "", &domain.Error{Kind: domain.ErrUnavailable, Code: "no_provider_available",
		Message: "no payment provider could take this payment right now; please try again shortly"}
}

// pendingRedirect is the provider page of the session's latest attempt
// when StartPayment should send the shopper back there (see StartPayment);
// ok is false when a new attempt is needed. It reads without a lock: two
// concurrent first visits may still both create an attempt, as before.
func (s *Service) pendingRedirect(ctx context.Context, sess *store.Session, method string) (string, bool, error) {
	sessionID := sess.ID
	a, err := s.store.LatestAttempt(ctx, sessionID)
	if errors.Is(err, domain.ErrNotFound) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("start payment: latest attempt: %w", err)
	}
	if a.Method != method || a.Status != store.AttemptPending || a.RedirectURL == "" ||
		!s.now().Before(a.CreatedAt.Add(reuseAttemptFor)) || s.router.Mode(a.ProviderID) != domain.Mode(sess.Mode) {
		return "", false, nil
	}
	s.log.InfoContext(ctx, "pending payment attempt reused", "session_id", sessionID, "attempt_id", a.ID,
		"provider_id", a.ProviderID, "method", method)
	return a.RedirectURL, true, nil
}

// retryableProviderError reports whether the next candidate should be tried.
func retryableProviderError(err error) bool {
	if errors.Is(err, domain.ErrUnavailable) {
		return true
	}
	switch sdkerr.CategoryOf(err) {
	case sdkerr.CategoryUnavailable, sdkerr.CategoryRetryable:
		return true
	}
	return false
}

// tryCandidate records an attempt for one provider and creates the payment
// there. The attempt row is committed before the provider is called (no
// transaction is held across a remote call) and updated with the outcome.
func (s *Service) tryCandidate(ctx context.Context, sess *store.Session, merchantName, method string, c routing.Candidate) (string, error) {
	now := s.now()
	att := &store.PaymentAttempt{
		ID: domain.NewAttemptID(), SessionID: sess.ID, ProviderID: c.ProviderID, Method: method,
		Status: store.AttemptPending, Reason: c.Reason, CreatedAt: now, UpdatedAt: now,
	}
	err := s.inTx(ctx, func(ctx context.Context, r *store.Repo, _ bun.Tx) error {
		locked, err := r.LockSession(ctx, sess.ID)
		if err != nil {
			return err
		}
		if err := refuseStart(locked, now); err != nil {
			return err
		}
		if att.Seq, err = r.NextAttemptSeq(ctx, sess.ID); err != nil {
			return err
		}
		return r.InsertAttempt(ctx, att)
	})
	if err != nil {
		return "", err
	}

	resp, callErr := s.createPayment(ctx, sess, merchantName, att)
	s.countPayment(ctx, c.ProviderID, method, createOutcome(callErr, resp.Status))
	fail := func(err error) (string, error) {
		att.Status, att.Error, att.UpdatedAt = store.AttemptFailed, shopperSafe(err), s.now()
		if uerr := s.store.UpdateAttempt(context.WithoutCancel(ctx), att); uerr != nil {
			return "", errors.Join(err, uerr)
		}
		return "", err
	}
	if callErr != nil {
		if retryableProviderError(callErr) || sdkerr.CategoryOf(callErr) == sdkerr.CategoryInternal {
			s.router.RecordResult(c.ProviderID, callErr)
		} else {
			s.router.RecordResult(c.ProviderID, nil) // a decline is a healthy provider
		}
		s.log.InfoContext(ctx, "provider payment not created", "session_id", sess.ID, "attempt_id", att.ID,
			"provider_id", c.ProviderID, "category", sdkerr.CategoryOf(callErr), "err", callErr)
		return fail(providerFailure(callErr))
	}
	s.router.RecordResult(c.ProviderID, nil)
	att.ProviderRef, att.UpdatedAt = resp.ProviderRef, s.now()
	switch resp.Status {
	case provider.StatusProcessing:
		att.Status = store.AttemptProcessing
	case provider.StatusFailed:
		att.Status = store.AttemptFailed
	default:
		// succeeded is not trusted from this call: only a verified event
		// marks money received, so the attempt stays pending until then.
		att.Status = store.AttemptPending
	}
	redirect, usable := "", true
	if resp.NextAction.Type == provider.NextActionRedirect {
		u, err := url.Parse(resp.NextAction.URL)
		usable = err == nil && u.IsAbs() && (u.Scheme == "https" || u.Scheme == "http")
		if usable {
			// Stored so a shopper who comes back is sent to the same page
			// (see StartPayment).
			redirect = resp.NextAction.URL
		}
	}
	att.RedirectURL = redirect
	if err := s.store.RecordAttemptOutcome(ctx, att); err != nil {
		return "", err
	}
	if !usable {
		return fail(&domain.Error{Kind: domain.ErrUnavailable, Code: "provider_error",
			Message: "the payment provider returned an unusable redirect"})
	}
	if redirect != "" {
		return redirect, nil
	}
	return s.baseURL + "/checkout/" + sess.ID + "/return", nil
}

func (s *Service) createPayment(ctx context.Context, sess *store.Session, merchantName string, att *store.PaymentAttempt) (provider.CreatePaymentResponse, error) {
	p, err := s.providers.Provider(att.ProviderID)
	if err != nil {
		return provider.CreatePaymentResponse{}, err
	}
	desc, err := s.providers.Describe(att.ProviderID)
	if err != nil {
		return provider.CreatePaymentResponse{}, err
	}
	var metadata map[string]string
	if sess.Metadata != "" {
		_ = json.Unmarshal([]byte(sess.Metadata), &metadata) // rendered by us; cannot fail
	}
	account, err := s.merchantAccount(ctx, sess.MerchantID, att.ProviderID)
	if err != nil {
		return provider.CreatePaymentResponse{}, err
	}
	return p.CreatePayment(ctx, provider.CreatePaymentRequest{
		MerchantAccount: account,
		MerchantName:    merchantName,
		SessionID:       sess.ID,
		AttemptID:       att.ID,
		IdempotencyKey:  attemptIdempotencyKey(sess.ID, att.ID),
		Amount:          sess.Amount,
		Currency:        sess.Currency,
		Method:          att.Method,
		CustomerEmail:   sess.CustomerEmail,
		Description:     "Order " + sess.OrderID,
		ReturnURL:       s.baseURL + "/checkout/" + sess.ID + "/return",
		CancelURL:       s.baseURL + "/checkout/" + sess.ID,
		WebhookURL:      s.baseURL + "/hooks/" + url.PathEscape(desc.Name) + "/" + url.PathEscape(att.ProviderID),
		ProviderBaseURL: s.baseURL + "/p/" + url.PathEscape(att.ProviderID),
		Metadata:        metadata,
	})
}

// merchantAccount is the account the merchant connected on the provider
// instance, "" when none. A lookup failure fails this candidate rather
// than paying into the platform's own account by mistake.
func (s *Service) merchantAccount(ctx context.Context, merchantID int64, providerID string) (string, error) {
	if s.accounts == nil {
		return "", nil
	}
	account, err := s.accounts.Account(ctx, merchantID, providerID)
	if err != nil {
		s.log.ErrorContext(ctx, "connected account lookup failed", "merchant_id", merchantID, "provider_id", providerID, "err", err)
		return "", fmt.Errorf("%w: %w", &domain.Error{Kind: domain.ErrUnavailable, Code: "provider_unavailable",
			Message: "the payment provider is unavailable"}, err)
	}
	return account, nil
}

// providerFailure maps a provider error to what the shopper and the
// merchant API may see: declines keep their reason code, everything else
// is a generic, secret-free message.
func providerFailure(err error) error {
	if de, ok := domain.AsError(err); ok {
		return de
	}
	switch sdkerr.CategoryOf(err) {
	case sdkerr.CategoryDeclined:
		code := "payment_declined"
		if e, ok := sdkerr.As(err); ok && e.Code != "" {
			return &domain.Error{Kind: domain.ErrUnprocessable, Code: code, Message: "the payment was declined (" + e.Code + ")"}
		}
		return &domain.Error{Kind: domain.ErrUnprocessable, Code: code, Message: "the payment was declined"}
	case sdkerr.CategoryUnavailable, sdkerr.CategoryRetryable:
		return fmt.Errorf("%w: %w", &domain.Error{Kind: domain.ErrUnavailable, Code: "provider_unavailable",
			Message: "the payment provider is unavailable"}, err)
	default:
		return fmt.Errorf("%w: %w", &domain.Error{Kind: domain.ErrUnavailable, Code: "provider_error",
			Message: "the payment provider could not start this payment"}, err)
	}
}

// shopperSafe is the attempt error text: the domain message, never the
// provider's raw error (which may name internals).
func shopperSafe(err error) string {
	if de, ok := domain.AsError(err); ok {
		return de.Message
	}
	return "payment could not be started"
}

// Cancel closes an open session at the shopper's request (the checkout's
// cancel link) and emits session.canceled. Any other status is left as is:
// a processing payment may still complete, and a paid session stays paid.
func (s *Service) Cancel(ctx context.Context, sessionID string) (*SessionView, error) {
	if !domain.ValidSessionID(sessionID) {
		return nil, domain.NotFound("session")
	}
	var out *SessionView
	err := s.inTx(ctx, func(ctx context.Context, r *store.Repo, tx bun.Tx) error {
		sess, err := r.LockSession(ctx, sessionID)
		if err != nil {
			return err
		}
		now := s.now()
		if tr := domain.Cancel(sess.State()); tr.Apply {
			sess.Status, sess.CanceledAt, sess.UpdatedAt = tr.Next.Status, &now, now
			if err := s.appendEvent(ctx, r, tx, sess, tr.DomainEvent, now); err != nil {
				return err
			}
			if err := r.UpdateSession(ctx, sess); err != nil {
				return err
			}
		}
		out = s.view(sess)
		return nil
	})
	return out, err
}
