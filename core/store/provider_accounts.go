package store

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/uptrace/bun"

	"github.com/switchyard/switchyard/core/domain"
)

// ProviderAccount is the upstream account a merchant connected on one
// provider instance. AccountIDEncrypted is a keyring ciphertext whose owner
// is (ProviderAccountsTable, ID, ProviderAccountsField); the store never
// sees the plaintext.
type ProviderAccount struct {
	bun.BaseModel `bun:"table:merchant_provider_accounts,alias:mpa"`

	ID                 string     `bun:"id,pk"`
	MerchantID         int64      `bun:"merchant_id,notnull"`
	ProviderID         string     `bun:"provider_id,notnull"`
	AccountIDEncrypted string     `bun:"account_id_encrypted,notnull"`
	Livemode           bool       `bun:"livemode,notnull"`
	ConnectedAt        time.Time  `bun:"connected_at,notnull"`
	DisconnectedAt     *time.Time `bun:"disconnected_at"`
	UpdatedAt          time.Time  `bun:"updated_at,notnull"`
}

// Connected reports whether the account is in use for payments.
func (a *ProviderAccount) Connected() bool { return a.DisconnectedAt == nil }

// Where provider account ids are stored encrypted, for keyring owners and
// `secrets rewrap`.
const (
	ProviderAccountsTable    = "merchant_provider_accounts"
	ProviderAccountsIDColumn = "id"
	ProviderAccountsField    = "account_id_encrypted"
)

// ProviderAccountID is the row id for a merchant's account on a provider
// instance; it is also the keyring owner row of the encrypted account id.
func ProviderAccountID(merchantID int64, providerID string) string {
	return strconv.FormatInt(merchantID, 10) + ":" + providerID
}

// UpsertProviderAccount connects (or reconnects) a merchant's account on a
// provider instance: a disconnected or different previous account is
// replaced. a.ID must be ProviderAccountID of its merchant and provider,
// because the ciphertext is bound to it. An unknown merchant is not found.
func (r *Repo) UpsertProviderAccount(ctx context.Context, a *ProviderAccount) error {
	if a.ID != ProviderAccountID(a.MerchantID, a.ProviderID) {
		return fmt.Errorf("upsert provider account: id %q does not match merchant %d and provider %q", a.ID, a.MerchantID, a.ProviderID)
	}
	_, err := r.db.NewInsert().Model(a).
		On("CONFLICT (id) DO UPDATE").
		Set("account_id_encrypted = EXCLUDED.account_id_encrypted").
		Set("livemode = EXCLUDED.livemode").
		Set("connected_at = EXCLUDED.connected_at").
		Set("disconnected_at = NULL").
		Set("updated_at = EXCLUDED.updated_at").
		Exec(ctx)
	if err != nil {
		if IsForeignKeyViolation(err) {
			return domain.NotFound("merchant")
		}
		return fmt.Errorf("upsert provider account: %w", err)
	}
	return nil
}

// GetProviderAccount reads a merchant's account row on a provider
// instance, connected or not; none is not found.
func (r *Repo) GetProviderAccount(ctx context.Context, merchantID int64, providerID string) (*ProviderAccount, error) {
	a := new(ProviderAccount)
	if err := r.db.NewSelect().Model(a).Where("id = ?", ProviderAccountID(merchantID, providerID)).Scan(ctx); err != nil {
		return nil, notFound(err, "provider account")
	}
	return a, nil
}

// ListProviderAccounts lists a merchant's account rows (connected and
// disconnected) by provider id.
func (r *Repo) ListProviderAccounts(ctx context.Context, merchantID int64) ([]*ProviderAccount, error) {
	out := []*ProviderAccount{}
	if err := r.db.NewSelect().Model(&out).Where("merchant_id = ?", merchantID).Order("provider_id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list provider accounts: %w", err)
	}
	return out, nil
}

// ConnectedProviderAccounts lists the connected rows of one provider
// instance, for finding the merchant of an upstream revocation that names
// only the account (ciphertexts cannot be searched).
func (r *Repo) ConnectedProviderAccounts(ctx context.Context, providerID string) ([]*ProviderAccount, error) {
	out := []*ProviderAccount{}
	if err := r.db.NewSelect().Model(&out).
		Where("provider_id = ? AND disconnected_at IS NULL", providerID).Order("id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list connected provider accounts: %w", err)
	}
	return out, nil
}

// MarkProviderAccountDisconnected sets disconnected_at on a connected row
// whose ciphertext is still encrypted (the account it was read with) and
// that was connected no later than at, so a revocation that raced a
// reconnect cannot undo the newer connection. It reports whether a row
// changed.
func (r *Repo) MarkProviderAccountDisconnected(ctx context.Context, id, encrypted string, at time.Time) (bool, error) {
	res, err := r.db.NewUpdate().Model((*ProviderAccount)(nil)).
		Set("disconnected_at = ?", at).
		Set("updated_at = ?", at).
		Where("id = ? AND account_id_encrypted = ? AND disconnected_at IS NULL AND connected_at <= ?", id, encrypted, at).
		Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("disconnect provider account: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("disconnect provider account: %w", err)
	}
	return n > 0, nil
}
