package store

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"
)

// migration0060Domains adds the domain lifecycle (issue 16):
//   - domains: one row per domain a merchant bought through a session item
//     (name in punycode), its registrar instance, status, expiry,
//     nameservers and lock as last read from the registrar, and what was
//     asked with it (mail DNS, a hosting target). The unique item_id is the
//     first half of registration money safety: one domain per paid item,
//     whatever number of times the paid hook runs. A partial unique index
//     keeps one live row per registrar and name (a failed one may be bought
//     again).
//   - domain_operations: every registrar call Switchyard makes for a domain.
//     request_key is unique ("register:<item>", "renew:<domain>:<expiry>"),
//     so a request is one row; registrar_op_id is written in its own
//     committed transaction as soon as the registrar answers, before any
//     polling; status "submitting" is committed before a spending call is
//     made, so a job retried after a crash knows the call may have gone
//     through and never makes it again. auth_code_enc holds a transfer's
//     EPP code, keyring-encrypted, until the transfer is submitted.
func migration0060Domains() migration {
	return migration{
		name:    "20261205000060",
		comment: "domains",
		up: func(ctx context.Context, tx bun.Tx, d Dialect) error {
			t := columnTypes(d)
			return execAll(ctx, tx,
				fmt.Sprintf(`CREATE TABLE domains (
	id TEXT PRIMARY KEY,
	merchant_id BIGINT NOT NULL REFERENCES merchants (id),
	mode TEXT NOT NULL,
	name TEXT NOT NULL,
	registrar_id TEXT NOT NULL,
	status TEXT NOT NULL,
	action TEXT NOT NULL,
	years INTEGER NOT NULL,
	session_id TEXT NOT NULL REFERENCES sessions (id),
	item_id TEXT NOT NULL,
	contact_email TEXT NOT NULL DEFAULT '',
	expires_at %[1]s,
	nameservers TEXT NOT NULL DEFAULT '[]',
	locked BOOLEAN NOT NULL DEFAULT FALSE,
	auto_renew BOOLEAN NOT NULL DEFAULT FALSE,
	mail_dns BOOLEAN NOT NULL DEFAULT FALSE,
	hosting_ip TEXT NOT NULL DEFAULT '',
	hosting_nameservers TEXT NOT NULL DEFAULT '[]',
	failure_message TEXT NOT NULL DEFAULT '',
	expired_for %[1]s,
	reminded_for %[1]s,
	created_at %[1]s NOT NULL,
	updated_at %[1]s NOT NULL,
	CONSTRAINT domains_status_check CHECK (status IN ('pending', 'active', 'failed', 'expired', 'attention')),
	CONSTRAINT domains_action_check CHECK (action IN ('register', 'transfer')),
	CONSTRAINT domains_years_check CHECK (years BETWEEN 1 AND 10)
)`, t.Time),
				`CREATE UNIQUE INDEX domains_item_key ON domains (item_id)`,
				`CREATE UNIQUE INDEX domains_live_name_key ON domains (registrar_id, name) WHERE status <> 'failed'`,
				`CREATE INDEX domains_merchant_idx ON domains (merchant_id, id)`,
				`CREATE INDEX domains_expiry_idx ON domains (status, expires_at)`,
				fmt.Sprintf(`CREATE TABLE domain_operations (
	id TEXT PRIMARY KEY,
	domain_id TEXT NOT NULL REFERENCES domains (id),
	type TEXT NOT NULL,
	status TEXT NOT NULL,
	request_key TEXT NOT NULL,
	registrar_op_id TEXT,
	years INTEGER NOT NULL DEFAULT 0,
	params TEXT NOT NULL DEFAULT '{}',
	auth_code_enc TEXT,
	polls INTEGER NOT NULL DEFAULT 0,
	message TEXT NOT NULL DEFAULT '',
	requested_by TEXT NOT NULL DEFAULT '',
	created_at %[1]s NOT NULL,
	updated_at %[1]s NOT NULL,
	submitted_at %[1]s,
	finished_at %[1]s,
	CONSTRAINT domain_operations_status_check CHECK (status IN ('queued', 'submitting', 'pending', 'in_progress', 'succeeded', 'failed', 'attention'))
)`, t.Time),
				`CREATE UNIQUE INDEX domain_operations_request_key ON domain_operations (request_key)`,
				`CREATE INDEX domain_operations_domain_idx ON domain_operations (domain_id, id)`,
			)
		},
		down: func(ctx context.Context, tx bun.Tx, _ Dialect) error {
			return execAll(ctx, tx, `DROP TABLE domain_operations`, `DROP TABLE domains`)
		},
	}
}
