package store_test

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/core/store/storetest"
)

func newTestSession(merchantID int64, orderID string, status domain.SessionStatus) *store.Session {
	ts := time.Now().UTC().Truncate(time.Microsecond)
	return &store.Session{
		ID: domain.NewSessionID(), MerchantID: merchantID, Mode: store.ModeTest, Status: status,
		Domain: "shop.test", OrderID: orderID, Amount: 4995, Currency: "USD", Metadata: "{}",
		ExpiresAt: ts.Add(time.Hour), CreatedAt: ts, UpdatedAt: ts,
	}
}

func TestSessionOpenOrderUniqueness(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, s *store.Store) {
		ctx := ctxT(t)
		m, err := s.CreateMerchant(ctx, store.NewMerchant{Name: "P", Plan: store.PlanPro, Domains: []string{"shop.test"}})
		if err != nil {
			t.Fatal(err)
		}
		first := newTestSession(m.ID, "ORDER-1", domain.StatusOpen)
		if err := s.InsertSession(ctx, first); err != nil {
			t.Fatalf("insert first: %v", err)
		}
		tests := []struct {
			name      string
			order     string
			status    domain.SessionStatus
			mode      store.KeyMode
			wantDupOK bool // true: insert must succeed
		}{
			{"second open same order", "ORDER-1", domain.StatusOpen, store.ModeTest, false},
			{"processing same order", "ORDER-1", domain.StatusProcessing, store.ModeTest, false},
			{"expired same order is history", "ORDER-1", domain.StatusExpired, store.ModeTest, true},
			{"paid same order is not an open one", "ORDER-1", domain.StatusPaid, store.ModeTest, true},
			{"same order other mode", "ORDER-1", domain.StatusOpen, store.ModeLive, true},
			{"other order", "ORDER-2", domain.StatusOpen, store.ModeTest, true},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				sess := newTestSession(m.ID, tc.order, tc.status)
				sess.Mode = tc.mode
				err := s.InsertSession(ctx, sess)
				if tc.wantDupOK && err != nil {
					t.Fatalf("insert: %v", err)
				}
				if !tc.wantDupOK && !store.IsUniqueViolation(err) {
					t.Fatalf("insert err = %v, want unique violation", err)
				}
			})
		}
		got, err := s.OrderSessions(ctx, m.ID, store.ModeTest, "ORDER-1", 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 3 {
			t.Fatalf("ORDER-1 test sessions = %d, want 3 (open, expired, paid)", len(got))
		}
		n, err := s.CountSessions(ctx, m.ID)
		if err != nil || n != 5 {
			t.Fatalf("CountSessions = %d, %v; want 5", n, err)
		}

		// Closing the open session frees the order for a new one.
		first.Status = domain.StatusExpired
		first.UpdatedAt = time.Now().UTC()
		if err := s.UpdateSession(ctx, first); err != nil {
			t.Fatal(err)
		}
		if err := s.InsertSession(ctx, newTestSession(m.ID, "ORDER-1", domain.StatusOpen)); err != nil {
			t.Fatalf("insert after expiry: %v", err)
		}
	})
}

func TestProviderEventDedup(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, s *store.Store) {
		ctx := ctxT(t)
		ev := func() *store.ProviderEvent {
			return &store.ProviderEvent{ProviderID: "sandbox", ProviderEventID: "evt_1", Type: "payment.succeeded",
				RawType: "charge.succeeded", Payload: `{"a":1}`, Outcome: store.OutcomeRecorded, ReceivedAt: time.Now().UTC()}
		}
		var inserted []bool
		for range 2 {
			err := s.RunInTx(ctx, func(ctx context.Context, tx bun.Tx) error {
				ok, err := store.NewRepo(tx).InsertProviderEvent(ctx, ev())
				inserted = append(inserted, ok)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		if !inserted[0] || inserted[1] {
			t.Fatalf("inserted = %v, want [true false]", inserted)
		}
		other := ev()
		other.ProviderID = "stripe"
		if ok, err := s.InsertProviderEvent(ctx, other); err != nil || !ok {
			t.Fatalf("same event id other provider: %v %v", ok, err)
		}
		if err := s.UpdateProviderEventOutcome(ctx, "sandbox", "evt_1", "", store.OutcomeApplied, "payment succeeded"); err != nil {
			t.Fatal(err)
		}
		got, err := s.GetProviderEvent(ctx, "sandbox", "evt_1")
		// Payload is JSONB on PostgreSQL, so compare it as JSON, not bytes.
		var payload map[string]int
		if err == nil {
			err = json.Unmarshal([]byte(got.Payload), &payload)
		}
		if err != nil || got.Outcome != store.OutcomeApplied || payload["a"] != 1 {
			t.Fatalf("GetProviderEvent = %+v, %v", got, err)
		}
	})
}

func TestIdempotencyKeys(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, s *store.Store) {
		ctx := ctxT(t)
		m, err := s.CreateMerchant(ctx, store.NewMerchant{Name: "I", Plan: store.PlanFree, Domains: []string{"i.test"}})
		if err != nil {
			t.Fatal(err)
		}
		old := time.Now().UTC().Add(-48 * time.Hour).Truncate(time.Microsecond)
		body := []byte("{\"session_id\":\"x\"}\n")
		k := &store.IdempotencyKey{MerchantID: m.ID, Mode: store.ModeTest, Key: "k1", RequestHash: "h",
			ResponseStatus: 201, ResponseBody: body, CreatedAt: old}
		if err := s.InsertIdempotencyKey(ctx, k); err != nil {
			t.Fatal(err)
		}
		dup := *k
		if err := s.InsertIdempotencyKey(ctx, &dup); !store.IsUniqueViolation(err) {
			t.Fatalf("duplicate key err = %v, want unique violation", err)
		}
		live := *k
		live.Mode = store.ModeLive
		if err := s.InsertIdempotencyKey(ctx, &live); err != nil {
			t.Fatalf("same key other mode: %v", err)
		}
		got, err := s.GetIdempotencyKey(ctx, m.ID, store.ModeTest, "k1")
		if err != nil || string(got.ResponseBody) != string(body) || got.ResponseStatus != 201 {
			t.Fatalf("GetIdempotencyKey = %+v, %v", got, err)
		}
		fresh := *k
		fresh.Key, fresh.CreatedAt = "k2", time.Now().UTC()
		if err := s.InsertIdempotencyKey(ctx, &fresh); err != nil {
			t.Fatal(err)
		}
		n, err := s.DeleteIdempotencyKeysBefore(ctx, time.Now().Add(-24*time.Hour), 100)
		if err != nil || n != 2 {
			t.Fatalf("DeleteIdempotencyKeysBefore = %d, %v; want 2", n, err)
		}
		if _, err := s.GetIdempotencyKey(ctx, m.ID, store.ModeTest, "k2"); err != nil {
			t.Fatalf("fresh key deleted: %v", err)
		}
		_, err = s.GetIdempotencyKey(ctx, m.ID, store.ModeTest, "k1")
		if !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("expired key still there: %v", err)
		}
	})
}

func TestWebhookRequestsAndAttempts(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, s *store.Store) {
		ctx := ctxT(t)
		m, err := s.CreateMerchant(ctx, store.NewMerchant{Name: "W", Plan: store.PlanFree, Domains: []string{"w.test"}})
		if err != nil {
			t.Fatal(err)
		}
		w := &store.WebhookRequest{ProviderID: "sandbox", Method: "POST", Path: "/hooks/sandbox/sandbox",
			Headers: `{"Content-Type":["application/json"]}`, Body: []byte{0, 1, 2, 0xff}, RemoteAddr: "127.0.0.1:1", ReceivedAt: time.Now().UTC()}
		if err := s.InsertWebhookRequest(ctx, w); err != nil || w.ID == 0 {
			t.Fatalf("InsertWebhookRequest id=%d err=%v", w.ID, err)
		}
		if err := s.SetWebhookResponseStatus(ctx, w.ID, 200); err != nil {
			t.Fatal(err)
		}
		got, err := s.GetWebhookRequest(ctx, w.ID)
		if err != nil || string(got.Body) != string(w.Body) || got.ResponseStatus == nil || *got.ResponseStatus != 200 {
			t.Fatalf("GetWebhookRequest = %+v, %v", got, err)
		}

		sess := newTestSession(m.ID, "O", domain.StatusOpen)
		if err := s.InsertSession(ctx, sess); err != nil {
			t.Fatal(err)
		}
		ts := time.Now().UTC()
		a1 := &store.PaymentAttempt{ID: domain.NewAttemptID(), SessionID: sess.ID, Seq: 1, ProviderID: "sandbox", Method: "card",
			Status: store.AttemptPending, Reason: "r", CreatedAt: ts, UpdatedAt: ts}
		a2 := *a1
		a2.ID, a2.Seq = domain.NewAttemptID(), 2
		for _, a := range []*store.PaymentAttempt{a1, &a2} {
			if err := s.InsertAttempt(ctx, a); err != nil {
				t.Fatalf("two attempts without provider ref must coexist: %v", err)
			}
		}
		dupSeq := *a1
		dupSeq.ID = domain.NewAttemptID()
		if err := s.InsertAttempt(ctx, &dupSeq); !store.IsUniqueViolation(err) {
			t.Fatalf("duplicate attempt seq err = %v, want unique violation", err)
		}
		if next, err := s.NextAttemptSeq(ctx, sess.ID); err != nil || next != 3 {
			t.Fatalf("NextAttemptSeq = %d, %v; want 3", next, err)
		}
		a1.ProviderRef, a1.Status = "ref_1", store.AttemptProcessing
		if err := s.UpdateAttempt(ctx, a1); err != nil {
			t.Fatal(err)
		}
		a2.ProviderRef = "ref_1"
		if err := s.UpdateAttempt(ctx, &a2); !store.IsUniqueViolation(err) {
			t.Fatalf("duplicate provider ref err = %v, want unique violation", err)
		}
		byRef, err := s.AttemptByProviderRef(ctx, "sandbox", "ref_1")
		if err != nil || byRef.ID != a1.ID || byRef.Status != store.AttemptProcessing {
			t.Fatalf("AttemptByProviderRef = %+v, %v", byRef, err)
		}
		stale, err := s.StaleSessions(ctx, domain.StatusOpen, time.Now().Add(time.Minute), 10)
		if err != nil || len(stale) != 1 || stale[0].ID != sess.ID {
			t.Fatalf("StaleSessions = %v, %v", stale, err)
		}
	})
}

// InsertSessionForOrder inserts only when the order is free: no open or
// processing session and none that received money; expired and canceled
// sessions, and the other mode, do not hold it.
func TestInsertSessionForOrder(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, s *store.Store) {
		ctx := ctxT(t)
		m, err := s.CreateMerchant(ctx, store.NewMerchant{Name: "P", Plan: store.PlanPro, Domains: []string{"shop.test"}})
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name     string
			existing domain.SessionStatus // "" means no earlier session
			mode     store.KeyMode
			want     bool
		}{
			{"new order", "", store.ModeTest, true},
			{"open", domain.StatusOpen, store.ModeTest, false},
			{"processing", domain.StatusProcessing, store.ModeTest, false},
			{"paid", domain.StatusPaid, store.ModeTest, false},
			{"partially refunded", domain.StatusPartiallyRefunded, store.ModeTest, false},
			{"refunded", domain.StatusRefunded, store.ModeTest, false},
			{"disputed", domain.StatusDisputed, store.ModeTest, false},
			{"expired", domain.StatusExpired, store.ModeTest, true},
			{"canceled", domain.StatusCanceled, store.ModeTest, true},
			{"paid in the other mode", domain.StatusPaid, store.ModeLive, true},
		} {
			for _, via := range []string{"pool", "tx", "prepared tx", "group tx", "group tx, sent ahead"} {
				t.Run(tc.name+" via "+via, func(t *testing.T) {
					order := "ORD-" + tc.name + "-" + via
					if tc.existing != "" {
						old := newTestSession(m.ID, order, tc.existing)
						old.Mode = tc.mode
						if err := s.InsertSession(ctx, old); err != nil {
							t.Fatal(err)
						}
					}
					sess := newTestSession(m.ID, order, domain.StatusOpen)
					sess.Method = "card"
					sess.EventSeq = 1
					first := &store.Event{ID: domain.NewEventID(), MerchantID: m.ID, Mode: sess.Mode, SessionID: sess.ID,
						Type: "session.created", Seq: 1, Data: `{"a": 1}`, CreatedAt: sess.CreatedAt}
					var got bool
					var err error
					switch via {
					case "pool":
						got, err = s.InsertSessionForOrder(ctx, sess, first)
					case "tx":
						err = s.RunInTx(ctx, func(ctx context.Context, tx bun.Tx) error {
							got, err = store.NewRepo(tx).InsertSessionForOrder(ctx, sess, first)
							return err
						})
					case "group tx":
						if err := s.PrepareHot(ctx); err != nil {
							t.Fatal(err)
						}
						err = s.RunInGroupTx(ctx, func(ctx context.Context, tx bun.Tx) error {
							got, err = s.InTx(tx).InsertSessionForOrder(ctx, sess, first)
							return err
						})
					case "group tx, sent ahead":
						ins := store.NewSessionInsert(sess, first)
						err = s.RunInGroupTxFirst(ctx, ins, func(ctx context.Context, tx bun.Tx) error {
							got, err = s.InTx(tx).InsertOrderSession(ctx, ins)
							return err
						})
					case "prepared tx":
						if err := s.PrepareHot(ctx); err != nil {
							t.Fatal(err)
						}
						err = s.RunInTx(ctx, func(ctx context.Context, tx bun.Tx) error {
							got, err = s.InTx(tx).InsertSessionForOrder(ctx, sess, first)
							return err
						})
					}
					if err != nil || got != tc.want {
						t.Fatalf("inserted = %v, %v; want %v", got, err, tc.want)
					}
					events, err := s.SessionEvents(ctx, sess.ID)
					if err != nil {
						t.Fatal(err)
					}
					if !got {
						if _, err := s.GetSession(ctx, sess.ID); !errors.Is(err, domain.ErrNotFound) {
							t.Fatalf("skipped insert left a row: %v", err)
						}
						if len(events) != 0 {
							t.Fatalf("skipped insert left its event: %+v", events)
						}
						return
					}
					if len(events) != 1 || events[0].ID != first.ID || events[0].Data != first.Data || !events[0].CreatedAt.Equal(first.CreatedAt) {
						t.Fatalf("first event read back %+v", events)
					}
					back, err := s.GetSession(ctx, sess.ID)
					if err != nil {
						t.Fatal(err)
					}
					if back.Method != "card" || !back.ExpiresAt.Equal(sess.ExpiresAt) || !back.CreatedAt.Equal(sess.CreatedAt) ||
						back.PaidAt != nil || back.Status != domain.StatusOpen || back.Metadata != "{}" {
						t.Fatalf("read back %+v", back)
					}
					// Times are stored as bun stores them, whichever path wrote
					// them: on SQLite they are compared and sorted as text.
					twin := newTestSession(m.ID, order+"-twin", domain.StatusExpired)
					twin.ExpiresAt = sess.ExpiresAt
					if err := s.InsertSession(ctx, twin); err != nil {
						t.Fatal(err)
					}
					var texts []string
					if err := s.DB().NewRaw("SELECT CAST(expires_at AS TEXT) FROM sessions WHERE id IN (?, ?)", sess.ID, twin.ID).Scan(ctx, &texts); err != nil {
						t.Fatal(err)
					}
					if len(texts) != 2 || texts[0] != texts[1] {
						t.Fatalf("stored expires_at texts differ: %q", texts)
					}
				})
			}
		}
	})
}

// DueSessions pages through open sessions past expires_at in (expires_at,
// id) order and ignores other statuses and sessions not yet due.
func TestDueSessions(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, s *store.Store) {
		ctx := ctxT(t)
		m, err := s.CreateMerchant(ctx, store.NewMerchant{Name: "P", Plan: store.PlanPro, Domains: []string{"shop.test"}})
		if err != nil {
			t.Fatal(err)
		}
		base := time.Now().UTC().Truncate(time.Microsecond)
		var want []store.DueSession
		for i, c := range []struct {
			status domain.SessionStatus
			expiry time.Duration
			due    bool
		}{
			{domain.StatusOpen, -3 * time.Minute, true},
			{domain.StatusOpen, -time.Minute, true},
			{domain.StatusOpen, -time.Minute, true}, // same expires_at: ordered by id
			{domain.StatusOpen, 0, true},            // due exactly now
			{domain.StatusOpen, time.Minute, false},
			{domain.StatusProcessing, -time.Hour, false},
			{domain.StatusCanceled, -time.Hour, false},
		} {
			sess := newTestSession(m.ID, fmt.Sprintf("DUE-%d", i), c.status)
			sess.ExpiresAt = base.Add(c.expiry)
			if err := s.InsertSession(ctx, sess); err != nil {
				t.Fatal(err)
			}
			if c.due {
				want = append(want, store.DueSession{ID: sess.ID, ExpiresAt: sess.ExpiresAt})
			}
		}
		slices.SortFunc(want, func(a, b store.DueSession) int {
			return cmp.Or(a.ExpiresAt.Compare(b.ExpiresAt), strings.Compare(a.ID, b.ID))
		})
		var wantIDs, got []string
		for _, d := range want {
			wantIDs = append(wantIDs, d.ID)
		}
		var after store.DueSession
		for {
			page, err := s.DueSessions(ctx, base, after, 3)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range page {
				got = append(got, d.ID)
			}
			if len(page) < 3 {
				break
			}
			after = page[len(page)-1]
		}
		if strings.Join(got, ",") != strings.Join(wantIDs, ",") {
			t.Fatalf("due = %v\nwant  %v", got, wantIDs)
		}
	})
}
