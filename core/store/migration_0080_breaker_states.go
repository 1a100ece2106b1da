package store

import (
	"context"

	"github.com/uptrace/bun"
)

// migration0080BreakerStates adds breaker_states: each serving instance's
// view of each provider's circuit breaker, published on every change and
// refreshed periodically, so `switchyard plugins list` shows the breakers
// of every running instance (breakers stay per instance; this is a report,
// not shared state).
func migration0080BreakerStates() migration {
	return migration{
		name:    "20261205000080",
		comment: "breaker_states",
		up: func(ctx context.Context, tx bun.Tx, d Dialect) error {
			t := columnTypes(d)
			return execAll(ctx, tx, `CREATE TABLE breaker_states (
	instance_id TEXT NOT NULL,
	provider_id TEXT NOT NULL,
	state TEXT NOT NULL,
	failures INTEGER NOT NULL,
	open_until `+t.Time+`,
	updated_at `+t.Time+` NOT NULL,
	PRIMARY KEY (instance_id, provider_id)
)`)
		},
		down: func(ctx context.Context, tx bun.Tx, _ Dialect) error {
			return execAll(ctx, tx, `DROP TABLE breaker_states`)
		},
	}
}
