package store

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"
)

// migration0002Payments creates the payment tables: checkout sessions, their
// payment attempts, outbound domain events, inbound provider events and raw
// webhook requests, and the Idempotency-Key replay store.
//
// Uniqueness that the API promises is enforced here, not in memory, so it
// holds across any number of instances sharing one database:
//   - sessions_open_order_key: at most one open or processing session per
//     (merchant, mode, order_id), which makes concurrent creates without an
//     Idempotency-Key yield one session;
//   - idempotency_keys' primary key: one stored response per key;
//   - provider_events_dedup_key: a redelivered provider event applies once;
//   - payment_attempts_provider_ref_key: an upstream payment maps to one
//     attempt (NULL refs, before the provider answers, are distinct in both
//     dialects); payment_attempts_session_seq_key numbers a session's
//     attempts 1, 2, … so "the latest attempt" never depends on clocks.
func migration0002Payments() migration {
	return migration{
		name:    "20261122000002",
		comment: "payments_tables",
		up: func(ctx context.Context, tx bun.Tx, d Dialect) error {
			t := columnTypes(d)
			return execAll(ctx, tx,
				// metadata and events.data are TEXT, not JSONB, on purpose:
				// they hold bytes Switchyard rendered and must read back
				// byte for byte (JSONB reorders keys and drops whitespace).
				fmt.Sprintf(`CREATE TABLE sessions (
	id TEXT PRIMARY KEY,
	merchant_id BIGINT NOT NULL REFERENCES merchants (id),
	mode TEXT NOT NULL,
	status TEXT NOT NULL,
	domain TEXT NOT NULL,
	order_id TEXT NOT NULL,
	amount BIGINT NOT NULL,
	currency TEXT NOT NULL,
	method TEXT,
	return_url TEXT NOT NULL,
	cancel_url TEXT NOT NULL,
	customer_email TEXT NOT NULL,
	metadata TEXT NOT NULL,
	amount_refunded BIGINT NOT NULL DEFAULT 0,
	dispute TEXT NOT NULL DEFAULT '',
	event_seq BIGINT NOT NULL DEFAULT 0,
	expires_at %[1]s NOT NULL,
	paid_at %[1]s,
	canceled_at %[1]s,
	created_at %[1]s NOT NULL,
	updated_at %[1]s NOT NULL,
	CONSTRAINT sessions_amount_check CHECK (amount > 0),
	CONSTRAINT sessions_refund_check CHECK (amount_refunded >= 0 AND amount_refunded <= amount)
)`, t.Time),
				`CREATE UNIQUE INDEX sessions_open_order_key ON sessions (merchant_id, mode, order_id)
	WHERE status IN ('open', 'processing')`,
				`CREATE INDEX sessions_merchant_order_idx ON sessions (merchant_id, mode, order_id)`,
				`CREATE INDEX sessions_status_updated_idx ON sessions (status, updated_at)`,

				fmt.Sprintf(`CREATE TABLE payment_attempts (
	id TEXT PRIMARY KEY,
	session_id TEXT NOT NULL REFERENCES sessions (id),
	seq INTEGER NOT NULL,
	provider_id TEXT NOT NULL,
	method TEXT NOT NULL,
	status TEXT NOT NULL,
	provider_ref TEXT,
	reason TEXT NOT NULL,
	error TEXT NOT NULL DEFAULT '',
	created_at %[1]s NOT NULL,
	updated_at %[1]s NOT NULL,
	CONSTRAINT payment_attempts_provider_ref_key UNIQUE (provider_id, provider_ref),
	CONSTRAINT payment_attempts_session_seq_key UNIQUE (session_id, seq)
)`, t.Time),

				fmt.Sprintf(`CREATE TABLE events (
	id TEXT PRIMARY KEY,
	merchant_id BIGINT NOT NULL REFERENCES merchants (id),
	mode TEXT NOT NULL,
	session_id TEXT NOT NULL REFERENCES sessions (id),
	type TEXT NOT NULL,
	seq BIGINT NOT NULL,
	data TEXT NOT NULL,
	created_at %[1]s NOT NULL,
	CONSTRAINT events_session_seq_key UNIQUE (session_id, seq)
)`, t.Time),
				`CREATE INDEX events_merchant_idx ON events (merchant_id, id)`,

				fmt.Sprintf(`CREATE TABLE webhook_requests (
	id %[1]s,
	provider_id TEXT NOT NULL,
	method TEXT NOT NULL,
	path TEXT NOT NULL,
	query TEXT NOT NULL,
	headers %[2]s NOT NULL,
	body %[3]s NOT NULL,
	remote_addr TEXT NOT NULL,
	received_at %[4]s NOT NULL,
	response_status INTEGER
)`, t.ID, t.JSON, t.Bytes, t.Time),
				`CREATE INDEX webhook_requests_provider_idx ON webhook_requests (provider_id, id)`,

				fmt.Sprintf(`CREATE TABLE provider_events (
	id %[1]s,
	provider_id TEXT NOT NULL,
	provider_event_id TEXT NOT NULL,
	webhook_request_id BIGINT REFERENCES webhook_requests (id),
	type TEXT NOT NULL,
	raw_type TEXT NOT NULL,
	session_id TEXT,
	provider_ref TEXT NOT NULL,
	payload %[2]s NOT NULL,
	outcome TEXT NOT NULL,
	reason TEXT NOT NULL,
	received_at %[3]s NOT NULL,
	CONSTRAINT provider_events_dedup_key UNIQUE (provider_id, provider_event_id)
)`, t.ID, t.JSON, t.Time),
				`CREATE INDEX provider_events_session_idx ON provider_events (session_id)`,

				fmt.Sprintf(`CREATE TABLE idempotency_keys (
	merchant_id BIGINT NOT NULL REFERENCES merchants (id),
	mode TEXT NOT NULL,
	idem_key TEXT NOT NULL,
	request_hash TEXT NOT NULL,
	response_status INTEGER NOT NULL,
	response_body %[1]s NOT NULL,
	session_id TEXT,
	created_at %[2]s NOT NULL,
	PRIMARY KEY (merchant_id, mode, idem_key)
)`, t.Bytes, t.Time),
				`CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at)`,
			)
		},
		down: func(ctx context.Context, tx bun.Tx, _ Dialect) error {
			return execAll(ctx, tx,
				`DROP TABLE idempotency_keys`,
				`DROP TABLE provider_events`,
				`DROP TABLE webhook_requests`,
				`DROP TABLE events`,
				`DROP TABLE payment_attempts`,
				`DROP TABLE sessions`,
			)
		},
	}
}
