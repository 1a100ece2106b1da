package store

import (
	"time"

	"github.com/uptrace/bun"

	"github.com/switchyard/switchyard/core/domain"
)

// Product is a product saved through the admin API (table products).
// MerchantID nil is a global product. Spec is the fulfillment spec as JSON
// text, owned by core/fulfillment.
type Product struct {
	bun.BaseModel `bun:"table:products,alias:prod"`

	ID         string                 `bun:"id,pk"`
	MerchantID *int64                 `bun:"merchant_id"`
	SKU        string                 `bun:"sku,notnull"`
	Name       string                 `bun:"name,notnull"`
	Kind       domain.FulfillmentKind `bun:"kind,notnull"`
	Spec       string                 `bun:"spec,notnull"`
	CreatedAt  time.Time              `bun:"created_at,notnull"`
	UpdatedAt  time.Time              `bun:"updated_at,notnull"`
}

// SessionItem is one item of a session (table session_items), with the
// product's fulfillment spec as it was when the session was created.
// AuthCode is keyring-encrypted (a domain transfer's secret).
type SessionItem struct {
	bun.BaseModel `bun:"table:session_items,alias:si"`

	ID         string                 `bun:"id,pk"`
	SessionID  string                 `bun:"session_id,notnull"`
	MerchantID int64                  `bun:"merchant_id,notnull"`
	Position   int                    `bun:"position,notnull"`
	SKU        string                 `bun:"sku,notnull"`
	Name       string                 `bun:"name,notnull"`
	Quantity   int                    `bun:"quantity,notnull"`
	Kind       domain.FulfillmentKind `bun:"kind,notnull"`
	Spec       string                 `bun:"spec,notnull"`
	Domain     string                 `bun:"domain,notnull"`
	Username   string                 `bun:"username,notnull"`
	Years      int                    `bun:"years,notnull"`
	Action     string                 `bun:"action,notnull"`
	AuthCode   string                 `bun:"auth_code,notnull"`
	Contact    string                 `bun:"contact,notnull"`
	CreatedAt  time.Time              `bun:"created_at,notnull"`
}

// Client is a merchant's customer, one per merchant, mode and email.
type Client struct {
	bun.BaseModel `bun:"table:clients,alias:cli"`

	ID         string    `bun:"id,pk"`
	MerchantID int64     `bun:"merchant_id,notnull"`
	Mode       KeyMode   `bun:"mode,notnull"`
	Email      string    `bun:"email,notnull"`
	Name       string    `bun:"name,notnull"`
	Contact    string    `bun:"contact,notnull"`
	CreatedAt  time.Time `bun:"created_at,notnull"`
	UpdatedAt  time.Time `bun:"updated_at,notnull"`
}

// Service is what provisioning made of one item (table services).
// Password is the keyring-encrypted generated panel password, kept only
// until the service-ready mail is sent. Nameservers is comma-separated.
// SuspendSource is the source of the action that suspended the service
// ("subscription", "refund", "operator:NAME"); "" when not suspended.
type Service struct {
	bun.BaseModel `bun:"table:services,alias:svc"`

	ID            string                 `bun:"id,pk"`
	MerchantID    int64                  `bun:"merchant_id,notnull"`
	Mode          KeyMode                `bun:"mode,notnull"`
	SessionID     string                 `bun:"session_id,notnull"`
	ItemID        string                 `bun:"item_id,notnull"`
	ClientID      string                 `bun:"client_id,nullzero"`
	Kind          domain.FulfillmentKind `bun:"kind,notnull"`
	SKU           string                 `bun:"sku,notnull"`
	Provisioner   string                 `bun:"provisioner,notnull"`
	Package       string                 `bun:"package,notnull"`
	Domain        string                 `bun:"domain,notnull"`
	Username      string                 `bun:"username,notnull"`
	Status        domain.ServiceStatus   `bun:"status,notnull"`
	Paused        bool                   `bun:"paused,notnull"`
	PauseReason   string                 `bun:"pause_reason,notnull"`
	SuspendReason string                 `bun:"suspend_reason,notnull"`
	SuspendSource string                 `bun:"suspend_source,notnull"`
	LastError     string                 `bun:"last_error,notnull"`
	Password      string                 `bun:"password,notnull"`
	Server        string                 `bun:"server,notnull"`
	IP            string                 `bun:"ip,notnull"`
	Nameservers   string                 `bun:"nameservers,notnull"`
	CreatedAt     time.Time              `bun:"created_at,notnull"`
	UpdatedAt     time.Time              `bun:"updated_at,notnull"`
	ActivatedAt   *time.Time             `bun:"activated_at"`
	SuspendedAt   *time.Time             `bun:"suspended_at"`
	TerminatedAt  *time.Time             `bun:"terminated_at"`
}

// Subscription links a provider's subscription to the session that
// started it (table subscriptions); the key is the provider instance and
// the provider's subscription id.
type Subscription struct {
	bun.BaseModel `bun:"table:subscriptions,alias:sub"`

	ProviderID      string    `bun:"provider_id,pk"`
	SubscriptionID  string    `bun:"subscription_id,pk"`
	SessionID       string    `bun:"session_id,notnull"`
	MerchantID      int64     `bun:"merchant_id,notnull"`
	Mode            KeyMode   `bun:"mode,notnull"`
	ProviderEventID string    `bun:"provider_event_id,notnull"`
	CreatedAt       time.Time `bun:"created_at,notnull"`
}

// ServiceAction is one change to make to a service at its panel (table
// service_actions); its River job carries the action id. Source names who
// asked: "payment", "refund", "renewal", "operator:NAME".
type ServiceAction struct {
	bun.BaseModel `bun:"table:service_actions,alias:sva"`

	ID        string               `bun:"id,pk"`
	ServiceID string               `bun:"service_id,notnull"`
	Action    domain.ServiceAction `bun:"action,notnull"`
	Status    domain.ActionStatus  `bun:"status,notnull"`
	Reason    string               `bun:"reason,notnull"`
	Package   string               `bun:"package,notnull"`
	Source    string               `bun:"source,notnull"`
	Attempts  int                  `bun:"attempts,notnull"`
	LastError string               `bun:"last_error,notnull"`
	NotBefore *time.Time           `bun:"not_before"`
	CreatedAt time.Time            `bun:"created_at,notnull"`
	UpdatedAt time.Time            `bun:"updated_at,notnull"`
}
