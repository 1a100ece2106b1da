package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/switchyard/switchyard/core/domain"
)

// InsertWebhookEndpoint stores a new endpoint. A second live IPN config
// for the same merchant and site is a conflict (duplicate_ipn_config).
func (r *Repo) InsertWebhookEndpoint(ctx context.Context, e *WebhookEndpoint) error {
	if _, err := r.db.NewInsert().Model(e).Exec(ctx); err != nil {
		if IsForeignKeyViolation(err) {
			return domain.NotFound("merchant")
		}
		return MapConflict(fmt.Errorf("insert webhook endpoint: %w", err),
			domain.Conflict("duplicate_ipn_config", "site %q already has an IPN signing config", e.Site))
	}
	return nil
}

// ListWebhookEndpoints lists live endpoints by id, one merchant's when
// merchantID > 0.
func (r *Repo) ListWebhookEndpoints(ctx context.Context, merchantID int64) ([]*WebhookEndpoint, error) {
	out := []*WebhookEndpoint{}
	q := r.db.NewSelect().Model(&out).Where("deleted_at IS NULL")
	if merchantID > 0 {
		q = q.Where("merchant_id = ?", merchantID)
	}
	if err := q.Order("id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list webhook endpoints: %w", err)
	}
	return out, nil
}

// LiveWebhookEndpoints lists a merchant's URL endpoints that are not
// deleted, enabled or not: the candidates for a new event (filters are
// applied by the caller; a disabled one gets a delivery recorded as
// disabled, so the event can be recovered once it is enabled again).
func (r *Repo) LiveWebhookEndpoints(ctx context.Context, merchantID int64) ([]*WebhookEndpoint, error) {
	out := []*WebhookEndpoint{}
	if r.knownNoEndpoints(ctx, merchantID) {
		return out, nil // the session insert of this transaction looked
	}
	if err := r.hotQuery(ctx, liveWebhookEndpointsSQL, &out, merchantID); err != nil {
		return nil, fmt.Errorf("list webhook endpoints: %w", err)
	}
	return out, nil
}

// liveWebhookEndpointsSQL runs for every event, inside the transaction
// that inserts it (session create included). The kind is a literal, not a
// parameter: SQLite decides per bound value whether the partial index
// webhook_endpoints_ipn_key applies, so a parameter there would make it
// re-prepare the statement on every run.
var liveWebhookEndpointsSQL = newHotSQL("select_live_webhook_endpoints", `SELECT id, merchant_id, site, kind, url,
	description, event_types, mode, profile, schedule, secret, previous_secret, previous_expires_at, enabled,
	disabled_reason, deleted_at, created_at, updated_at
FROM webhook_endpoints
WHERE merchant_id = ? AND kind = '`+EndpointURL+`' AND deleted_at IS NULL
ORDER BY id`)

// EnabledWebhookEndpoints lists a merchant's live, enabled URL endpoints.
func (r *Repo) EnabledWebhookEndpoints(ctx context.Context, merchantID int64) ([]*WebhookEndpoint, error) {
	out := []*WebhookEndpoint{}
	err := r.db.NewSelect().Model(&out).
		Where("merchant_id = ? AND kind = ? AND enabled AND deleted_at IS NULL", merchantID, EndpointURL).
		Order("id").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("list enabled webhook endpoints: %w", err)
	}
	return out, nil
}

// IPNEndpoint finds the IPN signing config for a merchant's site, falling
// back to the merchant-wide one (site ""). domain.ErrNotFound if neither.
func (r *Repo) IPNEndpoint(ctx context.Context, merchantID int64, site string) (*WebhookEndpoint, error) {
	out := []*WebhookEndpoint{}
	err := r.db.NewSelect().Model(&out).
		Where("merchant_id = ? AND kind = ? AND deleted_at IS NULL AND site IN (?, '')", merchantID, EndpointIPN, site).
		OrderExpr("site DESC").Limit(1).Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("find ipn config: %w", err)
	}
	if len(out) == 0 {
		return nil, domain.NotFound("ipn config")
	}
	return out[0], nil
}

// UpdateWebhookEndpoint writes the named columns of e (updated_at always).
func (r *Repo) UpdateWebhookEndpoint(ctx context.Context, e *WebhookEndpoint, columns ...string) error {
	res, err := r.db.NewUpdate().Model(e).Column(append(columns, "updated_at")...).
		Where("id = ? AND deleted_at IS NULL", e.ID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("update webhook endpoint: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return domain.NotFound("endpoint")
	}
	return nil
}

// SessionWebhookTarget returns what delivery needs from a session: its
// site domain and its ipn_url ("" when none).
func (r *Repo) SessionWebhookTarget(ctx context.Context, sessionID string) (site, ipnURL string, err error) {
	err = r.db.NewSelect().Table("sessions").Column("domain", "ipn_url").
		Where("id = ?", sessionID).Scan(ctx, &site, &ipnURL)
	if err != nil {
		return "", "", notFound(err, "session")
	}
	return site, ipnURL, nil
}

// SetSessionIPNURL sets a session's ipn_url.
func (r *Repo) SetSessionIPNURL(ctx context.Context, sessionID, ipnURL string) error {
	res, err := r.db.NewUpdate().Table("sessions").Set("ipn_url = ?", ipnURL).Where("id = ?", sessionID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("set session ipn_url: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return domain.NotFound("session")
	}
	return nil
}

// InsertWebhookDelivery stores a delivery. The same event and target twice
// returns an error for which IsUniqueViolation is true.
func (r *Repo) InsertWebhookDelivery(ctx context.Context, d *WebhookDelivery) error {
	if _, err := r.db.NewInsert().Model(d).Exec(ctx); err != nil {
		return fmt.Errorf("insert webhook delivery: %w", err)
	}
	return nil
}

// InsertWebhookAttempt stores a scheduled attempt and sets its id.
func (r *Repo) InsertWebhookAttempt(ctx context.Context, a *WebhookAttempt) error {
	if _, err := r.db.NewInsert().Model(a).Returning("id").Exec(ctx); err != nil {
		return fmt.Errorf("insert webhook attempt: %w", err)
	}
	return nil
}

// WebhookDelivered reports whether any attempt of a delivery succeeded.
func (r *Repo) WebhookDelivered(ctx context.Context, deliveryID string) (bool, error) {
	ok, err := r.db.NewSelect().Model((*WebhookAttempt)(nil)).
		Where("delivery_id = ? AND state = ?", deliveryID, AttemptOK).Exists(ctx)
	if err != nil {
		return false, fmt.Errorf("webhook delivered: %w", err)
	}
	return ok, nil
}

// WebhookAttempts lists a delivery's attempts in order.
func (r *Repo) WebhookAttempts(ctx context.Context, deliveryID string) ([]*WebhookAttempt, error) {
	out := []*WebhookAttempt{}
	if err := r.db.NewSelect().Model(&out).Where("delivery_id = ?", deliveryID).Order("n").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list webhook attempts: %w", err)
	}
	return out, nil
}

// DeliveryFilter selects deliveries, newest first. Zero fields match all.
type DeliveryFilter struct {
	MerchantID int64
	EndpointID string
	EventID    string
	Status     string
	EventType  string
	Since      time.Time // created at or after
	Until      time.Time // created before
	Before     string    // cursor: ids lower than this one
	Limit      int       // 0 means no limit
}

// ListWebhookDeliveries lists deliveries matching f, newest first.
func (r *Repo) ListWebhookDeliveries(ctx context.Context, f DeliveryFilter) ([]*WebhookDelivery, error) {
	out := []*WebhookDelivery{}
	q := r.db.NewSelect().Model(&out)
	if f.MerchantID > 0 {
		q = q.Where("merchant_id = ?", f.MerchantID)
	}
	if f.EndpointID != "" {
		q = q.Where("endpoint_id = ?", f.EndpointID)
	}
	if f.EventID != "" {
		q = q.Where("event_id = ?", f.EventID)
	}
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	if f.EventType != "" {
		q = q.Where("event_type = ?", f.EventType)
	}
	if !f.Since.IsZero() {
		q = q.Where("created_at >= ?", f.Since.UTC())
	}
	if !f.Until.IsZero() {
		q = q.Where("created_at < ?", f.Until.UTC())
	}
	if f.Before != "" {
		q = q.Where("id < ?", f.Before)
	}
	if f.Limit > 0 {
		q = q.Limit(int64(f.Limit))
	}
	if err := q.OrderExpr("id DESC").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list webhook deliveries: %w", err)
	}
	return out, nil
}

// EventFilter selects events, newest first. Zero fields match all.
type EventFilter struct {
	MerchantID int64
	SessionID  string
	Type       string
	Since      time.Time
	Before     string
	Limit      int
}

// FindEvents lists outbound events matching f, newest first.
func (r *Repo) FindEvents(ctx context.Context, f EventFilter) ([]*Event, error) {
	out := []*Event{}
	q := r.db.NewSelect().Model(&out)
	if f.MerchantID > 0 {
		q = q.Where("merchant_id = ?", f.MerchantID)
	}
	if f.SessionID != "" {
		q = q.Where("session_id = ?", f.SessionID)
	}
	if f.Type != "" {
		q = q.Where("type = ?", f.Type)
	}
	if !f.Since.IsZero() {
		q = q.Where("created_at >= ?", f.Since.UTC())
	}
	if f.Before != "" {
		q = q.Where("id < ?", f.Before)
	}
	if f.Limit > 0 {
		q = q.Limit(int64(f.Limit))
	}
	if err := q.OrderExpr("id DESC").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	return out, nil
}

// MerchantContact returns a merchant's contact email ("" if none).
func (r *Repo) MerchantContact(ctx context.Context, merchantID int64) (string, error) {
	var email string
	err := r.db.NewSelect().Table("merchants").Column("contact_email").Where("id = ?", merchantID).Scan(ctx, &email)
	if errors.Is(err, sql.ErrNoRows) {
		return "", domain.NotFound("merchant")
	}
	return email, err
}

// EndpointDeliveryStat counts one endpoint's deliveries created since a
// time: how many there were, how many failed for good, and how many are
// pending after at least one failed attempt (retrying).
type EndpointDeliveryStat struct {
	EndpointID string `bun:"endpoint_id"`
	Total      int64  `bun:"total"`
	Failed     int64  `bun:"failed"`
	Retrying   int64  `bun:"retrying"`
}

// EndpointDeliveryStats groups the deliveries created at or after since by
// endpoint.
func (r *Repo) EndpointDeliveryStats(ctx context.Context, since time.Time) ([]EndpointDeliveryStat, error) {
	var out []EndpointDeliveryStat
	err := r.db.NewSelect().Model((*WebhookDelivery)(nil)).
		ColumnExpr("endpoint_id, COUNT(*) AS total").
		ColumnExpr("SUM(CASE WHEN status = ? THEN 1 ELSE 0 END) AS failed", DeliveryFailed).
		ColumnExpr("SUM(CASE WHEN status = ? AND attempts > 0 THEN 1 ELSE 0 END) AS retrying", DeliveryPending).
		Where("endpoint_id IS NOT NULL AND created_at >= ?", since.UTC()).
		GroupExpr("endpoint_id").OrderExpr("endpoint_id").
		Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("endpoint delivery stats: %w", err)
	}
	return out, nil
}
