package store

import (
	"time"

	"github.com/uptrace/bun"
)

// Endpoint kinds.
const (
	// EndpointURL is a merchant-registered URL.
	EndpointURL = "endpoint"
	// EndpointIPN is a site's IPN signing config: its URL is each
	// session's ipn_url, its profile and secret sign those deliveries.
	EndpointIPN = "ipn"
)

// WebhookEndpoint is where a merchant receives events. Secret and
// PreviousSecret hold keyring ciphertexts (owner: webhook_endpoints, id,
// secret / previous_secret); PreviousSecret is "" when no rotation overlap
// is running. EventTypes is a JSON array of types or "prefix.*" patterns.
type WebhookEndpoint struct {
	bun.BaseModel `bun:"table:webhook_endpoints,alias:we"`

	ID                string     `bun:"id,pk"`
	MerchantID        int64      `bun:"merchant_id,notnull"`
	Site              string     `bun:"site,notnull"`
	Kind              string     `bun:"kind,notnull"`
	URL               string     `bun:"url,notnull"`
	Description       string     `bun:"description,notnull"`
	EventTypes        Scopes     `bun:"event_types,notnull,type:text"`
	Mode              string     `bun:"mode,notnull"`
	Profile           string     `bun:"profile,notnull"`
	Schedule          string     `bun:"schedule,notnull"`
	Secret            string     `bun:"secret,notnull"`
	PreviousSecret    string     `bun:"previous_secret,notnull"`
	PreviousExpiresAt *time.Time `bun:"previous_expires_at"`
	Enabled           bool       `bun:"enabled,notnull"`
	DisabledReason    string     `bun:"disabled_reason,notnull"`
	DeletedAt         *time.Time `bun:"deleted_at"`
	CreatedAt         time.Time  `bun:"created_at,notnull"`
	UpdatedAt         time.Time  `bun:"updated_at,notnull"`
}

// Delivery statuses.
const (
	DeliveryPending   = "pending"
	DeliverySucceeded = "succeeded"
	DeliveryFailed    = "failed"
	DeliveryDisabled  = "disabled"
)

// WebhookDelivery is one event on its way to one target. EndpointID is
// nil only for an IPN delivery whose site had no IPN signing config.
type WebhookDelivery struct {
	bun.BaseModel `bun:"table:webhook_deliveries,alias:wd"`

	ID             string     `bun:"id,pk"`
	EventID        string     `bun:"event_id,notnull"`
	MerchantID     int64      `bun:"merchant_id,notnull"`
	EventType      string     `bun:"event_type,notnull"`
	EndpointID     *string    `bun:"endpoint_id"`
	URL            string     `bun:"url,notnull"`
	Status         string     `bun:"status,notnull"`
	Attempts       int        `bun:"attempts,notnull"`
	NextAttemptAt  *time.Time `bun:"next_attempt_at"`
	LastStatusCode *int       `bun:"last_status_code"`
	LastError      string     `bun:"last_error,notnull"`
	CreatedAt      time.Time  `bun:"created_at,notnull"`
	UpdatedAt      time.Time  `bun:"updated_at,notnull"`
}

// Attempt states and causes.
const (
	AttemptScheduled = "scheduled"
	AttemptOK        = "succeeded"
	AttemptError     = "failed"
	AttemptCanceled  = "canceled"

	CauseAuto    = "auto"
	CauseResend  = "resend"
	CauseRecover = "recover"
)

// WebhookAttempt is one POST of a delivery, written as "scheduled" with
// its job and completed exactly once by the worker that ran it.
type WebhookAttempt struct {
	bun.BaseModel `bun:"table:webhook_attempts,alias:wa"`

	ID           int64      `bun:"id,pk,autoincrement"`
	DeliveryID   string     `bun:"delivery_id,notnull"`
	N            int        `bun:"n,notnull"`
	Cause        string     `bun:"cause,notnull"`
	State        string     `bun:"state,notnull"`
	ScheduledAt  time.Time  `bun:"scheduled_at,notnull"`
	AttemptedAt  *time.Time `bun:"attempted_at"`
	StatusCode   *int       `bun:"status_code"`
	LatencyMS    *int64     `bun:"latency_ms"`
	ResponseBody string     `bun:"response_body,notnull"`
	Error        string     `bun:"error,notnull"`
}
