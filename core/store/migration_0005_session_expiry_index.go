package store

import (
	"context"

	"github.com/uptrace/bun"
)

// migration0005SessionExpiryIndex indexes the open sessions by expiry for
// the periodic expiry sweep (Repo.DueSessions), which replaced one River
// job per session. The index is partial: it holds only open sessions, so
// it stays as small as the set the sweep can act on, and a session leaves
// it when it is paid, canceled or expired.
func migration0005SessionExpiryIndex() migration {
	return migration{
		name:    "20261122000005",
		comment: "session_expiry_index",
		up: func(ctx context.Context, tx bun.Tx, _ Dialect) error {
			return execAll(ctx, tx,
				`CREATE INDEX sessions_open_expiry_idx ON sessions (expires_at, id) WHERE status = 'open'`,
			)
		},
		down: func(ctx context.Context, tx bun.Tx, _ Dialect) error {
			return execAll(ctx, tx, `DROP INDEX sessions_open_expiry_idx`)
		},
	}
}
