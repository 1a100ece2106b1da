package store

import (
	"context"

	"github.com/uptrace/bun"
)

// migration0006AttemptRedirect adds payment_attempts.redirect_url: the
// provider page an attempt sent the shopper to. The hosted checkout sends a
// shopper who comes back (Back from the provider page, a reload) to the
// same page while the attempt is still pending, instead of creating a new
// upstream payment on every visit. It is NULL for attempts made before
// this migration and for attempts whose provider needed no redirect; both
// dialects add a nullable column without rewriting the table.
func migration0006AttemptRedirect() migration {
	return migration{
		name:    "20261122000006",
		comment: "attempt_redirect",
		up: func(ctx context.Context, tx bun.Tx, _ Dialect) error {
			return execAll(ctx, tx, `ALTER TABLE payment_attempts ADD COLUMN redirect_url TEXT`)
		},
		down: func(ctx context.Context, tx bun.Tx, _ Dialect) error {
			// SQLite has DROP COLUMN since 3.35 (modernc bundles a later one).
			return execAll(ctx, tx, `ALTER TABLE payment_attempts DROP COLUMN redirect_url`)
		},
	}
}
