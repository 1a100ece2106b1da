package store

import (
	"context"
	"fmt"

	"github.com/switchyard/switchyard/core/domain"
)

// The delivery worker's statements (one attempt: four reads, then the
// recording transaction), written once with placeholders like the create
// path's (hot.go): bun would render each call's values into a new SQL
// text, which SQLite parses again every time (a third of the drain's CPU)
// and pgx prepares again. The reads go to SQLite's read-only pool, beside
// the one writer.
const (
	webhookAttemptColumns = `id, delivery_id, n, cause, state, scheduled_at, attempted_at, status_code, latency_ms,
	response_body, error`
	webhookDeliveryColumns = `id, event_id, merchant_id, event_type, endpoint_id, url, status, attempts, next_attempt_at,
	last_status_code, last_error, created_at, updated_at`
	eventColumns           = `id, merchant_id, mode, session_id, type, seq, data, created_at`
	webhookEndpointColumns = `id, merchant_id, site, kind, url,
	description, event_types, mode, profile, schedule, secret, previous_secret, previous_expires_at, enabled,
	disabled_reason, deleted_at, created_at, updated_at`
)

var (
	selectWebhookAttemptSQL  = newHotSQL("select_webhook_attempt", `SELECT `+webhookAttemptColumns+` FROM webhook_attempts WHERE id = ?`)
	selectWebhookDeliverySQL = newHotSQL("select_webhook_delivery", `SELECT `+webhookDeliveryColumns+` FROM webhook_deliveries WHERE id = ?`)
	selectEventSQL           = newHotSQL("select_event", `SELECT `+eventColumns+` FROM events WHERE id = ?`)
	selectWebhookEndpointSQL = newHotSQL("select_webhook_endpoint", `SELECT `+webhookEndpointColumns+`
FROM webhook_endpoints WHERE id = ? AND deleted_at IS NULL`)
	completeWebhookAttemptSQL = newHotSQL("complete_webhook_attempt", `UPDATE webhook_attempts
SET state = ?, attempted_at = ?, status_code = ?, latency_ms = ?, response_body = ?, error = ?
WHERE id = ? AND state = '`+AttemptScheduled+`'`)
	updateWebhookDeliverySQL = newHotSQL("update_webhook_delivery", `UPDATE webhook_deliveries
SET endpoint_id = ?, status = ?, attempts = ?, next_attempt_at = ?, last_status_code = ?, last_error = ?, updated_at = ?
WHERE id = ?`)
)

// deliveryHotWrites run inside the recording transaction; PrepareHot
// prepares them with the create path's.
var deliveryHotWrites = []hotSQL{selectWebhookDeliverySQL, completeWebhookAttemptSQL, updateWebhookDeliverySQL}

// hotGet runs a hot query for one row, or NotFound(resource). (bun's
// ScanRows leaves a struct untouched when there is no row, so it scans
// into a slice.)
func hotGet[T any](ctx context.Context, r *Repo, q hotSQL, resource string, args ...any) (*T, error) {
	var out []*T
	if err := r.hotQuery(ctx, q, &out, args...); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, domain.NotFound(resource)
	}
	return out[0], nil
}

// GetWebhookAttempt returns one attempt.
func (r *Repo) GetWebhookAttempt(ctx context.Context, id int64) (*WebhookAttempt, error) {
	return hotGet[WebhookAttempt](ctx, r, selectWebhookAttemptSQL, "attempt", id)
}

// GetWebhookDelivery returns one delivery.
func (r *Repo) GetWebhookDelivery(ctx context.Context, id string) (*WebhookDelivery, error) {
	return hotGet[WebhookDelivery](ctx, r, selectWebhookDeliverySQL, "delivery", id)
}

// GetEventByID returns one event.
func (r *Repo) GetEventByID(ctx context.Context, id string) (*Event, error) {
	return hotGet[Event](ctx, r, selectEventSQL, "event", id)
}

// GetWebhookEndpoint returns a live (not deleted) endpoint.
func (r *Repo) GetWebhookEndpoint(ctx context.Context, id string) (*WebhookEndpoint, error) {
	return hotGet[WebhookEndpoint](ctx, r, selectWebhookEndpointSQL, "endpoint", id)
}

// CompleteWebhookAttempt records the outcome of a scheduled attempt. It
// returns false, changing nothing, when the attempt is no longer scheduled:
// another worker already recorded it, which makes recording exactly-once.
func (r *Repo) CompleteWebhookAttempt(ctx context.Context, a *WebhookAttempt) (bool, error) {
	res, err := r.hotExec(ctx, completeWebhookAttemptSQL, a.State, r.hotTimePtr(a.AttemptedAt), a.StatusCode, a.LatencyMS,
		a.ResponseBody, a.Error, a.ID)
	if err != nil {
		return false, fmt.Errorf("complete webhook attempt: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// UpdateWebhookDelivery writes a delivery's mutable columns.
func (r *Repo) UpdateWebhookDelivery(ctx context.Context, d *WebhookDelivery) error {
	_, err := r.hotExec(ctx, updateWebhookDeliverySQL, d.EndpointID, d.Status, d.Attempts, r.hotTimePtr(d.NextAttemptAt),
		d.LastStatusCode, d.LastError, r.hotTime(d.UpdatedAt), d.ID)
	if err != nil {
		return fmt.Errorf("update webhook delivery: %w", err)
	}
	return nil
}
