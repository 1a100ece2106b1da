package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"

	"github.com/switchyard/switchyard/core/domain"
)

// InsertSession stores a new session. A unique violation (the open-order
// index or a duplicate id) is returned wrapped, so the caller can recognise
// it with IsUniqueViolation and read the winner.
func (r *Repo) InsertSession(ctx context.Context, s *Session) error {
	if _, err := r.db.NewInsert().Model(s).Exec(ctx); err != nil {
		return fmt.Errorf("insert session: %w", err)
	}
	return nil
}

// GetSession reads a session by id.
func (r *Repo) GetSession(ctx context.Context, id string) (*Session, error) {
	s := new(Session)
	if err := r.db.NewSelect().Model(s).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, notFound(err, "session")
	}
	return s, nil
}

// LockSession reads a session for update inside a transaction. On
// PostgreSQL it takes a row lock (SELECT … FOR UPDATE) so concurrent
// appliers of events to one session serialize; SQLite transactions already
// hold the database write lock from BEGIN (_txlock=immediate).
func (r *Repo) LockSession(ctx context.Context, id string) (*Session, error) {
	s := new(Session)
	q := r.db.NewSelect().Model(s).Where("id = ?", id)
	if r.db.Dialect().Name() == dialect.PG {
		q = q.For("UPDATE")
	}
	if err := q.Scan(ctx); err != nil {
		return nil, notFound(err, "session")
	}
	return s, nil
}

// OrderSessions returns a merchant's sessions for one order id in one mode,
// newest first, at most limit of them.
func (r *Repo) OrderSessions(ctx context.Context, merchantID int64, mode KeyMode, orderID string, limit int) ([]*Session, error) {
	out := []*Session{}
	err := r.db.NewSelect().Model(&out).
		Where("merchant_id = ? AND mode = ? AND order_id = ?", merchantID, mode, orderID).
		OrderExpr("created_at DESC, id DESC").
		Limit(int64(limit)).
		Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("list order sessions: %w", err)
	}
	return out, nil
}

// UpdateSession writes back every mutable column of s.
func (r *Repo) UpdateSession(ctx context.Context, s *Session) error {
	res, err := r.db.NewUpdate().Model(s).
		Column("status", "method", "amount_refunded", "dispute", "amount_received", "currency_received", "review_reason",
			"event_seq", "paid_at", "canceled_at", "updated_at").
		WherePK().
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("update session: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return domain.NotFound("session")
	}
	return nil
}

// CountSessions counts a merchant's sessions (both modes).
func (r *Repo) CountSessions(ctx context.Context, merchantID int64) (int64, error) {
	n, err := r.db.NewSelect().Model((*Session)(nil)).Where("merchant_id = ?", merchantID).Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("count sessions: %w", err)
	}
	return n, nil
}

// StaleSessions lists sessions in status that were last updated before
// cutoff, oldest first, for the reconciliation job.
func (r *Repo) StaleSessions(ctx context.Context, status domain.SessionStatus, cutoff time.Time, limit int) ([]*Session, error) {
	out := []*Session{}
	err := r.db.NewSelect().Model(&out).
		Where("status = ? AND updated_at < ?", status, cutoff.UTC()).
		OrderExpr("updated_at ASC").
		Limit(int64(limit)).
		Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("list stale sessions: %w", err)
	}
	return out, nil
}

var insertEventSQL = newHotSQL("insert_event", `INSERT INTO events (id, merchant_id, mode, session_id, type, seq, data, created_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)

// InsertEvent stores an outbound domain event.
func (r *Repo) InsertEvent(ctx context.Context, e *Event) error {
	_, err := r.hotExec(ctx, insertEventSQL, e.ID, e.MerchantID, string(e.Mode), e.SessionID, e.Type, e.Seq, e.Data, r.hotTime(e.CreatedAt))
	if err != nil {
		return fmt.Errorf("insert event: %w", err)
	}
	return nil
}

// SessionEvents lists a session's events in sequence order.
func (r *Repo) SessionEvents(ctx context.Context, sessionID string) ([]*Event, error) {
	out := []*Event{}
	if err := r.db.NewSelect().Model(&out).Where("session_id = ?", sessionID).Order("seq").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list session events: %w", err)
	}
	return out, nil
}

// InsertAttempt stores a new payment attempt.
func (r *Repo) InsertAttempt(ctx context.Context, a *PaymentAttempt) error {
	if _, err := r.db.NewInsert().Model(a).Exec(ctx); err != nil {
		return fmt.Errorf("insert payment attempt: %w", err)
	}
	return nil
}

// UpdateAttempt writes back an attempt's status, provider ref and error.
func (r *Repo) UpdateAttempt(ctx context.Context, a *PaymentAttempt) error {
	res, err := r.db.NewUpdate().Model(a).
		Column("status", "provider_ref", "error", "updated_at").
		WherePK().
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("update payment attempt: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return domain.NotFound("payment attempt")
	}
	return nil
}

// AttemptByProviderRef finds the attempt a provider's payment id belongs to.
func (r *Repo) AttemptByProviderRef(ctx context.Context, providerID, ref string) (*PaymentAttempt, error) {
	a := new(PaymentAttempt)
	err := r.db.NewSelect().Model(a).Where("provider_id = ? AND provider_ref = ?", providerID, ref).Scan(ctx)
	if err != nil {
		return nil, notFound(err, "payment attempt")
	}
	return a, nil
}

// SessionAttempts lists a session's attempts in order (by Seq).
func (r *Repo) SessionAttempts(ctx context.Context, sessionID string) ([]*PaymentAttempt, error) {
	out := []*PaymentAttempt{}
	if err := r.db.NewSelect().Model(&out).Where("session_id = ?", sessionID).Order("seq").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list payment attempts: %w", err)
	}
	return out, nil
}

// NextAttemptSeq is the Seq for a session's next attempt. Call it with the
// session locked (LockSession); the unique (session_id, seq) constraint
// catches any caller that did not.
func (r *Repo) NextAttemptSeq(ctx context.Context, sessionID string) (int64, error) {
	var n int64
	err := r.db.NewSelect().Model((*PaymentAttempt)(nil)).ColumnExpr("COALESCE(MAX(seq), 0)").
		Where("session_id = ?", sessionID).Scan(ctx, &n)
	if err != nil {
		return 0, fmt.Errorf("next attempt seq: %w", err)
	}
	return n + 1, nil
}

// InsertWebhookRequest stores a raw inbound webhook and sets w.ID.
func (r *Repo) InsertWebhookRequest(ctx context.Context, w *WebhookRequest) error {
	if w.Body == nil {
		w.Body = []byte{}
	}
	if _, err := r.db.NewInsert().Model(w).Returning("id").Exec(ctx); err != nil {
		return fmt.Errorf("insert webhook request: %w", err)
	}
	return nil
}

// SetWebhookResponseStatus records what Switchyard answered to a webhook.
func (r *Repo) SetWebhookResponseStatus(ctx context.Context, id int64, status int) error {
	_, err := r.db.NewUpdate().Model((*WebhookRequest)(nil)).Set("response_status = ?", status).Where("id = ?", id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("record webhook response: %w", err)
	}
	return nil
}

// GetWebhookRequest reads a stored webhook request.
func (r *Repo) GetWebhookRequest(ctx context.Context, id int64) (*WebhookRequest, error) {
	w := new(WebhookRequest)
	if err := r.db.NewSelect().Model(w).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, notFound(err, "webhook request")
	}
	return w, nil
}

// InsertProviderEvent records a provider event unless one with the same
// (provider_id, provider_event_id) exists; inserted is false for such a
// duplicate. The conflict is resolved by the database (ON CONFLICT DO
// NOTHING waits for a concurrent inserter to commit), so two deliveries
// of one event racing on two instances still apply it once.
func (r *Repo) InsertProviderEvent(ctx context.Context, e *ProviderEvent) (inserted bool, err error) {
	res, err := r.db.NewInsert().Model(e).
		On("CONFLICT (provider_id, provider_event_id) DO NOTHING").
		Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("insert provider event: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("insert provider event: %w", err)
	}
	return n == 1, nil
}

// UpdateProviderEventOutcome sets what applying the event did.
func (r *Repo) UpdateProviderEventOutcome(ctx context.Context, providerID, providerEventID string, sessionID string, outcome ProviderEventOutcome, reason string) error {
	q := r.db.NewUpdate().Model((*ProviderEvent)(nil)).
		Set("outcome = ?", outcome).
		Set("reason = ?", reason).
		Where("provider_id = ? AND provider_event_id = ?", providerID, providerEventID)
	if sessionID != "" {
		q = q.Set("session_id = ?", sessionID)
	}
	if _, err := q.Exec(ctx); err != nil {
		return fmt.Errorf("update provider event: %w", err)
	}
	return nil
}

// GetProviderEvent reads a provider event by its de-duplication key.
func (r *Repo) GetProviderEvent(ctx context.Context, providerID, providerEventID string) (*ProviderEvent, error) {
	e := new(ProviderEvent)
	err := r.db.NewSelect().Model(e).Where("provider_id = ? AND provider_event_id = ?", providerID, providerEventID).Scan(ctx)
	if err != nil {
		return nil, notFound(err, "provider event")
	}
	return e, nil
}

// GetIdempotencyKey reads a stored response; ErrNotFound when there is none.
func (r *Repo) GetIdempotencyKey(ctx context.Context, merchantID int64, mode KeyMode, key string) (*IdempotencyKey, error) {
	k := new(IdempotencyKey)
	err := r.db.NewSelect().Model(k).
		Where("merchant_id = ? AND mode = ? AND idem_key = ?", merchantID, mode, key).
		Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, domain.NotFound("idempotency key")
	}
	if err != nil {
		return nil, fmt.Errorf("read idempotency key: %w", err)
	}
	return k, nil
}

// InsertIdempotencyKey stores a response for replay. A concurrent request
// with the same key makes this a unique violation (see IsUniqueViolation).
func (r *Repo) InsertIdempotencyKey(ctx context.Context, k *IdempotencyKey) error {
	if _, err := r.db.NewInsert().Model(k).Exec(ctx); err != nil {
		return fmt.Errorf("insert idempotency key: %w", err)
	}
	return nil
}

// DeleteIdempotencyKeysBefore removes up to limit keys created before
// cutoff and reports how many went. Batches keep each statement short so
// the cleanup never holds SQLite's write lock for long.
func (r *Repo) DeleteIdempotencyKeysBefore(ctx context.Context, cutoff time.Time, limit int) (int64, error) {
	// Portable batched delete: both dialects support a row-value IN over a
	// limited subquery on the primary key.
	sub := r.db.NewSelect().Model((*IdempotencyKey)(nil)).
		Column("merchant_id", "mode", "idem_key").
		Where("created_at < ?", cutoff.UTC()).
		Limit(int64(limit))
	res, err := r.db.NewDelete().Model((*IdempotencyKey)(nil)).
		Where("(merchant_id, mode, idem_key) IN (?)", sub).
		Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("delete expired idempotency keys: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// DeleteIdempotencyKey removes one key if it was created before cutoff, so
// an expired key can be reused before the cleanup job gets to it.
func (r *Repo) DeleteIdempotencyKey(ctx context.Context, merchantID int64, mode KeyMode, key string, cutoff time.Time) error {
	_, err := r.db.NewDelete().Model((*IdempotencyKey)(nil)).
		Where("merchant_id = ? AND mode = ? AND idem_key = ? AND created_at < ?", merchantID, mode, key, cutoff.UTC()).
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("delete idempotency key: %w", err)
	}
	return nil
}

// insertSessionForOrderSQL is InsertSessionForOrder's statement. The
// statuses that hold an order (domain.SessionStatus.HoldsOrder): open or
// processing (at most one, by sessions_open_order_key), money held for
// review, or money received (domain.SessionStatus.MoneyReceived).
const insertSessionForOrderText = `INSERT INTO sessions (id, merchant_id, mode, status, domain, order_id, amount, currency,
	method, return_url, cancel_url, ipn_url, customer_email, metadata, amount_refunded, dispute, event_seq,
	expires_at, paid_at, canceled_at, created_at, updated_at)
SELECT ?::text, ?::bigint, ?::text, ?::text, ?::text, ?::text, ?::bigint, ?::text, ?::text, ?::text, ?::text, ?::text,
	?::text, ?::text, ?::bigint, ?::text, ?::bigint, ?::timestamptz, ?::timestamptz, ?::timestamptz, ?::timestamptz, ?::timestamptz
WHERE NOT EXISTS (SELECT 1 FROM sessions WHERE merchant_id = ? AND mode = ? AND order_id = ?
	AND status IN ('open', 'processing', 'requires_review', 'paid', 'partially_refunded', 'refunded', 'disputed'))
ON CONFLICT DO NOTHING`

var insertSessionForOrderSQL = newHotSQL("insert_session_for_order", insertSessionForOrderText)

// insertSessionQuerySQL is insertSessionForOrderSQL and the session's
// first event in one PostgreSQL statement: one round trip instead of two.
// The event is inserted only with the session (FROM s is empty when the
// order was taken). It answers whether the session was inserted and
// whether the merchant has a live URL webhook endpoint: without one, the
// event's deliveries need no lookup of their own (SessionInsert.Context),
// which was a second round trip and statement per create. SQLite has no
// data-modifying WITH, and needs none: its statements cost no round trip.
var insertSessionQuerySQL = newHotSQL("insert_session_and_event", `WITH s AS (`+insertSessionForOrderText+`
RETURNING id),
e AS (INSERT INTO events (id, merchant_id, mode, session_id, type, seq, data, created_at)
SELECT ?::text, ?::bigint, ?::text, s.id, ?::text, ?::bigint, ?::text, ?::timestamptz FROM s RETURNING 1)
SELECT (SELECT count(*) FROM e), EXISTS (SELECT 1 FROM webhook_endpoints
	WHERE merchant_id = ? AND kind = '`+EndpointURL+`' AND deleted_at IS NULL)`)

// SessionInsert is a session and its first event, for InsertOrderSession. On
// PostgreSQL it is a GroupFirst: given to RunInGroupTxFirst, the group
// sends its statement with the other members' in one round trip, and
// InsertOrderSession in that transaction takes the result.
type SessionInsert struct {
	s     *Session
	first *Event
	// The statement's result, and the transaction it ran in (nil before,
	// or outside a transaction).
	tx        *sql.Tx
	inserted  bool
	endpoints bool
}

var _ GroupFirst = (*SessionInsert)(nil)

// NewSessionInsert is the insert of s with first, its first event
// (first.SessionID must be s.ID).
func NewSessionInsert(s *Session, first *Event) *SessionInsert {
	return &SessionInsert{s: s, first: first}
}

// Session is the session to insert.
func (ins *SessionInsert) Session() *Session { return ins.s }

// First is the session's first event.
func (ins *SessionInsert) First() *Event { return ins.first }

func (ins *SessionInsert) args(d Dialect) []any {
	s, first := ins.s, ins.first
	var method any
	if s.Method != "" {
		method = s.Method // nullzero, as the model insert writes it
	}
	tm := func(t time.Time) any { return hotTimeIn(d, t) }
	tmPtr := func(t *time.Time) any { return hotTimePtrIn(d, t) }
	args := []any{s.ID, s.MerchantID, string(s.Mode), string(s.Status), s.Domain, s.OrderID, s.Amount, s.Currency,
		method, s.ReturnURL, s.CancelURL, s.IPNURL, s.CustomerEmail, s.Metadata, s.AmountRefunded, string(s.Dispute), s.EventSeq,
		tm(s.ExpiresAt), tmPtr(s.PaidAt), tmPtr(s.CanceledAt), tm(s.CreatedAt), tm(s.UpdatedAt),
		s.MerchantID, string(s.Mode), s.OrderID}
	if d == DialectPostgres {
		args = append(args, first.ID, first.MerchantID, string(first.Mode), first.Type, first.Seq, first.Data, tm(first.CreatedAt),
			s.MerchantID)
	}
	return args
}

func (ins *SessionInsert) firstStatement() (string, []any) {
	return insertSessionQuerySQL.pg, ins.args(DialectPostgres)
}

func (ins *SessionInsert) firstResult(row pgx.Row, tx *sql.Tx) error {
	var n int64
	if err := row.Scan(&n, &ins.endpoints); err != nil {
		return fmt.Errorf("insert session: %w", err)
	}
	ins.inserted, ins.tx = n == 1, tx
	return nil
}

// noEndpointsKey marks a ctx (SessionInsert.Context) with
// noEndpoints.
type noEndpointsKey struct{}

// noEndpoints: in transaction tx, merchantID has no live URL endpoint.
type noEndpoints struct {
	tx         *sql.Tx
	merchantID int64
}

// Context is ctx for the rest of the insert's transaction: when the
// insert found that the merchant has no live URL webhook endpoint,
// LiveWebhookEndpoints in the same transaction answers none without
// asking the database again. Otherwise it is ctx.
func (ins *SessionInsert) Context(ctx context.Context) context.Context {
	if ins.tx == nil || !ins.inserted || ins.endpoints {
		return ctx
	}
	return context.WithValue(ctx, noEndpointsKey{}, noEndpoints{tx: ins.tx, merchantID: ins.s.MerchantID})
}

// knownNoEndpoints reports whether ctx says merchantID has no live URL
// endpoint in r's transaction.
func (r *Repo) knownNoEndpoints(ctx context.Context, merchantID int64) bool {
	v, ok := ctx.Value(noEndpointsKey{}).(noEndpoints)
	if !ok || v.merchantID != merchantID {
		return false
	}
	tx, ok := r.db.(bun.Tx)
	return ok && tx.Tx == v.tx
}

// InsertSessionForOrder is InsertOrderSession of s with first.
func (r *Repo) InsertSessionForOrder(ctx context.Context, s *Session, first *Event) (inserted bool, err error) {
	return r.InsertOrderSession(ctx, NewSessionInsert(s, first))
}

// InsertOrderSession inserts the session and its first event, unless the
// session's order (merchant, mode, order_id) is taken: it has an open or
// processing session, or one that received money. This replaces a read of
// the order's sessions before every insert. The NOT EXISTS (on
// sessions_merchant_order_idx) sees the order as of the statement's start,
// so a session being paid concurrently still counts as open there and the
// insert is skipped rather than racing the payment; concurrent inserts of
// one order meet on sessions_open_order_key, where ON CONFLICT DO NOTHING
// (on PostgreSQL after waiting for the other inserter) skips all but one.
// inserted is false when the order is taken (or, astronomically rarely,
// the random id collided); the caller then reads the order's sessions.
// When the group already ran the statement in r's transaction
// (RunInGroupTxFirst), its result is taken instead.
func (r *Repo) InsertOrderSession(ctx context.Context, ins *SessionInsert) (inserted bool, err error) {
	s, first := ins.s, ins.first
	if first == nil || first.SessionID != s.ID {
		return false, fmt.Errorf("insert session: the first event must be given, for session %s", s.ID)
	}
	tx, inTx := r.db.(bun.Tx)
	if inTx && ins.tx != nil && ins.tx == tx.Tx {
		return ins.inserted, nil
	}
	d := r.dialect()
	if d == DialectPostgres {
		var n int64
		if err := r.pgQueryRow(ctx, insertSessionQuerySQL, []any{&n, &ins.endpoints}, ins.args(d)...); err != nil {
			return false, fmt.Errorf("insert session: %w", err)
		}
		ins.inserted, ins.tx = n == 1, nil
		if inTx {
			ins.tx = tx.Tx
		}
		return ins.inserted, nil
	}
	res, err := r.hotExec(ctx, insertSessionForOrderSQL, ins.args(d)...)
	if err != nil {
		return false, fmt.Errorf("insert session: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("insert session: %w", err)
	}
	if n == 0 {
		return false, nil
	}
	return true, r.InsertEvent(ctx, first)
}

// DueSession is an open session whose expiry time has passed; it is also
// the cursor DueSessions pages by.
type DueSession struct {
	ID        string    `bun:"id"`
	ExpiresAt time.Time `bun:"expires_at"`
}

// DueSessions lists open sessions with expires_at at or before now, in
// (expires_at, id) order after the cursor (the zero DueSession starts at
// the beginning), at most limit of them. The partial index
// sessions_open_expiry_idx holds exactly the open sessions in that order,
// so a sweep reads only what it expires.
func (r *Repo) DueSessions(ctx context.Context, now time.Time, after DueSession, limit int) ([]DueSession, error) {
	out := []DueSession{}
	err := r.db.NewRaw(`SELECT id, expires_at FROM sessions
WHERE status = 'open' AND expires_at <= ? AND (expires_at > ? OR (expires_at = ? AND id > ?))
ORDER BY expires_at, id
LIMIT ?`, now.UTC(), after.ExpiresAt.UTC(), after.ExpiresAt.UTC(), after.ID, limit).Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("list due sessions: %w", err)
	}
	return out, nil
}

// DeleteWebhookRequestsBefore removes up to limit stored webhook requests
// received before cutoff, verified ones or unverified ones, and reports how
// many went. Provider events keep their normalized payload and lose only
// the link to the raw request. Each batch is one short transaction.
func (s *Store) DeleteWebhookRequestsBefore(ctx context.Context, verified bool, cutoff time.Time, limit int) (int64, error) {
	var n int64
	err := s.RunInTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var ids []int64
		err := tx.NewSelect().Model((*WebhookRequest)(nil)).Column("id").
			Where("verified = ? AND received_at < ?", verified, cutoff.UTC()).
			Order("received_at").Limit(int64(limit)).Scan(ctx, &ids)
		if err != nil || len(ids) == 0 {
			return err
		}
		if verified {
			_, err = tx.NewUpdate().Model((*ProviderEvent)(nil)).Set("webhook_request_id = NULL").
				Where("webhook_request_id IN (?)", bun.In(ids)).Exec(ctx)
			if err != nil {
				return err
			}
		}
		res, err := tx.NewDelete().Model((*WebhookRequest)(nil)).Where("id IN (?)", bun.In(ids)).Exec(ctx)
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("delete webhook requests: %w", err)
	}
	return n, nil
}
