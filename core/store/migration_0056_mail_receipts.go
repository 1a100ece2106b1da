package store

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"
)

// migration0056MailReceipts records every receipt enqueued (one row per
// session's payment receipt and per refund's receipt), in the transaction
// that enqueues it: a session paid a second time (a dispute lost, then
// won) must not mail a second receipt, however long after. River's own
// uniqueness lasts only as long as it keeps the finished job.
func migration0056MailReceipts() migration {
	return migration{
		name:    "20261205000056",
		comment: "mail receipts sent once",
		up: func(ctx context.Context, tx bun.Tx, d Dialect) error {
			return execAll(ctx, tx, fmt.Sprintf(`CREATE TABLE mail_receipts (
	receipt_key TEXT PRIMARY KEY,
	merchant_id BIGINT NOT NULL REFERENCES merchants (id),
	created_at %s NOT NULL
)`, columnTypes(d).Time))
		},
		down: func(ctx context.Context, tx bun.Tx, _ Dialect) error {
			return execAll(ctx, tx, `DROP TABLE mail_receipts`)
		},
	}
}
