package store

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"
)

// migration0001Core creates the tenancy tables: merchants, their approved
// site domains and their API keys.
func migration0001Core() migration {
	return migration{
		name:    "20261122000001",
		comment: "core_tables",
		up: func(ctx context.Context, tx bun.Tx, d Dialect) error {
			t := columnTypes(d)
			return execAll(ctx, tx,
				fmt.Sprintf(`CREATE TABLE merchants (
	id %s,
	name TEXT NOT NULL,
	plan TEXT NOT NULL,
	status TEXT NOT NULL,
	contact_email TEXT NOT NULL,
	created_at %s NOT NULL,
	updated_at %s NOT NULL
)`, t.ID, t.Time, t.Time),
				fmt.Sprintf(`CREATE TABLE sites (
	id %s,
	merchant_id BIGINT NOT NULL REFERENCES merchants (id),
	domain TEXT NOT NULL,
	created_at %s NOT NULL,
	CONSTRAINT sites_merchant_domain_key UNIQUE (merchant_id, domain)
)`, t.ID, t.Time),
				fmt.Sprintf(`CREATE TABLE api_keys (
	id %s,
	merchant_id BIGINT NOT NULL REFERENCES merchants (id),
	prefix TEXT NOT NULL,
	secret_hash TEXT NOT NULL,
	scopes TEXT NOT NULL,
	mode TEXT NOT NULL,
	name TEXT NOT NULL,
	created_at %s NOT NULL,
	revoked_at %s,
	last_used_at %s,
	CONSTRAINT api_keys_prefix_key UNIQUE (prefix),
	CONSTRAINT api_keys_secret_hash_key UNIQUE (secret_hash)
)`, t.ID, t.Time, t.Time, t.Time),
				`CREATE INDEX api_keys_merchant_id_idx ON api_keys (merchant_id)`,
			)
		},
		down: func(ctx context.Context, tx bun.Tx, _ Dialect) error {
			return execAll(ctx, tx,
				`DROP TABLE api_keys`,
				`DROP TABLE sites`,
				`DROP TABLE merchants`,
			)
		},
	}
}
