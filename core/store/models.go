package store

import (
	"crypto/sha256"
	"database/sql/driver"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/uptrace/bun"

	"github.com/switchyard/switchyard/core/domain"
)

// Plan is the domain's plan type; the store keeps no definition of its own.
type Plan = domain.Plan

// Plans, re-exported for callers that only import store.
const (
	PlanFree      = domain.PlanFree
	PlanStarter   = domain.PlanStarter
	PlanPro       = domain.PlanPro
	PlanUnlimited = domain.PlanUnlimited
)

// MerchantStatus says whether a merchant may take payments.
type MerchantStatus string

const (
	MerchantActive    MerchantStatus = "active"
	MerchantSuspended MerchantStatus = "suspended"
)

// Valid reports whether s is a known status.
func (s MerchantStatus) Valid() bool { return s == MerchantActive || s == MerchantSuspended }

// KeyMode is the domain's test/live mode.
type KeyMode = domain.Mode

// Modes, re-exported for callers that only import store.
const (
	ModeTest = domain.ModeTest
	ModeLive = domain.ModeLive
)

// Merchant is a tenant. Sites is filled by GetMerchant and ListMerchants.
type Merchant struct {
	bun.BaseModel `bun:"table:merchants"`

	ID           int64          `bun:"id,pk,autoincrement" json:"id"`
	Name         string         `bun:"name,notnull" json:"name"`
	Plan         Plan           `bun:"plan,notnull" json:"plan"`
	Status       MerchantStatus `bun:"status,notnull" json:"status"`
	ContactEmail string         `bun:"contact_email,notnull" json:"contact_email"`
	CreatedAt    time.Time      `bun:"created_at,notnull" json:"created_at"`
	UpdatedAt    time.Time      `bun:"updated_at,notnull" json:"updated_at"`

	Sites []*Site `bun:"rel:has-many,join:id=merchant_id" json:"sites"`
}

// Domains returns the approved site domains in insertion order.
func (m *Merchant) Domains() []string {
	out := make([]string, 0, len(m.Sites))
	for _, s := range m.Sites {
		out = append(out, s.Domain)
	}
	return out
}

// Site is a domain a merchant may create checkout sessions for.
type Site struct {
	bun.BaseModel `bun:"table:sites"`

	ID         int64     `bun:"id,pk,autoincrement" json:"id"`
	MerchantID int64     `bun:"merchant_id,notnull" json:"merchant_id"`
	Domain     string    `bun:"domain,notnull" json:"domain"`
	CreatedAt  time.Time `bun:"created_at,notnull" json:"created_at"`
}

// APIKey is a merchant's credential. Only the SHA-256 of the full secret is
// stored; Prefix is public and identifies the key in listings and logs.
type APIKey struct {
	bun.BaseModel `bun:"table:api_keys"`

	ID         int64      `bun:"id,pk,autoincrement" json:"id"`
	MerchantID int64      `bun:"merchant_id,notnull" json:"merchant_id"`
	Prefix     string     `bun:"prefix,notnull" json:"prefix"`
	SecretHash string     `bun:"secret_hash,notnull" json:"-"`
	Scopes     Scopes     `bun:"scopes,notnull,type:text" json:"scopes"`
	Mode       KeyMode    `bun:"mode,notnull" json:"mode"`
	Name       string     `bun:"name,notnull" json:"name"`
	CreatedAt  time.Time  `bun:"created_at,notnull" json:"created_at"`
	RevokedAt  *time.Time `bun:"revoked_at" json:"revoked_at,omitempty"`
	LastUsedAt *time.Time `bun:"last_used_at" json:"last_used_at,omitempty"`
}

// Revoked reports whether the key has been revoked.
func (k *APIKey) Revoked() bool { return k.RevokedAt != nil }

// HasScope reports whether the key carries scope s.
func (k *APIKey) HasScope(s string) bool { return slices.Contains(k.Scopes, s) }

// HashAPIKey is the one definition of how a full API key is stored and
// looked up: lowercase hex SHA-256. Keys are high-entropy random strings,
// so a fast unsalted hash is enough and allows an indexed lookup.
func HashAPIKey(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// Scopes is stored as a JSON array in a TEXT column, which both dialects
// handle identically (no Postgres arrays, no SQLite JSON1 dependency).
type Scopes []string

var (
	_ driver.Valuer                = Scopes(nil)
	_ interface{ Scan(any) error } = (*Scopes)(nil)
)

// Value implements driver.Valuer.
func (s Scopes) Value() (driver.Value, error) {
	if s == nil {
		s = Scopes{}
	}
	b, err := json.Marshal([]string(s))
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

// Scan implements sql.Scanner.
func (s *Scopes) Scan(src any) error {
	var b []byte
	switch v := src.(type) {
	case nil:
		*s = Scopes{}
		return nil
	case string:
		b = []byte(v)
	case []byte:
		b = v
	default:
		return fmt.Errorf("scopes: cannot scan %T", src)
	}
	var out []string
	if err := json.Unmarshal(b, &out); err != nil {
		return fmt.Errorf("scopes: %w", err)
	}
	*s = out
	return nil
}

// now is the timestamp every write uses: UTC, truncated to the microsecond
// precision PostgreSQL keeps, so a value reads back equal on both dialects.
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }
