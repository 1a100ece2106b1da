package store_test

import (
	"errors"
	"testing"
	"time"

	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/core/store/storetest"
)

func TestLatestAttemptAndRecordOutcome(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, s *store.Store) {
		ctx := ctxT(t)
		m, err := s.CreateMerchant(ctx, store.NewMerchant{Name: "A", Plan: store.PlanPro, Domains: []string{"shop.test"}})
		if err != nil {
			t.Fatal(err)
		}
		sess := newTestSession(m.ID, "ORDER-ATT", domain.StatusOpen)
		if err := s.InsertSession(ctx, sess); err != nil {
			t.Fatal(err)
		}
		if _, err := s.LatestAttempt(ctx, sess.ID); !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("LatestAttempt without attempts: %v, want not found", err)
		}

		t0 := time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)
		attempt := func(seq int64, at time.Time) *store.PaymentAttempt {
			return &store.PaymentAttempt{ID: domain.NewAttemptID(), SessionID: sess.ID, Seq: seq, ProviderID: "sbx",
				Method: "card", Status: store.AttemptPending, Reason: "test", CreatedAt: at, UpdatedAt: at}
		}
		// The second attempt is stamped earlier than the first: "latest"
		// follows Seq, not a clock.
		first, second := attempt(1, t0), attempt(2, t0.Add(-time.Hour))
		for _, a := range []*store.PaymentAttempt{first, second} {
			if err := s.InsertAttempt(ctx, a); err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.LatestAttempt(ctx, sess.ID)
		if err != nil || got.ID != second.ID || got.RedirectURL != "" {
			t.Fatalf("LatestAttempt = %+v, %v; want attempt 2 without a redirect", got, err)
		}

		second.Status, second.ProviderRef, second.RedirectURL = store.AttemptPending, "ref-2", "https://pay.example/cs_2"
		second.UpdatedAt = t0.Add(time.Minute)
		if err := s.RecordAttemptOutcome(ctx, second); err != nil {
			t.Fatal(err)
		}
		got, err = s.LatestAttempt(ctx, sess.ID)
		if err != nil || got.ProviderRef != "ref-2" || got.RedirectURL != "https://pay.example/cs_2" ||
			got.Status != store.AttemptPending || !got.UpdatedAt.Equal(second.UpdatedAt) || !got.CreatedAt.Equal(second.CreatedAt) {
			t.Fatalf("after RecordAttemptOutcome: %+v, %v", got, err)
		}

		// UpdateAttempt (the webhook path) keeps the stored redirect.
		second.Status, second.RedirectURL = store.AttemptFailed, ""
		if err := s.UpdateAttempt(ctx, second); err != nil {
			t.Fatal(err)
		}
		got, _ = s.LatestAttempt(ctx, sess.ID)
		if got.Status != store.AttemptFailed || got.RedirectURL != "https://pay.example/cs_2" {
			t.Fatalf("after UpdateAttempt: %+v", got)
		}
		// RecordAttemptOutcome writes an empty redirect as NULL, read back empty.
		if err := s.RecordAttemptOutcome(ctx, second); err != nil {
			t.Fatal(err)
		}
		var isNull bool
		if err := s.DB().NewRaw("SELECT redirect_url IS NULL FROM payment_attempts WHERE id = ?", second.ID).Scan(ctx, &isNull); err != nil || !isNull {
			t.Fatalf("redirect_url IS NULL = %v, %v", isNull, err)
		}

		// The other attempt is untouched.
		atts, err := s.SessionAttempts(ctx, sess.ID)
		if err != nil || len(atts) != 2 || atts[0].ID != first.ID || atts[0].RedirectURL != "" || atts[0].ProviderRef != "" {
			t.Fatalf("attempts = %+v, %v", atts, err)
		}

		missing := attempt(3, t0)
		if err := s.RecordAttemptOutcome(ctx, missing); !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("RecordAttemptOutcome of an unknown attempt: %v, want not found", err)
		}
	})
}
