package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// MailSettings are a merchant's customer mail settings (migration 0055).
type MailSettings struct {
	bun.BaseModel `bun:"table:merchant_mail_settings,alias:mms"`

	MerchantID      int64     `bun:"merchant_id,pk"`
	ReceiptsEnabled bool      `bun:"receipts_enabled,notnull"`
	Mailer          string    `bun:"mailer,notnull"`
	From            string    `bun:"from_address,notnull"`
	ReplyTo         string    `bun:"reply_to,notnull"`
	UpdatedAt       time.Time `bun:"updated_at,notnull"`
}

// MailTemplate is a merchant's override of one built-in mail template; an
// empty part means the built-in one.
type MailTemplate struct {
	bun.BaseModel `bun:"table:mail_templates,alias:mt"`

	MerchantID int64     `bun:"merchant_id,pk"`
	Name       string    `bun:"name,pk"`
	Subject    string    `bun:"subject,notnull"`
	Text       string    `bun:"text_body,notnull"`
	HTML       string    `bun:"html_body,notnull"`
	UpdatedAt  time.Time `bun:"updated_at,notnull"`
}

// MailSettings returns a merchant's mail settings; a merchant that never
// saved any gets the zero settings (receipts off) with found false. It does
// not check that the merchant exists.
func (r *Repo) MailSettings(ctx context.Context, merchantID int64) (ms *MailSettings, found bool, err error) {
	ms = &MailSettings{MerchantID: merchantID}
	err = r.db.NewSelect().Model(ms).Where("mms.merchant_id = ?", merchantID).Scan(ctx)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return &MailSettings{MerchantID: merchantID}, false, nil
	case err != nil:
		return nil, false, fmt.Errorf("mail settings: %w", err)
	}
	return ms, true, nil
}

// PutMailSettings stores a merchant's mail settings, replacing any.
func (r *Repo) PutMailSettings(ctx context.Context, ms *MailSettings) error {
	ms.UpdatedAt = now()
	_, err := r.db.NewInsert().Model(ms).
		On("CONFLICT (merchant_id) DO UPDATE").
		Set("receipts_enabled = EXCLUDED.receipts_enabled, mailer = EXCLUDED.mailer, from_address = EXCLUDED.from_address, reply_to = EXCLUDED.reply_to, updated_at = EXCLUDED.updated_at").
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("put mail settings: %w", err)
	}
	return nil
}

// MailTemplate returns a merchant's override of template name, or
// domain.ErrNotFound.
func (r *Repo) MailTemplate(ctx context.Context, merchantID int64, name string) (*MailTemplate, error) {
	mt := new(MailTemplate)
	err := r.db.NewSelect().Model(mt).Where("mt.merchant_id = ? AND mt.name = ?", merchantID, name).Scan(ctx)
	if err != nil {
		return nil, notFound(err, "mail template override")
	}
	return mt, nil
}

// MailTemplates lists a merchant's overrides by name.
func (r *Repo) MailTemplates(ctx context.Context, merchantID int64) ([]*MailTemplate, error) {
	out := []*MailTemplate{}
	if err := r.db.NewSelect().Model(&out).Where("mt.merchant_id = ?", merchantID).Order("mt.name").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list mail templates: %w", err)
	}
	return out, nil
}

// PutMailTemplate stores an override, replacing the merchant's previous
// one of the same template.
func (r *Repo) PutMailTemplate(ctx context.Context, mt *MailTemplate) error {
	mt.UpdatedAt = now()
	_, err := r.db.NewInsert().Model(mt).
		On("CONFLICT (merchant_id, name) DO UPDATE").
		Set("subject = EXCLUDED.subject, text_body = EXCLUDED.text_body, html_body = EXCLUDED.html_body, updated_at = EXCLUDED.updated_at").
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("put mail template: %w", err)
	}
	return nil
}

// DeleteMailTemplate removes a merchant's override of name; removing one
// that does not exist is domain.ErrNotFound.
func (r *Repo) DeleteMailTemplate(ctx context.Context, merchantID int64, name string) error {
	res, err := r.db.NewDelete().Model((*MailTemplate)(nil)).
		Where("merchant_id = ? AND name = ?", merchantID, name).Exec(ctx)
	if err != nil {
		return fmt.Errorf("delete mail template: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFound(sql.ErrNoRows, "mail template override")
	}
	return nil
}

// mailReceipt is a receipt that was enqueued (migration 0056).
type mailReceipt struct {
	bun.BaseModel `bun:"table:mail_receipts"`

	Key        string    `bun:"receipt_key,pk"`
	MerchantID int64     `bun:"merchant_id,notnull"`
	CreatedAt  time.Time `bun:"created_at,notnull"`
}

// ClaimMailReceipt records that the receipt key (one per session or
// refund) is being sent, and reports whether this call recorded it: false
// means it was claimed before and must not be sent again. Call it in the
// transaction that enqueues the receipt.
func (r *Repo) ClaimMailReceipt(ctx context.Context, key string, merchantID int64) (bool, error) {
	res, err := r.db.NewInsert().Model(&mailReceipt{Key: key, MerchantID: merchantID, CreatedAt: now()}).
		On("CONFLICT (receipt_key) DO NOTHING").Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("claim mail receipt: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("claim mail receipt: %w", err)
	}
	return n == 1, nil
}
