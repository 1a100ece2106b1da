package store

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"
)

// Fulfillment (issue 15), migrations 0050-0053 (0054: subscriptions). JSON is kept as TEXT on
// both dialects so it reads back byte for byte.

// migration0050Products adds products saved through the admin API (those
// in the YAML file live in the configuration). merchant_id NULL is a
// global product; a sku is unique per merchant and among global products
// (COALESCE folds NULL into one key).
func migration0050Products() migration {
	return migration{
		name:    "20261205000050",
		comment: "fulfillment products",
		up: func(ctx context.Context, tx bun.Tx, d Dialect) error {
			t := columnTypes(d)
			return execAll(ctx, tx,
				fmt.Sprintf(`CREATE TABLE products (
	id TEXT PRIMARY KEY,
	merchant_id BIGINT REFERENCES merchants (id),
	sku TEXT NOT NULL,
	name TEXT NOT NULL,
	kind TEXT NOT NULL,
	spec TEXT NOT NULL,
	created_at %[1]s NOT NULL,
	updated_at %[1]s NOT NULL
)`, t.Time),
				`CREATE UNIQUE INDEX products_sku_key ON products (COALESCE(merchant_id, 0), sku)`,
			)
		},
		down: func(ctx context.Context, tx bun.Tx, _ Dialect) error {
			return execAll(ctx, tx, `DROP TABLE products`)
		},
	}
}

// migration0051SessionItems adds a session's items, stored in the create
// transaction with the product's fulfillment spec as it was then (a later
// product change does not change a paid order). sessions.items is the
// items as the API shows them (no secrets), so reading a session needs no
// join; it is NULL for sessions without items.
func migration0051SessionItems() migration {
	return migration{
		name:    "20261205000051",
		comment: "session items",
		up: func(ctx context.Context, tx bun.Tx, d Dialect) error {
			t := columnTypes(d)
			return execAll(ctx, tx,
				`ALTER TABLE sessions ADD COLUMN items TEXT`,
				fmt.Sprintf(`CREATE TABLE session_items (
	id TEXT PRIMARY KEY,
	session_id TEXT NOT NULL REFERENCES sessions (id),
	merchant_id BIGINT NOT NULL REFERENCES merchants (id),
	position INTEGER NOT NULL,
	sku TEXT NOT NULL,
	name TEXT NOT NULL,
	quantity INTEGER NOT NULL,
	kind TEXT NOT NULL,
	spec TEXT NOT NULL,
	domain TEXT NOT NULL DEFAULT '',
	username TEXT NOT NULL DEFAULT '',
	years INTEGER NOT NULL DEFAULT 0,
	action TEXT NOT NULL DEFAULT '',
	auth_code TEXT NOT NULL DEFAULT '',
	contact TEXT NOT NULL DEFAULT '{}',
	created_at %[1]s NOT NULL,
	CONSTRAINT session_items_quantity_check CHECK (quantity >= 1)
)`, t.Time),
				`CREATE UNIQUE INDEX session_items_position_key ON session_items (session_id, position)`,
			)
		},
		down: func(ctx context.Context, tx bun.Tx, _ Dialect) error {
			return execAll(ctx, tx, `DROP TABLE session_items`, `ALTER TABLE sessions DROP COLUMN items`)
		},
	}
}

// migration0052Clients adds the merchants' customers, one per merchant,
// mode and email.
func migration0052Clients() migration {
	return migration{
		name:    "20261205000052",
		comment: "clients",
		up: func(ctx context.Context, tx bun.Tx, d Dialect) error {
			t := columnTypes(d)
			return execAll(ctx, tx,
				fmt.Sprintf(`CREATE TABLE clients (
	id TEXT PRIMARY KEY,
	merchant_id BIGINT NOT NULL REFERENCES merchants (id),
	mode TEXT NOT NULL,
	email TEXT NOT NULL,
	name TEXT NOT NULL DEFAULT '',
	contact TEXT NOT NULL DEFAULT '{}',
	created_at %[1]s NOT NULL,
	updated_at %[1]s NOT NULL
)`, t.Time),
				`CREATE UNIQUE INDEX clients_email_key ON clients (merchant_id, mode, email)`,
			)
		},
		down: func(ctx context.Context, tx bun.Tx, _ Dialect) error {
			return execAll(ctx, tx, `DROP TABLE clients`)
		},
	}
}

// migration0053Services adds services (what provisioning made of an item)
// and their actions. An action row is the durable record of one change to
// make at the panel; its River job carries only the action id. A service
// whose automatic actions are paused (a dispute) keeps them as
// status 'paused' until an operator resumes. password is the generated
// panel password, keyring-encrypted, kept only until the service-ready
// mail went out.
func migration0053Services() migration {
	return migration{
		name:    "20261205000053",
		comment: "services",
		up: func(ctx context.Context, tx bun.Tx, d Dialect) error {
			t := columnTypes(d)
			return execAll(ctx, tx,
				fmt.Sprintf(`CREATE TABLE services (
	id TEXT PRIMARY KEY,
	merchant_id BIGINT NOT NULL REFERENCES merchants (id),
	mode TEXT NOT NULL,
	session_id TEXT NOT NULL REFERENCES sessions (id),
	item_id TEXT NOT NULL REFERENCES session_items (id),
	client_id TEXT REFERENCES clients (id),
	kind TEXT NOT NULL,
	sku TEXT NOT NULL,
	provisioner TEXT NOT NULL,
	package TEXT NOT NULL,
	domain TEXT NOT NULL,
	username TEXT NOT NULL,
	status TEXT NOT NULL,
	paused BOOLEAN NOT NULL DEFAULT FALSE,
	pause_reason TEXT NOT NULL DEFAULT '',
	suspend_reason TEXT NOT NULL DEFAULT '',
	last_error TEXT NOT NULL DEFAULT '',
	password TEXT NOT NULL DEFAULT '',
	server TEXT NOT NULL DEFAULT '',
	ip TEXT NOT NULL DEFAULT '',
	nameservers TEXT NOT NULL DEFAULT '',
	created_at %[1]s NOT NULL,
	updated_at %[1]s NOT NULL,
	activated_at %[1]s,
	suspended_at %[1]s,
	terminated_at %[1]s,
	CONSTRAINT services_status_check CHECK (status IN ('pending', 'active', 'suspended', 'terminated', 'failed'))
)`, t.Time),
				`CREATE UNIQUE INDEX services_item_key ON services (item_id)`,
				`CREATE INDEX services_session_idx ON services (session_id)`,
				`CREATE INDEX services_status_idx ON services (status, id)`,
				`CREATE INDEX services_merchant_idx ON services (merchant_id, id)`,
				fmt.Sprintf(`CREATE TABLE service_actions (
	id TEXT PRIMARY KEY,
	service_id TEXT NOT NULL REFERENCES services (id),
	action TEXT NOT NULL,
	status TEXT NOT NULL,
	reason TEXT NOT NULL DEFAULT '',
	package TEXT NOT NULL DEFAULT '',
	source TEXT NOT NULL,
	attempts INTEGER NOT NULL DEFAULT 0,
	last_error TEXT NOT NULL DEFAULT '',
	not_before %[1]s,
	created_at %[1]s NOT NULL,
	updated_at %[1]s NOT NULL,
	CONSTRAINT service_actions_status_check CHECK (status IN ('pending', 'paused', 'done', 'failed', 'canceled'))
)`, t.Time),
				`CREATE INDEX service_actions_service_idx ON service_actions (service_id, id)`,
			)
		},
		down: func(ctx context.Context, tx bun.Tx, _ Dialect) error {
			return execAll(ctx, tx, `DROP TABLE service_actions`, `DROP TABLE services`)
		},
	}
}
