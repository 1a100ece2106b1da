package accounts

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/uptrace/bun"

	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/secrets"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/sdk/provider"
)

// Keyring seals account ids at rest; *secrets.Keyring implements it.
type Keyring interface {
	Encrypt(plaintext []byte, owner secrets.Owner) (string, error)
	Decrypt(ciphertext string, owner secrets.Owner) ([]byte, error)
}

var _ Keyring = (*secrets.Keyring)(nil)

// Providers finds a provider plugin by instance id; pluginhost.Host
// satisfies it (unknown ids are domain.ErrNotFound).
type Providers interface {
	Provider(id string) (provider.Client, error)
}

// Deps are the service's collaborators.
type Deps struct {
	Store *store.Store
	// Keyring is required to store or read an account; nil makes those
	// fail with a clear error (secrets.keys is empty).
	Keyring Keyring
	// Providers and PublicBaseURL are needed for StartLink only.
	Providers     Providers
	PublicBaseURL string
	// Clock returns the current time; nil means time.Now.
	Clock  func() time.Time
	Logger *slog.Logger
}

// Service stores connected accounts. It is safe for concurrent use.
type Service struct {
	store     *store.Store
	keyring   Keyring
	providers Providers
	baseURL   string
	clock     func() time.Time
	log       *slog.Logger
}

// New builds the service; Store is required.
func New(d Deps) (*Service, error) {
	if d.Store == nil {
		return nil, errors.New("accounts: missing Store")
	}
	if kr, ok := d.Keyring.(*secrets.Keyring); ok && kr == nil {
		// A nil *Keyring in the interface is not a nil interface; treat it
		// as "no keyring" so callers get errNoKeyring, not a panic.
		d.Keyring = nil
	}
	s := &Service{store: d.Store, keyring: d.Keyring, providers: d.Providers, baseURL: d.PublicBaseURL, clock: d.Clock, log: d.Logger}
	if s.clock == nil {
		s.clock = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s, nil
}

// EncryptedColumns lists the keyring-encrypted columns this package
// stores, for `switchyard secrets rewrap`.
func EncryptedColumns() []secrets.Column {
	return []secrets.Column{{Table: store.ProviderAccountsTable, IDColumn: store.ProviderAccountsIDColumn, Field: store.ProviderAccountsField}}
}

var errNoKeyring = errors.New("accounts: secrets.keys is empty: configure a keyring to store connected accounts")

func owner(rowID string) secrets.Owner {
	return secrets.Owner{Table: store.ProviderAccountsTable, Row: rowID, Field: store.ProviderAccountsField}
}

func (s *Service) seal(rowID, account string) (string, error) {
	if s.keyring == nil {
		return "", errNoKeyring
	}
	return s.keyring.Encrypt([]byte(account), owner(rowID))
}

func (s *Service) open(rowID, sealed string) (string, error) {
	if s.keyring == nil {
		return "", errNoKeyring
	}
	b, err := s.keyring.Decrypt(sealed, owner(rowID))
	if err != nil {
		return "", fmt.Errorf("accounts: provider account %s: %w", rowID, err)
	}
	return string(b), nil
}

// maxAccountID bounds what a plugin may hand us as an account id.
const maxAccountID = 255

// ApplyHTTPEvents applies the events a provider plugin's HTTP route
// returned (HTTPResponse.Events), all in one transaction, before the host
// writes the plugin's page. Only account events may come from an HTTP
// route; anything else, a merchant that does not exist or malformed data
// is refused (*domain.Error) and nothing is stored, so the host shows an
// error page instead of the plugin's success page.
func (s *Service) ApplyHTTPEvents(ctx context.Context, providerID string, events []provider.Event) error {
	if len(events) == 0 {
		return nil
	}
	return s.store.RunInTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		for _, ev := range events {
			if err := s.ApplyEventTx(ctx, tx, providerID, ev); err != nil {
				return err
			}
		}
		return nil
	})
}

// ApplyEventTx applies one account event inside the caller's transaction
// (the webhook path, where payments records the event in the same
// transaction). It returns domain.ErrInvalid for a type other than
// account.connected / account.disconnected or for malformed data, and
// domain.ErrNotFound for account.connected naming an unknown merchant.
// account.disconnected for an account that is not connected is a no-op.
func (s *Service) ApplyEventTx(ctx context.Context, tx bun.IDB, providerID string, ev provider.Event) error {
	r := store.NewRepo(tx)
	switch ev.Type {
	case provider.AccountConnected:
		return s.connect(ctx, r, providerID, ev)
	case provider.AccountDisconnected:
		return s.disconnect(ctx, r, providerID, ev)
	}
	return domain.Invalid("unsupported_event", "type", "event type %q cannot be applied to provider accounts", ev.Type)
}

// IsAccountEvent reports whether t is an event this package applies.
func IsAccountEvent(t provider.EventType) bool {
	return t == provider.AccountConnected || t == provider.AccountDisconnected
}

func (s *Service) eventTime(ev provider.Event) time.Time {
	at := ev.OccurredAt
	if at.IsZero() {
		at = s.clock()
	}
	return at.UTC().Truncate(time.Microsecond)
}

func parseMerchant(raw string) (int64, error) {
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		return 0, domain.Invalid("invalid_merchant_id", "merchant_id", "the event names no valid merchant id")
	}
	return id, nil
}

func validAccount(a string) error {
	if a == "" || len(a) > maxAccountID {
		return domain.Invalid("invalid_account_id", "account_id", "the event names no valid account id")
	}
	return nil
}

func (s *Service) connect(ctx context.Context, r *store.Repo, providerID string, ev provider.Event) error {
	merchantID, err := parseMerchant(ev.Data["merchant_id"])
	if err != nil {
		return err
	}
	account := ev.Data["account_id"]
	if err := validAccount(account); err != nil {
		return err
	}
	livemode := false
	if raw, ok := ev.Data["livemode"]; ok {
		if livemode, err = strconv.ParseBool(raw); err != nil {
			return domain.Invalid("invalid_livemode", "livemode", "livemode must be true or false")
		}
	}
	// Checked first so an unknown merchant is refused without a failed
	// statement, which would abort the caller's PostgreSQL transaction.
	if _, err := r.GetMerchant(ctx, merchantID); err != nil {
		return err
	}
	rowID := store.ProviderAccountID(merchantID, providerID)
	sealed, err := s.seal(rowID, account)
	if err != nil {
		return err
	}
	at := s.eventTime(ev)
	if err := r.UpsertProviderAccount(ctx, &store.ProviderAccount{
		ID: rowID, MerchantID: merchantID, ProviderID: providerID, AccountIDEncrypted: sealed,
		Livemode: livemode, ConnectedAt: at, UpdatedAt: at,
	}); err != nil {
		return err
	}
	s.log.InfoContext(ctx, "provider account connected", "merchant_id", merchantID, "provider_id", providerID,
		"account", Mask(account), "livemode", livemode)
	return nil
}

func (s *Service) disconnect(ctx context.Context, r *store.Repo, providerID string, ev provider.Event) error {
	account := ev.Data["account_id"]
	if err := validAccount(account); err != nil {
		return err
	}
	var rows []*store.ProviderAccount
	if raw := ev.Data["merchant_id"]; raw != "" {
		merchantID, err := parseMerchant(raw)
		if err != nil {
			return err
		}
		row, err := r.GetProviderAccount(ctx, merchantID, providerID)
		switch {
		case errors.Is(err, domain.ErrNotFound):
		case err != nil:
			return err
		default:
			rows = append(rows, row)
		}
	} else {
		// An upstream revocation names only the account; ciphertexts are
		// not searchable, so the instance's connected rows are opened.
		// Revocations are rare and an instance has few connected merchants.
		var err error
		if rows, err = r.ConnectedProviderAccounts(ctx, providerID); err != nil {
			return err
		}
	}
	at := s.eventTime(ev)
	for _, row := range rows {
		if !row.Connected() {
			continue
		}
		plain, err := s.open(row.ID, row.AccountIDEncrypted)
		if err != nil {
			return err
		}
		if plain != account {
			continue
		}
		changed, err := r.MarkProviderAccountDisconnected(ctx, row.ID, row.AccountIDEncrypted, at)
		if err != nil {
			return err
		}
		s.log.InfoContext(ctx, "provider account disconnected", "merchant_id", row.MerchantID, "provider_id", providerID,
			"account", Mask(account), "applied", changed)
	}
	return nil
}

// Account returns the account id merchantID connected on provider instance
// providerID, or "" when none is connected (never connected, or
// disconnected since).
func (s *Service) Account(ctx context.Context, merchantID int64, providerID string) (string, error) {
	row, err := s.store.GetProviderAccount(ctx, merchantID, providerID)
	if errors.Is(err, domain.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	if !row.Connected() {
		return "", nil
	}
	return s.open(row.ID, row.AccountIDEncrypted)
}

// Connection is a merchant's account on one provider instance, as shown to
// operators: the account id is masked.
type Connection struct {
	ProviderID     string     `json:"provider_id"`
	Account        string     `json:"account"`
	Livemode       bool       `json:"livemode"`
	Status         string     `json:"status"`
	ConnectedAt    time.Time  `json:"connected_at"`
	DisconnectedAt *time.Time `json:"disconnected_at,omitempty"`
}

// Connection statuses.
const (
	StatusConnected    = "connected"
	StatusDisconnected = "disconnected"
)

// List returns a merchant's accounts, connected and disconnected, with
// masked ids; an unknown merchant is not found.
func (s *Service) List(ctx context.Context, merchantID int64) ([]Connection, error) {
	if _, err := s.store.GetMerchant(ctx, merchantID); err != nil {
		return nil, err
	}
	rows, err := s.store.ListProviderAccounts(ctx, merchantID)
	if err != nil {
		return nil, err
	}
	out := make([]Connection, 0, len(rows))
	for _, row := range rows {
		plain, err := s.open(row.ID, row.AccountIDEncrypted)
		if err != nil {
			return nil, err
		}
		c := Connection{ProviderID: row.ProviderID, Account: Mask(plain), Livemode: row.Livemode,
			Status: StatusConnected, ConnectedAt: row.ConnectedAt.UTC(), DisconnectedAt: row.DisconnectedAt}
		if !row.Connected() {
			c.Status = StatusDisconnected
			d := row.DisconnectedAt.UTC()
			c.DisconnectedAt = &d
		}
		out = append(out, c)
	}
	return out, nil
}

// Mask hides an account id except its last four characters, keeping a
// short lower-case type prefix ("acct_") so operators recognize the kind
// of id.
func Mask(account string) string {
	const keep, maxPrefix = 4, 12
	prefix := ""
	for i := 0; i < len(account) && i <= maxPrefix; i++ {
		c := account[i]
		if c == '_' && i > 0 {
			prefix = account[:i+1]
			break
		}
		if c < 'a' || c > 'z' {
			break
		}
	}
	rest := account[len(prefix):]
	if len(rest) <= keep {
		return prefix + "****"
	}
	return prefix + "****" + rest[len(rest)-keep:]
}
