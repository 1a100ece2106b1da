package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/core/store/storetest"
)

func TestConsoleSessionsAndAudit(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		now := time.Now().UTC().Truncate(time.Microsecond)
		for i, row := range []*store.ConsoleSession{
			{ID: "live", Operator: "alice", TokenFP: "fp", CSRF: "c1", CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)},
			{ID: "idle", Operator: "alice", TokenFP: "fp", CSRF: "c2", CreatedAt: now.Add(-2 * time.Hour), LastSeenAt: now.Add(-2 * time.Hour), ExpiresAt: now.Add(time.Hour)},
			{ID: "old", Operator: "bob", TokenFP: "fp", CSRF: "c3", CreatedAt: now.Add(-13 * time.Hour), LastSeenAt: now, ExpiresAt: now.Add(-time.Minute)},
		} {
			if err := s.InsertConsoleSession(ctx, row); err != nil {
				t.Fatalf("insert %d: %v", i, err)
			}
		}
		if err := s.SetConsoleFlash(ctx, "live", `{"message":"done"}`); err != nil {
			t.Fatal(err)
		}
		later := now.Add(time.Minute)
		if err := s.TouchConsoleSession(ctx, "live", later); err != nil {
			t.Fatal(err)
		}
		got, err := s.GetConsoleSession(ctx, "live")
		if err != nil || got.Flash != `{"message":"done"}` || !got.LastSeenAt.Equal(later) || got.CSRF != "c1" {
			t.Fatalf("live session: %+v, %v", got, err)
		}
		n, err := s.DeleteStaleConsoleSessions(ctx, now, now.Add(-30*time.Minute))
		if err != nil || n != 2 {
			t.Fatalf("stale sessions deleted: %d, %v", n, err)
		}
		if _, err := s.GetConsoleSession(ctx, "idle"); !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("idle session: %v", err)
		}
		if err := s.DeleteConsoleSession(ctx, "live"); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteConsoleSession(ctx, "live"); err != nil {
			t.Fatalf("deleting twice: %v", err)
		}

		for i := range 5 {
			e := &store.AuditEntry{At: now.Add(time.Duration(i) * time.Second), Actor: []string{"alice", "bob"}[i%2], Role: "operator",
				Via: "console", Action: "merchant.suspend", TargetType: "merchant", TargetID: fmt.Sprint(i % 3), Outcome: "ok"}
			if err := s.InsertAuditEntry(ctx, e); err != nil || e.ID == 0 {
				t.Fatalf("insert audit %d: %v (id %d)", i, err, e.ID)
			}
		}
		list := func(f store.AuditFilter) []string {
			es, err := s.ListAuditEntries(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, e := range es {
				out = append(out, e.Actor+":"+e.TargetID)
			}
			return out
		}
		if got := fmt.Sprint(list(store.AuditFilter{})); got != "[alice:1 bob:0 alice:2 bob:1 alice:0]" {
			t.Errorf("all: %s", got)
		}
		if got := fmt.Sprint(list(store.AuditFilter{Actor: "bob"})); got != "[bob:0 bob:1]" {
			t.Errorf("bob: %s", got)
		}
		if got := fmt.Sprint(list(store.AuditFilter{TargetType: "merchant", TargetID: "1"})); got != "[alice:1 bob:1]" {
			t.Errorf("target: %s", got)
		}
		first, _ := s.ListAuditEntries(ctx, store.AuditFilter{Limit: 2})
		if got := fmt.Sprint(list(store.AuditFilter{BeforeID: first[1].ID, Limit: 2})); got != "[alice:2 bob:1]" {
			t.Errorf("second page: %s", got)
		}
	})
}

func TestEndpointDeliveryStats(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		m, err := s.CreateMerchant(ctx, store.NewMerchant{Name: "W", Plan: store.PlanFree, Domains: []string{"w.test"}})
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now().UTC().Truncate(time.Microsecond)
		for _, id := range []string{"ep_a", "ep_b"} {
			if err := s.InsertWebhookEndpoint(ctx, &store.WebhookEndpoint{ID: id, MerchantID: m.ID, Kind: store.EndpointURL, URL: "https://w.test/" + id,
				EventTypes: store.Scopes{}, Profile: "standard", Schedule: "svix", Enabled: true, CreatedAt: now, UpdatedAt: now}); err != nil {
				t.Fatal(err)
			}
		}
		sess := newTestSession(m.ID, "O-1", domain.StatusOpen)
		if err := s.InsertSession(ctx, sess); err != nil {
			t.Fatal(err)
		}
		if err := s.InsertEvent(ctx, &store.Event{ID: "evt_1", MerchantID: m.ID, Mode: store.ModeTest, SessionID: sess.ID, Type: "session.created", Seq: 1, Data: "{}", CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
		for i, d := range []struct {
			ep, status string
			attempts   int
			at         time.Time
		}{
			{"ep_a", store.DeliverySucceeded, 1, now},
			{"ep_a", store.DeliveryFailed, 8, now},
			{"ep_a", store.DeliveryPending, 2, now},
			{"ep_a", store.DeliveryPending, 0, now},
			{"ep_b", store.DeliveryFailed, 8, now.Add(-48 * time.Hour)},
			{"ep_b", store.DeliverySucceeded, 1, now},
		} {
			ep := d.ep
			if err := s.InsertWebhookDelivery(ctx, &store.WebhookDelivery{ID: fmt.Sprintf("whd_%d", i), EventID: "evt_1", MerchantID: m.ID,
				EventType: "session.created", EndpointID: &ep, URL: fmt.Sprintf("https://w.test/%d", i), Status: d.status, Attempts: d.attempts,
				CreatedAt: d.at, UpdatedAt: d.at}); err != nil {
				t.Fatal(err)
			}
		}
		stats, err := s.EndpointDeliveryStats(ctx, now.Add(-time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(stats); got != "[{ep_a 4 1 1} {ep_b 1 0 0}]" {
			t.Errorf("stats %s", got)
		}
		ds, err := s.ListWebhookDeliveries(ctx, store.DeliveryFilter{Until: now.Add(-time.Hour)})
		if err != nil || len(ds) != 1 || ds[0].ID != "whd_4" {
			t.Errorf("deliveries until an hour ago: %v %v", ds, err)
		}
	})
}
