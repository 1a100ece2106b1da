package store

import (
	"context"

	"github.com/uptrace/bun"
)

// migration0070Console adds what the operator console keeps:
//
//   - console_sessions: server-side login sessions. The cookie holds a
//     random secret; only its SHA-256 is the key here, so a database read
//     does not hand out sessions. token_fp ties the session to the token
//     that logged in (rotating or removing the token ends it); csrf is the
//     session's form token; flash is the
//     notice to show on the next page (never a secret).
//   - audit_log: who did what to which target, when, through the console
//     or the admin API, and how it ended. Rows are only ever inserted.
//   - indexes for the console's listings: sessions by creation time (date
//     filters) and payment attempts by creation time (today's volume).
func migration0070Console() migration {
	return migration{
		name:    "20261205000070",
		comment: "console",
		up: func(ctx context.Context, tx bun.Tx, d Dialect) error {
			t := columnTypes(d)
			return execAll(ctx, tx,
				`CREATE TABLE console_sessions (
	id TEXT PRIMARY KEY,
	operator TEXT NOT NULL,
	token_fp TEXT NOT NULL,
	csrf TEXT NOT NULL,
	flash TEXT NOT NULL,
	remote_addr TEXT NOT NULL,
	user_agent TEXT NOT NULL,
	created_at `+t.Time+` NOT NULL,
	last_seen_at `+t.Time+` NOT NULL,
	expires_at `+t.Time+` NOT NULL
)`,
				`CREATE INDEX console_sessions_expires_idx ON console_sessions (expires_at)`,
				`CREATE TABLE audit_log (
	id `+t.ID+`,
	at `+t.Time+` NOT NULL,
	actor TEXT NOT NULL,
	role TEXT NOT NULL,
	via TEXT NOT NULL,
	action TEXT NOT NULL,
	target_type TEXT NOT NULL,
	target_id TEXT NOT NULL,
	outcome TEXT NOT NULL,
	detail TEXT NOT NULL,
	remote_addr TEXT NOT NULL
)`,
				`CREATE INDEX audit_log_at_idx ON audit_log (at)`,
				`CREATE INDEX audit_log_target_idx ON audit_log (target_type, target_id)`,
				`CREATE INDEX sessions_created_idx ON sessions (created_at)`,
				`CREATE INDEX payment_attempts_created_idx ON payment_attempts (created_at)`,
			)
		},
		down: func(ctx context.Context, tx bun.Tx, _ Dialect) error {
			return execAll(ctx, tx, `DROP INDEX payment_attempts_created_idx`, `DROP INDEX sessions_created_idx`,
				`DROP TABLE audit_log`, `DROP TABLE console_sessions`)
		},
	}
}
