package store

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"
)

// migration0010MoneyReview records what providers confirmed and holds the
// money that needs an operator (issue 11):
//   - sessions.amount_received / currency_received: the amount and currency
//     a provider confirmed for the session's payment (NULL until one is
//     confirmed; sessions paid before this migration keep NULL, since
//     nothing confirmed their amount then);
//   - sessions.review_reason: the reason of the session's latest open
//     review, ” when none (the status endpoint shows it);
//   - session_reviews: one row per finding (less or more money, another
//     currency, a refund or dispute beyond what was paid), with the amounts
//     on each side, the provider event that raised it, and the operator's
//     resolution. The partial index keeps the operator's queue (open and
//     refund_pending reviews) small whatever the history.
//
// Both dialects add nullable or defaulted columns without rewriting the
// sessions table.
func migration0010MoneyReview() migration {
	return migration{
		name:    "20261205000010",
		comment: "money_review",
		up: func(ctx context.Context, tx bun.Tx, d Dialect) error {
			t := columnTypes(d)
			return execAll(ctx, tx,
				`ALTER TABLE sessions ADD COLUMN amount_received BIGINT`,
				`ALTER TABLE sessions ADD COLUMN currency_received TEXT`,
				`ALTER TABLE sessions ADD COLUMN review_reason TEXT NOT NULL DEFAULT ''`,
				fmt.Sprintf(`CREATE TABLE session_reviews (
	id TEXT PRIMARY KEY,
	session_id TEXT NOT NULL REFERENCES sessions (id),
	merchant_id BIGINT NOT NULL REFERENCES merchants (id),
	mode TEXT NOT NULL,
	reason TEXT NOT NULL,
	status TEXT NOT NULL,
	event_kind TEXT NOT NULL,
	provider_id TEXT NOT NULL,
	provider_event_id TEXT NOT NULL,
	expected_amount BIGINT NOT NULL,
	expected_currency TEXT NOT NULL,
	received_amount BIGINT NOT NULL,
	received_currency TEXT NOT NULL,
	detail TEXT NOT NULL,
	resolution TEXT NOT NULL DEFAULT '',
	refund_amount BIGINT NOT NULL DEFAULT 0,
	refund_currency TEXT NOT NULL DEFAULT '',
	resolved_by TEXT NOT NULL DEFAULT '',
	note TEXT NOT NULL DEFAULT '',
	created_at %[1]s NOT NULL,
	resolved_at %[1]s,
	CONSTRAINT session_reviews_status_check CHECK (status IN ('open', 'refund_pending', 'resolved'))
)`, t.Time),
				`CREATE INDEX session_reviews_session_idx ON session_reviews (session_id, created_at)`,
				`CREATE INDEX session_reviews_queue_idx ON session_reviews (created_at, id) WHERE status IN ('open', 'refund_pending')`,
			)
		},
		down: func(ctx context.Context, tx bun.Tx, _ Dialect) error {
			return execAll(ctx, tx,
				`DROP TABLE session_reviews`,
				`ALTER TABLE sessions DROP COLUMN review_reason`,
				`ALTER TABLE sessions DROP COLUMN currency_received`,
				`ALTER TABLE sessions DROP COLUMN amount_received`,
			)
		},
	}
}
