package store

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"
)

// migration0003Webhooks creates the outbound webhook tables: endpoints
// (regular URLs, and per-site IPN signing configs whose URL comes from each
// session's ipn_url), deliveries (one per event and target) and their
// attempts; and adds sessions.ipn_url.
//
// Constraints that carry guarantees:
//   - webhook_deliveries_target_key: an event is delivered once per target
//     even if the hook that creates deliveries runs twice;
//   - webhook_attempts_n_key: attempt numbers are unique per delivery, so
//     two instances cannot both schedule "attempt 3";
//   - webhook_endpoints_ipn_key: at most one live IPN signing config per
//     merchant and site.
func migration0003Webhooks() migration {
	return migration{
		name:    "20261122000003",
		comment: "webhooks_tables",
		up: func(ctx context.Context, tx bun.Tx, d Dialect) error {
			t := columnTypes(d)
			return execAll(ctx, tx,
				`ALTER TABLE sessions ADD COLUMN ipn_url TEXT NOT NULL DEFAULT ''`,

				fmt.Sprintf(`CREATE TABLE webhook_endpoints (
	id TEXT PRIMARY KEY,
	merchant_id BIGINT NOT NULL REFERENCES merchants (id),
	site TEXT NOT NULL,
	kind TEXT NOT NULL,
	url TEXT NOT NULL,
	description TEXT NOT NULL,
	event_types TEXT NOT NULL,
	mode TEXT NOT NULL,
	profile TEXT NOT NULL,
	schedule TEXT NOT NULL,
	secret TEXT NOT NULL,
	previous_secret TEXT NOT NULL DEFAULT '',
	previous_expires_at %[1]s,
	enabled BOOLEAN NOT NULL,
	disabled_reason TEXT NOT NULL DEFAULT '',
	deleted_at %[1]s,
	created_at %[1]s NOT NULL,
	updated_at %[1]s NOT NULL
)`, t.Time),
				`CREATE INDEX webhook_endpoints_merchant_idx ON webhook_endpoints (merchant_id, id)`,
				`CREATE UNIQUE INDEX webhook_endpoints_ipn_key ON webhook_endpoints (merchant_id, site)
	WHERE kind = 'ipn' AND deleted_at IS NULL`,

				fmt.Sprintf(`CREATE TABLE webhook_deliveries (
	id TEXT PRIMARY KEY,
	event_id TEXT NOT NULL REFERENCES events (id),
	merchant_id BIGINT NOT NULL REFERENCES merchants (id),
	event_type TEXT NOT NULL,
	endpoint_id TEXT REFERENCES webhook_endpoints (id),
	url TEXT NOT NULL,
	status TEXT NOT NULL,
	attempts INTEGER NOT NULL DEFAULT 0,
	next_attempt_at %[1]s,
	last_status_code INTEGER,
	last_error TEXT NOT NULL DEFAULT '',
	created_at %[1]s NOT NULL,
	updated_at %[1]s NOT NULL,
	CONSTRAINT webhook_deliveries_target_key UNIQUE (event_id, endpoint_id, url)
)`, t.Time),
				`CREATE INDEX webhook_deliveries_event_idx ON webhook_deliveries (event_id)`,
				`CREATE INDEX webhook_deliveries_merchant_idx ON webhook_deliveries (merchant_id, id)`,
				`CREATE INDEX webhook_deliveries_endpoint_idx ON webhook_deliveries (endpoint_id, id)`,
				`CREATE INDEX webhook_deliveries_status_idx ON webhook_deliveries (status, created_at)`,

				fmt.Sprintf(`CREATE TABLE webhook_attempts (
	id %[1]s,
	delivery_id TEXT NOT NULL REFERENCES webhook_deliveries (id),
	n INTEGER NOT NULL,
	cause TEXT NOT NULL,
	state TEXT NOT NULL,
	scheduled_at %[2]s NOT NULL,
	attempted_at %[2]s,
	status_code INTEGER,
	latency_ms BIGINT,
	response_body TEXT NOT NULL DEFAULT '',
	error TEXT NOT NULL DEFAULT '',
	CONSTRAINT webhook_attempts_n_key UNIQUE (delivery_id, n)
)`, t.ID, t.Time),
			)
		},
		down: func(ctx context.Context, tx bun.Tx, _ Dialect) error {
			return execAll(ctx, tx,
				`DROP TABLE webhook_attempts`,
				`DROP TABLE webhook_deliveries`,
				`DROP TABLE webhook_endpoints`,
				`ALTER TABLE sessions DROP COLUMN ipn_url`,
			)
		},
	}
}
