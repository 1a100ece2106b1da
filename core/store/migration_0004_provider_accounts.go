package store

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"
)

// migration0004ProviderAccounts creates merchant_provider_accounts: the
// upstream account a merchant connected on a provider instance (Stripe
// Connect Standard), used as CreatePaymentRequest.MerchantAccount.
//
// id is "<merchant_id>:<provider_id>", known before the row exists, so the
// keyring owner of account_id_encrypted (table, id, field) can be bound at
// encryption time and `secrets rewrap` finds it through the id column. A
// disconnected row is kept (disconnected_at set) for the operator's
// history until the merchant connects again, which overwrites it.
func migration0004ProviderAccounts() migration {
	return migration{
		name:    "20261122000004",
		comment: "provider_accounts",
		up: func(ctx context.Context, tx bun.Tx, d Dialect) error {
			t := columnTypes(d)
			return execAll(ctx, tx,
				fmt.Sprintf(`CREATE TABLE merchant_provider_accounts (
	id TEXT PRIMARY KEY,
	merchant_id BIGINT NOT NULL REFERENCES merchants (id),
	provider_id TEXT NOT NULL,
	account_id_encrypted TEXT NOT NULL,
	livemode BOOLEAN NOT NULL,
	connected_at %[1]s NOT NULL,
	disconnected_at %[1]s,
	updated_at %[1]s NOT NULL,
	CONSTRAINT merchant_provider_accounts_key UNIQUE (merchant_id, provider_id)
)`, t.Time),
				`CREATE INDEX merchant_provider_accounts_provider_idx ON merchant_provider_accounts (provider_id)`,
			)
		},
		down: func(ctx context.Context, tx bun.Tx, _ Dialect) error {
			return execAll(ctx, tx, `DROP TABLE merchant_provider_accounts`)
		},
	}
}
