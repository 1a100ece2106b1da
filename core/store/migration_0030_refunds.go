package store

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"
)

// migration0030Refunds adds merchant refunds (issue 13):
//   - sessions.amount_refund_pending: what refunds that are still pending
//     have reserved. A refund is created only by a conditional UPDATE that
//     keeps amount_refunded + amount_refund_pending within what the session
//     received, so concurrent refunds can never add up to more, on any
//     number of instances;
//   - refunds: one row per refund, whoever started it (merchant, operator,
//     or the provider's own dashboard, learned from its webhook). The
//     partial unique index on (provider_id, provider_refund_id) means one
//     upstream refund is one row: a refund webhook can be matched to its
//     row, never counted twice. review_id links the refund an operator's
//     review decision started (issue 11).
func migration0030Refunds() migration {
	return migration{
		name:    "20261205000030",
		comment: "refunds",
		up: func(ctx context.Context, tx bun.Tx, d Dialect) error {
			t := columnTypes(d)
			return execAll(ctx, tx,
				`ALTER TABLE sessions ADD COLUMN amount_refund_pending BIGINT NOT NULL DEFAULT 0`,
				fmt.Sprintf(`CREATE TABLE refunds (
	id TEXT PRIMARY KEY,
	session_id TEXT NOT NULL REFERENCES sessions (id),
	merchant_id BIGINT NOT NULL REFERENCES merchants (id),
	mode TEXT NOT NULL,
	provider_id TEXT NOT NULL,
	attempt_id TEXT NOT NULL,
	amount BIGINT NOT NULL,
	currency TEXT NOT NULL,
	full_refund BOOLEAN NOT NULL,
	reason TEXT NOT NULL,
	metadata TEXT NOT NULL,
	status TEXT NOT NULL,
	source TEXT NOT NULL,
	review_id TEXT REFERENCES session_reviews (id),
	provider_refund_id TEXT,
	provider_event_id TEXT,
	failure_code TEXT NOT NULL DEFAULT '',
	failure_message TEXT NOT NULL DEFAULT '',
	created_at %[1]s NOT NULL,
	updated_at %[1]s NOT NULL,
	settled_at %[1]s,
	CONSTRAINT refunds_status_check CHECK (status IN ('pending', 'succeeded', 'failed')),
	CONSTRAINT refunds_amount_check CHECK (amount > 0)
)`, t.Time),
				`CREATE INDEX refunds_session_idx ON refunds (session_id, id)`,
				`CREATE INDEX refunds_merchant_idx ON refunds (merchant_id, id)`,
				`CREATE UNIQUE INDEX refunds_provider_refund_key ON refunds (provider_id, provider_refund_id) WHERE provider_refund_id IS NOT NULL`,
			)
		},
		down: func(ctx context.Context, tx bun.Tx, _ Dialect) error {
			return execAll(ctx, tx,
				`DROP TABLE refunds`,
				`ALTER TABLE sessions DROP COLUMN amount_refund_pending`,
			)
		},
	}
}
