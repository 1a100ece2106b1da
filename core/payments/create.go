package payments

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/mail"
	"net/url"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/merchants"
	"github.com/switchyard/switchyard/core/routing"
	"github.com/switchyard/switchyard/core/store"
)

// CreateSessionRequest is the body of POST /v1/sessions. Amount and Provider
// are raw so that their mistakes get their own error codes: a JSON number
// for amount is invalid_amount (send a string), and any provider field at
// all, even null, is provider_not_allowed rather than unknown_field.
type CreateSessionRequest struct {
	Domain        string          `json:"domain"`
	Amount        json.RawMessage `json:"amount,omitempty"`
	Currency      string          `json:"currency"`
	OrderID       string          `json:"order_id"`
	ReturnURL     string          `json:"return_url,omitempty"`
	CancelURL     string          `json:"cancel_url,omitempty"`
	CustomerEmail string          `json:"customer_email,omitempty"`
	// IPNURL receives this session's events (signed with the site's IPN
	// config), in addition to the merchant's endpoints.
	IPNURL   string            `json:"ipn_url,omitempty"`
	Method   string            `json:"method,omitempty"`
	Metadata map[string]string `json:"metadata,omitempty"`
	// Items name the merchant's products (docs/fulfillment.md); validated
	// by the Items dependency, stored with the session.
	Items    []domain.ItemInput `json:"items,omitempty"`
	Provider json.RawMessage    `json:"provider,omitempty"`
}

// Limits on session input. They are part of the API contract (docs/api.md).
const (
	MaxOrderIDLen        = 64
	MaxURLLen            = 2048
	MaxEmailLen          = 254
	MaxMetadataKeys      = 50
	MaxMetadataKeyLen    = 40
	MaxMetadataValueLen  = 500
	MaxMetadataBytes     = 8 << 10
	MaxIdempotencyKeyLen = 255
)

// Response is a rendered API response: the service produces the bytes so
// that an Idempotency-Key replay can return exactly what was first sent.
type Response struct {
	Status    int
	Body      []byte
	SessionID string
	// Replayed is true when Body is a stored response for a repeated
	// Idempotency-Key (the HTTP layer says so in Idempotent-Replayed).
	Replayed bool
}

// validated is a create request after every check that needs no database.
type validated struct {
	domain, orderID, method, returnURL, cancelURL, ipnURL, email, metadata string
	amount                                                                 int64
	currency                                                               domain.Currency
	// items are the rows to store with the session and renderedItems how
	// the session shows them (empty without items).
	items         []*store.SessionItem
	renderedItems string
}

func missing(field string) error {
	return domain.Invalid("missing_field", field, "%s is required", field)
}

// validate checks a request against the merchant and its key. The first
// problem is returned; each has its own code and names its field.
func (s *Service) validate(ctx context.Context, p *merchants.Principal, req *CreateSessionRequest) (*validated, error) {
	if len(req.Provider) > 0 {
		return nil, domain.Invalid("provider_not_allowed", "provider",
			"provider must not be sent: Switchyard routes by method; send method (smart routing) or nothing (hosted checkout)")
	}
	amountGiven := len(req.Amount) > 0 && string(req.Amount) != "null" && string(req.Amount) != `""`
	for _, f := range []struct {
		name  string
		given bool
	}{
		{"domain", req.Domain != ""},
		{"amount", amountGiven},
		{"currency", req.Currency != ""},
		{"order_id", req.OrderID != ""},
	} {
		if !f.given {
			return nil, missing(f.name)
		}
	}
	if !slices.Contains(p.Merchant.Domains(), req.Domain) {
		return nil, domain.Invalid("invalid_domain", "domain",
			"domain %q is not one of this merchant's approved domains (compared exactly)", truncate(req.Domain, 100))
	}
	cur, err := domain.ParseCurrency(req.Currency)
	if err != nil {
		return nil, err
	}
	amount, err := s.parseAmount(req.Amount, cur)
	if err != nil {
		return nil, err
	}
	if err := validateOrderID(req.OrderID); err != nil {
		return nil, err
	}
	live := domain.Mode(p.Key.Mode) == domain.ModeLive
	for _, u := range []struct{ field, value string }{{"return_url", req.ReturnURL}, {"cancel_url", req.CancelURL}, {"ipn_url", req.IPNURL}} {
		if err := validateURL(u.field, u.value, live); err != nil {
			return nil, err
		}
	}
	if req.CustomerEmail != "" {
		if err := validateEmail(req.CustomerEmail); err != nil {
			return nil, err
		}
	}
	plan := domain.Plan(p.Merchant.Plan)
	switch plan.IntegrationMode() {
	case domain.ModeSmartRouting:
		if req.Method == "" {
			return nil, domain.Invalid("method_required", "method",
				"method is required for smart routing plans; GET /v1/me lists the available methods")
		}
	default:
		if req.Method != "" {
			return nil, domain.Invalid("method_not_allowed", "method",
				"method must not be sent on the %s plan: the shopper chooses it on the hosted checkout", plan)
		}
	}
	md, err := validateMetadata(req.Metadata)
	if err != nil {
		return nil, err
	}
	if req.Method != "" {
		if err := s.methodRoutable(ctx, p.Merchant.ID, domain.Mode(p.Key.Mode), plan, req.Method, amount, cur); err != nil {
			return nil, err
		}
	}
	if req.IPNURL != "" && s.checkIPNURL != nil {
		if err := s.checkIPNURL(ctx, req.IPNURL); err != nil {
			if de, ok := domain.AsError(err); ok {
				field := *de
				field.Field = "ipn_url"
				return nil, &field
			}
			return nil, err
		}
	}
	v := &validated{
		domain: req.Domain, orderID: req.OrderID, method: req.Method, returnURL: req.ReturnURL,
		cancelURL: req.CancelURL, ipnURL: req.IPNURL, email: req.CustomerEmail, metadata: md, amount: amount, currency: cur,
	}
	if len(req.Items) > 0 {
		if s.items == nil {
			return nil, domain.Invalid("items_unsupported", "items", "this server fulfills no items")
		}
		if v.items, v.renderedItems, err = s.items.PrepareItems(ctx, p.Merchant.ID, req.Items); err != nil {
			return nil, err
		}
	}
	return v, nil
}

func (s *Service) parseAmount(raw json.RawMessage, cur domain.Currency) (int64, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '"' {
		return 0, domain.Invalid("invalid_amount", "amount",
			`amount must be a JSON string such as "49.95", not a number: numbers lose precision`)
	}
	var text string
	if err := json.Unmarshal(raw, &text); err != nil {
		return 0, domain.Invalid("invalid_amount", "amount", "amount must be a decimal string")
	}
	amount, err := domain.ParseAmount(text, cur)
	if err != nil {
		return 0, err
	}
	if limit, ok := s.maxAmount.Max(cur); ok && amount > limit {
		return 0, domain.Invalid("amount_too_large", "amount", "amount must be at most %s %s",
			domain.FormatAmount(limit, cur), cur)
	}
	return amount, nil
}

// methodRoutable checks that a rule can take this method, currency and
// amount. Provider health is not checked: it is a property of the moment
// the shopper pays, not of the session.
func (s *Service) methodRoutable(ctx context.Context, merchantID int64, mode domain.Mode, plan domain.Plan, method string, amount int64, cur domain.Currency) error {
	_, err := s.router.Route(ctx, routing.Request{MerchantID: merchantID, Mode: mode, Plan: plan, Method: method, Amount: amount, Currency: cur})
	var unavailable *routing.UnavailableError
	if err == nil || errors.As(err, &unavailable) {
		return nil
	}
	return err
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func validateOrderID(id string) error {
	if len(id) > MaxOrderIDLen {
		return domain.Invalid("invalid_order_id", "order_id", "order_id must be at most %d characters", MaxOrderIDLen)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == ':' || c == '-'
		if !ok {
			return domain.Invalid("invalid_order_id", "order_id",
				"order_id may contain only letters, digits and . _ : - (got %q at position %d)", string(rune(c)), i+1)
		}
	}
	return nil
}

func validateURL(field, raw string, live bool) error {
	if raw == "" {
		return nil
	}
	bad := func(why string) error { return domain.Invalid("invalid_url", field, "%s %s", field, why) }
	if len(raw) > MaxURLLen {
		return bad(fmt.Sprintf("must be at most %d characters", MaxURLLen))
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "" {
		return bad("must be an absolute http(s) URL")
	}
	switch u.Scheme {
	case "https":
	case "http":
		if live {
			return bad("must use https with a live key")
		}
	default:
		return bad("must be an absolute http(s) URL")
	}
	if u.User != nil {
		return bad("must not contain credentials")
	}
	return nil
}

func validateEmail(addr string) error {
	if len(addr) > MaxEmailLen {
		return domain.Invalid("invalid_email", "customer_email", "customer_email must be at most %d characters", MaxEmailLen)
	}
	a, err := mail.ParseAddress(addr)
	if err != nil || a.Address != addr || a.Name != "" {
		return domain.Invalid("invalid_email", "customer_email", "customer_email is not a valid email address")
	}
	return nil
}

// validateMetadata bounds metadata and returns its canonical JSON (keys
// sorted), which is what is stored and shown.
func validateMetadata(md map[string]string) (string, error) {
	if len(md) > MaxMetadataKeys {
		return "", domain.Invalid("metadata_too_large", "metadata", "metadata may have at most %d keys, got %d", MaxMetadataKeys, len(md))
	}
	for k, v := range md {
		if k == "" {
			return "", domain.Invalid("invalid_metadata", "metadata", "metadata keys must not be empty")
		}
		if utf8.RuneCountInString(k) > MaxMetadataKeyLen {
			return "", domain.Invalid("metadata_too_large", "metadata", "metadata key %q is longer than %d characters", truncate(k, 40), MaxMetadataKeyLen)
		}
		if utf8.RuneCountInString(v) > MaxMetadataValueLen {
			return "", domain.Invalid("metadata_too_large", "metadata", "metadata value of %q is longer than %d characters", truncate(k, 40), MaxMetadataValueLen)
		}
	}
	if md == nil {
		md = map[string]string{}
	}
	b, err := json.Marshal(md)
	if err != nil {
		return "", fmt.Errorf("encode metadata: %w", err)
	}
	if len(b) > MaxMetadataBytes {
		return "", domain.Invalid("metadata_too_large", "metadata", "metadata is %d bytes as JSON; the limit is %d", len(b), MaxMetadataBytes)
	}
	return string(b), nil
}

func validateIdempotencyKey(key string) error {
	if len(key) > MaxIdempotencyKeyLen {
		return domain.Invalid("invalid_idempotency_key", "Idempotency-Key", "Idempotency-Key must be at most %d characters", MaxIdempotencyKeyLen)
	}
	for i := 0; i < len(key); i++ {
		if key[i] < 0x21 || key[i] > 0x7e {
			return domain.Invalid("invalid_idempotency_key", "Idempotency-Key", "Idempotency-Key must be printable ASCII without spaces")
		}
	}
	return nil
}

// requestHash identifies a create request for Idempotency-Key matching. It
// hashes the decoded request re-encoded canonically (fixed field order,
// sorted metadata, no insignificant whitespace), so the same parameters
// match however the client formatted them, and any difference in a value
// does not.
func requestHash(req *CreateSessionRequest) (string, error) {
	b, err := json.Marshal(req)
	if err != nil {
		return "", fmt.Errorf("hash request: %w", err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// CreateSession validates req and creates a session, or returns the
// response a previous identical request got:
//
//   - With idemKey: the first response for the key is stored with the
//     session and replayed byte for byte (status included) for the same
//     body; a different body is 409 idempotency_key_reused. Keys live
//     sessions.idempotency_ttl. Rejected requests store nothing, so a
//     corrected retry may reuse the key.
//   - Without: an open or processing session for the same order with the
//     same amount and currency is returned with 200 instead of a second
//     one; with a different amount or currency it is 409
//     order_in_progress; an order already paid is 409 order_already_paid,
//     one whose payment is held for review 409 order_under_review.
//
// Concurrent duplicates create one session: the open-order unique index
// turns the loser's insert into nothing (after the winner commits) and it
// answers with the winner's row; a lost race on the Idempotency-Key's
// primary key rolls back and replays the winner's response.
func (s *Service) CreateSession(ctx context.Context, p *merchants.Principal, req *CreateSessionRequest, idemKey string) (*Response, error) {
	mode := domain.Mode(p.Key.Mode)
	merchantID := p.Merchant.ID
	var (
		hash     string
		staleKey bool
		err      error
	)
	if idemKey != "" {
		if err := validateIdempotencyKey(idemKey); err != nil {
			return nil, err
		}
		if hash, err = requestHash(req); err != nil {
			return nil, err
		}
		// A retry is answered from the stored response before validation,
		// so it gets the original answer even if something it was
		// validated against (approved domains, routing) changed since.
		var resp *Response
		resp, staleKey, err = s.replay(ctx, s.store.Repo, merchantID, mode, idemKey, hash)
		if resp != nil || err != nil {
			return resp, err
		}
	}
	v, err := s.validate(ctx, p, req)
	if err != nil {
		return nil, err
	}

	for range maxDueRetries {
		resp, err := s.createTx(ctx, merchantID, mode, v, idemKey, hash, staleKey)
		if errors.Is(err, errOrderMoved) {
			continue
		}
		var due *dueSessionError
		if !errors.As(err, &due) {
			return resp, err
		}
		// The order's open session is past its expires_at but the sweep
		// has not reached it: expire it the way the sweep would (asking
		// the provider first, outside any transaction), then create.
		if _, err := s.ExpireSession(ctx, due.sessionID); err != nil {
			return nil, err
		}
	}
	return nil, fmt.Errorf("payments: order %s kept an expired open session: %w", v.orderID, domain.ErrUnavailable)
}

// maxDueRetries bounds how often a create expires a stale open session of
// its order and tries again; once is the normal case.
const maxDueRetries = 3

// errOrderMoved stops a create transaction whose order changed between
// its insert and its read; CreateSession starts over.
var errOrderMoved = errors.New("payments: the order's sessions changed during create")

// dueSessionError stops a create transaction that found its order's open
// session past expires_at; CreateSession expires it and starts over.
type dueSessionError struct{ sessionID string }

func (e *dueSessionError) Error() string { return "session " + e.sessionID + " is due to expire" }

// createTx is the create transaction. Without an Idempotency-Key, the
// common case is two statements: the session (InsertSessionForOrder checks
// the order in the same statement) and its session.created event. With a
// key, the stored response is re-read inside the transaction only when
// needed: an expired key is deleted first (staleKey), and a retry after a
// lost race on the key's primary key replays the winner's response.
func (s *Service) createTx(ctx context.Context, merchantID int64, mode domain.Mode, v *validated, idemKey, hash string, staleKey bool) (*Response, error) {
	var resp *Response
	attempt := 0
	now := s.now()
	ins, body, err := s.newSession(merchantID, mode, v, now)
	if err != nil {
		return nil, err
	}
	// The group may run the session insert ahead of fn (store.GroupFirst)
	// only when fn begins with it: not when an expired key is deleted and
	// read first.
	var first store.GroupFirst
	if idemKey == "" || !staleKey {
		first = ins
	}
	err = s.inCreateTx(ctx, first, func(ctx context.Context, r *store.Repo, tx bun.Tx) error {
		resp = nil
		attempt++
		if idemKey != "" && (staleKey || attempt > 1) {
			if err := r.DeleteIdempotencyKey(ctx, merchantID, mode, idemKey, now.Add(-s.idemTTL)); err != nil {
				return err
			}
			replayed, _, err := s.replay(ctx, r, merchantID, mode, idemKey, hash)
			if replayed != nil || err != nil {
				resp = replayed
				return err
			}
		}
		var err error
		resp, err = s.insertSession(ctx, r, tx, ins, v, body)
		if err != nil {
			return err
		}
		if resp == nil {
			existing, err := s.existingOrder(ctx, r, merchantID, mode, v, now)
			if err != nil {
				return err
			}
			if existing == nil {
				// The order changed between the two statements (the open
				// session was closed meanwhile): start over.
				return errOrderMoved
			}
			if existing.Status == domain.StatusOpen && !now.Before(existing.ExpiresAt) {
				return &dueSessionError{sessionID: existing.ID}
			}
			body, err := s.renderSession(existing)
			if err != nil {
				return err
			}
			resp = &Response{Status: http.StatusOK, Body: body, SessionID: existing.ID}
		}
		if idemKey != "" {
			return r.InsertIdempotencyKey(ctx, &store.IdempotencyKey{
				MerchantID: merchantID, Mode: mode, Key: idemKey, RequestHash: hash,
				ResponseStatus: resp.Status, ResponseBody: resp.Body, SessionID: resp.SessionID, CreatedAt: now,
			})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// inCreateTx runs fn in the create transaction: a group commit shared
// with concurrent creates (store.RunInGroupTxFirst), with the hot
// statements prepared beforehand and used through Repo.InTx. first, when
// set, is what fn begins with, so the group may send it ahead; a retry
// begins with the Idempotency-Key's replay instead, so it runs without.
func (s *Service) inCreateTx(ctx context.Context, first store.GroupFirst, fn func(ctx context.Context, r *store.Repo, tx bun.Tx) error) error {
	if err := s.store.PrepareHot(ctx); err != nil {
		return err
	}
	var err error
	for range maxTxRetries {
		err = s.store.RunInGroupTxFirst(ctx, first, func(ctx context.Context, tx bun.Tx) error {
			return fn(ctx, s.store.InTx(tx), tx)
		})
		if err == nil || !store.IsUniqueViolation(err) {
			return err
		}
		first = nil
	}
	return fmt.Errorf("payments: transaction kept conflicting: %w", err)
}

// replay returns the stored response for an unexpired Idempotency-Key, a
// conflict when the key was used for another body, or nil, nil when the key
// is unused; stale reports an expired stored key (which the create
// transaction deletes before reusing the key).
func (s *Service) replay(ctx context.Context, r *store.Repo, merchantID int64, mode domain.Mode, key, hash string) (resp *Response, stale bool, err error) {
	k, err := r.GetIdempotencyKey(ctx, merchantID, mode, key)
	if errors.Is(err, domain.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	if k.CreatedAt.Before(s.now().Add(-s.idemTTL)) {
		return nil, true, nil
	}
	if k.RequestHash != hash {
		return nil, false, domain.Conflict("idempotency_key_reused",
			"this Idempotency-Key was already used with a different request body; use a new key for a new request")
	}
	return &Response{Status: k.ResponseStatus, Body: k.ResponseBody, SessionID: k.SessionID, Replayed: true}, false, nil
}

// orderHistoryLimit bounds how many past sessions of one order are read;
// the open one (at most one) and a paid one are what matter.
const orderHistoryLimit = 50

// existingOrder applies the order rules for a create: it returns the open
// session to reuse, nil to create a new one, or a conflict. An open session
// already past expires_at is returned whatever its amount: the caller
// expires it rather than refusing the order for a session the checkout
// would no longer take.
func (s *Service) existingOrder(ctx context.Context, r *store.Repo, merchantID int64, mode domain.Mode, v *validated, now time.Time) (*store.Session, error) {
	sessions, err := r.OrderSessions(ctx, merchantID, mode, v.orderID, orderHistoryLimit)
	if err != nil {
		return nil, err
	}
	for _, sess := range sessions {
		if sess.Status.MoneyReceived() {
			return nil, domain.Conflict("order_already_paid", "order %s is already paid (session %s)", v.orderID, sess.ID)
		}
		if sess.Status == domain.StatusRequiresReview {
			return nil, domain.Conflict("order_under_review",
				"order %s has a payment under review (session %s): an operator accepts it or sends it back before the order can be paid again", v.orderID, sess.ID)
		}
	}
	for _, sess := range sessions {
		if sess.Status != domain.StatusOpen && sess.Status != domain.StatusProcessing {
			continue
		}
		if sess.Status == domain.StatusOpen && !now.Before(sess.ExpiresAt) {
			return sess, nil
		}
		if sess.Amount != v.amount || sess.Currency != string(v.currency) {
			return nil, domain.Conflict("order_in_progress",
				"order %s already has an open session (%s) for %s %s; wait for it to expire or pay it, or use another order_id",
				v.orderID, sess.ID, domain.FormatAmount(sess.Amount, domain.Currency(sess.Currency)), sess.Currency)
		}
		return sess, nil
	}
	return nil, nil
}

// newSession is the session a create inserts (with its session.created
// event) and the create response's body.
func (s *Service) newSession(merchantID int64, mode domain.Mode, v *validated, now time.Time) (*store.SessionInsert, []byte, error) {
	sess := &store.Session{
		ID: domain.NewSessionID(), MerchantID: merchantID, Mode: mode, Status: domain.StatusOpen,
		Domain: v.domain, OrderID: v.orderID, Amount: v.amount, Currency: string(v.currency), Method: v.method,
		ReturnURL: v.returnURL, CancelURL: v.cancelURL, IPNURL: v.ipnURL, CustomerEmail: v.email, Metadata: v.metadata,
		Items: v.renderedItems, ExpiresAt: now.Add(s.ttl), CreatedAt: now, UpdatedAt: now,
	}
	// The session is born with its first event, session.created (seq 1);
	// the event's data is the create response itself. Its expiry needs no
	// job of its own: the periodic sweep finds it by expires_at.
	sess.EventSeq = 1
	body, err := s.renderSession(sess)
	if err != nil {
		return nil, nil, err
	}
	return store.NewSessionInsert(sess, newEvent(sess, domain.EventSessionCreated, body, now)), body, nil
}

// insertSession creates the session and its session.created event, or
// returns nil, nil when the order already has an open, processing or paid
// session (the caller reads which).
func (s *Service) insertSession(ctx context.Context, r *store.Repo, tx bun.Tx, ins *store.SessionInsert, v *validated, body []byte) (*Response, error) {
	inserted, err := r.InsertOrderSession(ctx, ins)
	if err != nil || !inserted {
		return nil, err
	}
	sess, ev := ins.Session(), ins.First()
	if len(v.items) > 0 {
		// Durable with the session: same transaction.
		for _, it := range v.items {
			it.SessionID = sess.ID
		}
		if err := r.InsertSessionItems(ctx, sess.ID, v.renderedItems, v.items); err != nil {
			return nil, err
		}
	}
	if err := s.eventsInserted(ins.Context(ctx), tx, sess, ev); err != nil {
		return nil, err
	}
	return &Response{Status: http.StatusCreated, Body: body, SessionID: sess.ID}, nil
}
