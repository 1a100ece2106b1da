package store

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"
)

// migration0054Subscriptions links provider subscriptions to the session
// that started them, so a renewal or a failed renewal charge reaches that
// session's services (issue 15). The key is the provider instance and the
// provider's own subscription id: an event is looked up by exactly that
// pair, never by a customer or an amount, so an event for a subscription
// no session started finds no row and is only recorded. The link is made
// once, by the first subscription.created that resolved to a session
// through the instance its payment was routed to; a later event naming
// another session does not move it.
//
// services.suspend_source is the source of the action that suspended a
// service ("subscription", "refund", "operator:NAME"): a renewal lifts
// only a suspension for non-payment, never an operator's, a refund's or a
// dispute's.
func migration0054Subscriptions() migration {
	return migration{
		name:    "20261205000054",
		comment: "subscription links, why a service is suspended",
		up: func(ctx context.Context, tx bun.Tx, d Dialect) error {
			return execAll(ctx, tx,
				fmt.Sprintf(`CREATE TABLE subscriptions (
	provider_id TEXT NOT NULL,
	subscription_id TEXT NOT NULL,
	session_id TEXT NOT NULL REFERENCES sessions (id),
	merchant_id BIGINT NOT NULL REFERENCES merchants (id),
	mode TEXT NOT NULL,
	provider_event_id TEXT NOT NULL,
	created_at %s NOT NULL,
	PRIMARY KEY (provider_id, subscription_id)
)`, columnTypes(d).Time),
				`CREATE INDEX subscriptions_session_idx ON subscriptions (session_id)`,
				`ALTER TABLE services ADD COLUMN suspend_source TEXT NOT NULL DEFAULT ''`,
			)
		},
		down: func(ctx context.Context, tx bun.Tx, _ Dialect) error {
			return execAll(ctx, tx, `ALTER TABLE services DROP COLUMN suspend_source`, `DROP TABLE subscriptions`)
		},
	}
}
