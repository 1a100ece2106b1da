package fulfillment

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/secrets"
	"github.com/switchyard/switchyard/core/store"
)

// Item is one item of a session as a Kind works on it. AuthCode is the
// decrypted secret (only Validate and Enqueue see it; never log it).
type Item struct {
	ID        string
	SessionID string
	Position  int
	SKU       string
	Name      string
	Quantity  int
	Spec      domain.FulfillmentSpec
	Domain    string
	Username  string
	Years     int
	Action    string
	AuthCode  string
	Contact   map[string]string
}

// ItemView is an item as the session object shows it: never the auth
// code.
type ItemView struct {
	ID       string            `json:"id"`
	SKU      string            `json:"sku"`
	Name     string            `json:"name"`
	Quantity int               `json:"quantity"`
	Kind     string            `json:"kind"`
	Domain   string            `json:"domain,omitempty"`
	Username string            `json:"username,omitempty"`
	Years    int               `json:"years,omitempty"`
	Action   string            `json:"action,omitempty"`
	Contact  map[string]string `json:"contact,omitempty"`
}

// ItemField names a field of the index-th item for errors
// ("items[0].domain").
func ItemField(index int, field string) string { return fmt.Sprintf("items[%d].%s", index, field) }

// Limits on item input.
const (
	maxQuantity      = 100
	maxYears         = 10
	maxAuthCode      = 256
	maxContactKeys   = 20
	maxContactKey    = 40
	maxContactValue  = 200
	maxDomainLen     = 253
	maxUsernameInput = 16
)

var labelRe = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// validDomain accepts a lower-case DNS name of at least two labels.
func validDomain(d string) bool {
	if len(d) > maxDomainLen {
		return false
	}
	labels := strings.Split(d, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if !labelRe.MatchString(l) {
			return false
		}
	}
	return true
}

// PrepareItems validates a create request's items against the merchant's
// products and returns the rows to store with the session (ids assigned,
// auth codes encrypted) and the items as the session object shows them.
// An unknown sku is 400 unknown_sku on items[N].sku. Nothing is stored.
func (s *Service) PrepareItems(ctx context.Context, merchantID int64, in []domain.ItemInput) ([]*store.SessionItem, string, error) {
	if len(in) == 0 {
		return nil, "", nil
	}
	if len(in) > domain.MaxItems {
		return nil, "", domain.Invalid("too_many_items", "items", "a session may have at most %d items", domain.MaxItems)
	}
	rows := make([]*store.SessionItem, 0, len(in))
	views := make([]ItemView, 0, len(in))
	for i, raw := range in {
		it, err := s.validateItem(ctx, merchantID, i, raw)
		if err != nil {
			return nil, "", err
		}
		row, err := s.itemRow(merchantID, it)
		if err != nil {
			return nil, "", err
		}
		rows = append(rows, row)
		views = append(views, itemView(it))
	}
	b, err := json.Marshal(views)
	if err != nil {
		return nil, "", fmt.Errorf("render items: %w", err)
	}
	return rows, string(b), nil
}

func (s *Service) validateItem(ctx context.Context, merchantID int64, i int, raw domain.ItemInput) (*Item, error) {
	bad := func(field, format string, args ...any) error {
		return domain.Invalid("invalid_item", ItemField(i, field), format, args...)
	}
	if raw.SKU == "" {
		return nil, domain.Invalid("missing_field", ItemField(i, "sku"), "items[%d].sku is required", i)
	}
	p, ok, err := s.lookup(ctx, merchantID, raw.SKU)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, domain.Invalid("unknown_sku", ItemField(i, "sku"), "no product with sku %q for this merchant", truncate(raw.SKU, 64))
	}
	it := &Item{ID: domain.NewItemID(), Position: i, SKU: p.SKU, Name: p.Name, Quantity: 1, Spec: p.Fulfillment,
		Domain: strings.ToLower(strings.TrimSuffix(raw.Domain, ".")), Username: raw.Username, Action: raw.Action, AuthCode: raw.AuthCode, Contact: raw.Contact}
	if raw.Quantity != nil {
		if *raw.Quantity < 1 || *raw.Quantity > maxQuantity {
			return nil, bad("quantity", "quantity must be an integer from 1 to %d", maxQuantity)
		}
		it.Quantity = *raw.Quantity
	}
	if raw.Years != nil {
		if *raw.Years < 1 || *raw.Years > maxYears {
			return nil, bad("years", "years must be an integer from 1 to %d", maxYears)
		}
		it.Years = *raw.Years
	}
	if raw.Action != "" && raw.Action != domain.ItemActionRegister && raw.Action != domain.ItemActionTransfer {
		return nil, bad("action", "action must be register or transfer")
	}
	if len(raw.AuthCode) > maxAuthCode {
		return nil, bad("auth_code", "auth_code must be at most %d characters", maxAuthCode)
	}
	if len(raw.Username) > maxUsernameInput {
		return nil, bad("username", "username must be at most %d characters", maxUsernameInput)
	}
	if err := checkContact(i, raw.Contact); err != nil {
		return nil, err
	}
	k, ok := s.kinds[p.Fulfillment.Kind]
	if !ok {
		return nil, domain.Unprocessable("kind_unsupported", ItemField(i, "sku"), "items of kind %s cannot be fulfilled by this build", p.Fulfillment.Kind)
	}
	if err := k.Validate(ctx, p, it); err != nil {
		return nil, err
	}
	// After the kind's Validate, which may normalize the name (a domain
	// item's IDN to punycode), so what is stored is always a DNS name.
	if it.Domain != "" && !validDomain(it.Domain) {
		return nil, bad("domain", "domain must be a domain name such as shop.example.com")
	}
	return it, nil
}

func checkContact(i int, c map[string]string) error {
	if len(c) > maxContactKeys {
		return domain.Invalid("invalid_item", ItemField(i, "contact"), "contact may have at most %d fields", maxContactKeys)
	}
	for k, v := range c {
		if k == "" || utf8.RuneCountInString(k) > maxContactKey || utf8.RuneCountInString(v) > maxContactValue {
			return domain.Invalid("invalid_item", ItemField(i, "contact"),
				"contact fields need names of 1-%d characters and values of at most %d", maxContactKey, maxContactValue)
		}
	}
	return nil
}

func (s *Service) itemRow(merchantID int64, it *Item) (*store.SessionItem, error) {
	spec, err := json.Marshal(it.Spec)
	if err != nil {
		return nil, fmt.Errorf("encode spec: %w", err)
	}
	contact := "{}"
	if len(it.Contact) > 0 {
		b, err := json.Marshal(it.Contact)
		if err != nil {
			return nil, fmt.Errorf("encode contact: %w", err)
		}
		contact = string(b)
	}
	row := &store.SessionItem{ID: it.ID, MerchantID: merchantID, Position: it.Position, SKU: it.SKU, Name: it.Name,
		Quantity: it.Quantity, Kind: it.Spec.Kind, Spec: string(spec), Domain: it.Domain, Username: it.Username,
		Years: it.Years, Action: it.Action, Contact: contact, CreatedAt: s.now()}
	if it.AuthCode != "" {
		enc, err := s.keyring.Encrypt([]byte(it.AuthCode), authCodeOwner(it.ID))
		if err != nil {
			return nil, fmt.Errorf("encrypt auth code: %w", err)
		}
		row.AuthCode = enc
	}
	return row, nil
}

func authCodeOwner(itemID string) secrets.Owner {
	return secrets.Owner{Table: "session_items", Row: itemID, Field: "auth_code"}
}

func itemView(it *Item) ItemView {
	return ItemView{ID: it.ID, SKU: it.SKU, Name: it.Name, Quantity: it.Quantity, Kind: string(it.Spec.Kind),
		Domain: it.Domain, Username: it.Username, Years: it.Years, Action: it.Action, Contact: it.Contact}
}

// item turns a stored row back into an Item, decrypting the auth code.
func (s *Service) item(row *store.SessionItem) (Item, error) {
	it := Item{ID: row.ID, SessionID: row.SessionID, Position: row.Position, SKU: row.SKU, Name: row.Name,
		Quantity: row.Quantity, Domain: row.Domain, Username: row.Username, Years: row.Years, Action: row.Action}
	if err := json.Unmarshal([]byte(row.Spec), &it.Spec); err != nil {
		return Item{}, fmt.Errorf("item %s: decode spec: %w", row.ID, err)
	}
	if row.Contact != "" && row.Contact != "{}" {
		if err := json.Unmarshal([]byte(row.Contact), &it.Contact); err != nil {
			return Item{}, fmt.Errorf("item %s: decode contact: %w", row.ID, err)
		}
	}
	if row.AuthCode != "" {
		b, err := s.keyring.Decrypt(row.AuthCode, authCodeOwner(row.ID))
		if err != nil {
			return Item{}, fmt.Errorf("item %s: decrypt auth code: %w", row.ID, err)
		}
		it.AuthCode = string(b)
	}
	return it, nil
}

// EncryptedColumns lists the columns holding keyring-encrypted values, for
// `switchyard secrets rewrap`.
func EncryptedColumns() []secrets.Column {
	return []secrets.Column{
		{Table: "session_items", IDColumn: "id", Field: "auth_code"},
		{Table: "services", IDColumn: "id", Field: "password"},
	}
}

// usernameRe is what WHM accepts: a lower-case letter, then lower-case
// letters and digits, 16 characters at most.
var usernameRe = regexp.MustCompile(`^[a-z][a-z0-9]{0,15}$`)

// deriveUsername makes a panel username from a domain: its first letters
// and digits (at most 8, starting with a letter, never "test…", which WHM
// reserves) and 3 random ones, so two customers' similar domains do not
// collide. It is stored with the item, so retries use the same one.
func deriveUsername(d string) string {
	var b strings.Builder
	for _, r := range d {
		if b.Len() == 8 {
			break
		}
		if r >= 'a' && r <= 'z' || (r >= '0' && r <= '9' && b.Len() > 0) {
			b.WriteRune(r)
		}
	}
	base := b.String()
	if base == "" || strings.HasPrefix(base, "test") {
		base = "u" + base
		if len(base) > 8 {
			base = base[:8]
		}
	}
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	var rnd [3]byte
	_, _ = rand.Read(rnd[:])
	for _, c := range rnd {
		base += string(alphabet[int(c)%len(alphabet)])
	}
	return base
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
