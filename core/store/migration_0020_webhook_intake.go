package store

import (
	"context"

	"github.com/uptrace/bun"
)

// migration0020WebhookIntake bounds what unverified inbound webhooks cost.
// Until now every request to /hooks/… was stored whole (up to the body
// limit) before the plugin verified it, and nothing deleted it, so anyone
// could fill the disk. From here on a request is stored whole only when its
// plugin accepted it, and as a bounded excerpt otherwise:
//
//   - verified: the plugin accepted the request (no error, and events or a
//     status below 400); only then are its full headers and body kept;
//   - body_size: the body's length as received, so an excerpt still says
//     how much was sent;
//   - truncated: the row holds an excerpt (body, headers, query or path
//     were cut);
//   - webhook_requests_retention_idx serves the retention job, which
//     deletes unverified requests and, after a longer window, verified ones
//     by (verified, received_at).
//
// Rows stored before this migration are marked verified when an event
// refers to them or Switchyard answered them below 400, so retention
// treats them like new ones.
func migration0020WebhookIntake() migration {
	return migration{
		name:    "20261205000020",
		comment: "webhook_intake",
		up: func(ctx context.Context, tx bun.Tx, _ Dialect) error {
			return execAll(ctx, tx,
				`ALTER TABLE webhook_requests ADD COLUMN verified BOOLEAN NOT NULL DEFAULT FALSE`,
				`ALTER TABLE webhook_requests ADD COLUMN body_size BIGINT NOT NULL DEFAULT 0`,
				`ALTER TABLE webhook_requests ADD COLUMN truncated BOOLEAN NOT NULL DEFAULT FALSE`,
				`UPDATE webhook_requests SET body_size = length(body)`,
				`UPDATE webhook_requests SET verified = TRUE
	WHERE (response_status >= 200 AND response_status < 400)
	   OR id IN (SELECT webhook_request_id FROM provider_events WHERE webhook_request_id IS NOT NULL)`,
				`CREATE INDEX webhook_requests_retention_idx ON webhook_requests (verified, received_at)`,
			)
		},
		down: func(ctx context.Context, tx bun.Tx, _ Dialect) error {
			return execAll(ctx, tx,
				`DROP INDEX webhook_requests_retention_idx`,
				`ALTER TABLE webhook_requests DROP COLUMN truncated`,
				`ALTER TABLE webhook_requests DROP COLUMN body_size`,
				`ALTER TABLE webhook_requests DROP COLUMN verified`,
			)
		},
	}
}
