package store

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"
)

// migration0055Mail adds the customer mail settings of issue 15 (item 5):
//   - merchant_mail_settings: one row per merchant that configured mail:
//     whether payment receipts are sent, and the mailer plugin instance,
//     From and Reply-To of the mail sent to its customers. No row means
//     receipts off and the configured defaults (mail.mailer);
//   - mail_templates: a merchant's overrides of the built-in templates,
//     one row per (merchant, template). An empty part (subject, text or
//     html) means the built-in one; a row exists only with at least one
//     part set, and every stored part was checked to parse and render
//     against sample data when it was saved.
func migration0055Mail() migration {
	return migration{
		name:    "20261205000055",
		comment: "merchant mail settings and template overrides",
		up: func(ctx context.Context, tx bun.Tx, d Dialect) error {
			t := columnTypes(d)
			return execAll(ctx, tx,
				fmt.Sprintf(`CREATE TABLE merchant_mail_settings (
	merchant_id BIGINT PRIMARY KEY REFERENCES merchants (id),
	receipts_enabled BOOLEAN NOT NULL DEFAULT FALSE,
	mailer TEXT NOT NULL DEFAULT '',
	from_address TEXT NOT NULL DEFAULT '',
	reply_to TEXT NOT NULL DEFAULT '',
	updated_at %[1]s NOT NULL
)`, t.Time),
				fmt.Sprintf(`CREATE TABLE mail_templates (
	merchant_id BIGINT NOT NULL REFERENCES merchants (id),
	name TEXT NOT NULL,
	subject TEXT NOT NULL DEFAULT '',
	text_body TEXT NOT NULL DEFAULT '',
	html_body TEXT NOT NULL DEFAULT '',
	updated_at %[1]s NOT NULL,
	PRIMARY KEY (merchant_id, name)
)`, t.Time),
			)
		},
		down: func(ctx context.Context, tx bun.Tx, _ Dialect) error {
			return execAll(ctx, tx, `DROP TABLE mail_templates`, `DROP TABLE merchant_mail_settings`)
		},
	}
}
