package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/core/store/storetest"
)

// TestMigration0020Backfill: requests stored before the intake columns
// existed are marked verified when an event refers to them or they were
// answered below 400, and get their body size; the rest are unverified, so
// retention treats them like excerpts of refused requests.
func TestMigration0020Backfill(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, s *store.Store) {
		ctx := ctxT(t)
		at := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
		rows := []struct {
			status   any
			body     string
			event    bool
			verified bool
		}{
			{200, "accepted", false, true},
			{303, "redirected", false, true},
			{401, "forged", false, false},
			{nil, "answer never recorded, but an event came from it", true, true},
			{500, "store failed after the event", true, true},
			{503, "plugin down", false, false},
		}
		ids := make([]int64, len(rows))
		err := store.RedoMigrationForTest(ctx, s, "20261205000020", func(ctx context.Context, tx bun.Tx) error {
			for i, r := range rows {
				err := tx.NewRaw(`INSERT INTO webhook_requests (provider_id, method, path, query, headers, body, remote_addr, received_at, response_status)
					VALUES ('sbx', 'POST', '/hooks/sandbox/sbx', '', '{}', ?, '127.0.0.1:9', ?, ?) RETURNING id`, []byte(r.body), at, r.status).Scan(ctx, &ids[i])
				if err != nil {
					return err
				}
				if r.event {
					if _, err := tx.ExecContext(ctx, `INSERT INTO provider_events (provider_id, provider_event_id, webhook_request_id, type, raw_type, provider_ref, payload, outcome, reason, received_at)
						VALUES ('sbx', ?, ?, 'payment.succeeded', '', '', '{}', 'recorded', '', ?)`, r.body, ids[i], at); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range rows {
			w, err := s.GetWebhookRequest(ctx, ids[i])
			if err != nil {
				t.Fatal(err)
			}
			if w.Verified != r.verified || w.BodySize != int64(len(r.body)) || w.Truncated || string(w.Body) != r.body {
				t.Errorf("%q: verified %v body_size %d truncated %v, want verified %v body_size %d", r.body, w.Verified, w.BodySize, w.Truncated, r.verified, len(r.body))
			}
		}
		// The retention batches see them like any other row.
		n, err := s.DeleteWebhookRequestsBefore(ctx, false, at.Add(time.Second), 1000)
		if err != nil || n != 2 {
			t.Fatalf("deleted %d unverified, %v; want 2", n, err)
		}
		n, err = s.DeleteWebhookRequestsBefore(ctx, true, at.Add(time.Second), 3)
		if err != nil || n != 3 {
			t.Fatalf("first batch of verified = %d, %v; want 3", n, err)
		}
		n, err = s.DeleteWebhookRequestsBefore(ctx, true, at.Add(time.Second), 3)
		if err != nil || n != 1 {
			t.Fatalf("second batch of verified = %d, %v; want 1", n, err)
		}
		var events, linked int
		if err := s.DB().QueryRowContext(ctx, "SELECT count(*), count(webhook_request_id) FROM provider_events").Scan(&events, &linked); err != nil || events != 2 || linked != 0 {
			t.Fatalf("provider events = %d (%d linked), %v", events, linked, err)
		}
	})
}
