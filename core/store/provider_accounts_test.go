package store_test

import (
	"errors"
	"testing"
	"time"

	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/core/store/storetest"
)

func TestProviderAccounts(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, s *store.Store) {
		ctx := ctxT(t)
		m, err := s.CreateMerchant(ctx, store.NewMerchant{Name: "C", Plan: store.PlanPro, Domains: []string{"c.test"}})
		if err != nil {
			t.Fatal(err)
		}
		t0 := time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)
		row := func(merchant int64, provider, ct string, at time.Time) *store.ProviderAccount {
			return &store.ProviderAccount{ID: store.ProviderAccountID(merchant, provider), MerchantID: merchant, ProviderID: provider,
				AccountIDEncrypted: ct, ConnectedAt: at, UpdatedAt: at}
		}

		if _, err := s.GetProviderAccount(ctx, m.ID, "stripe"); !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("before connect: %v, want not found", err)
		}
		if err := s.UpsertProviderAccount(ctx, row(m.ID+1000, "stripe", "ct", t0)); !errors.Is(err, domain.ErrNotFound) {
			t.Errorf("unknown merchant: %v, want not found", err)
		}
		bad := row(m.ID, "stripe", "ct", t0)
		bad.ID = store.ProviderAccountID(m.ID, "other")
		if err := s.UpsertProviderAccount(ctx, bad); err == nil {
			t.Error("row id not matching merchant and provider was accepted")
		}

		if err := s.UpsertProviderAccount(ctx, row(m.ID, "stripe", "ct-1", t0)); err != nil {
			t.Fatal(err)
		}
		if err := s.UpsertProviderAccount(ctx, row(m.ID, "stripe-eu", "ct-eu", t0)); err != nil {
			t.Fatal(err)
		}
		got, err := s.GetProviderAccount(ctx, m.ID, "stripe")
		if err != nil || got.AccountIDEncrypted != "ct-1" || !got.Connected() || !got.ConnectedAt.Equal(t0) {
			t.Fatalf("get: %+v %v", got, err)
		}

		// A revocation older than the connection, or for another
		// ciphertext (a different account since), changes nothing.
		for name, c := range map[string]struct {
			ct string
			at time.Time
		}{"older than the connection": {"ct-1", t0.Add(-time.Second)}, "other account": {"ct-0", t0.Add(time.Minute)}} {
			if ok, err := s.MarkProviderAccountDisconnected(ctx, got.ID, c.ct, c.at); err != nil || ok {
				t.Errorf("%s: changed=%v err=%v", name, ok, err)
			}
		}
		if ok, err := s.MarkProviderAccountDisconnected(ctx, got.ID, "ct-1", t0.Add(time.Minute)); err != nil || !ok {
			t.Fatalf("disconnect: changed=%v err=%v", ok, err)
		}
		if ok, _ := s.MarkProviderAccountDisconnected(ctx, got.ID, "ct-1", t0.Add(2*time.Minute)); ok {
			t.Error("second disconnect changed the row again")
		}
		got, _ = s.GetProviderAccount(ctx, m.ID, "stripe")
		if got.Connected() || !got.DisconnectedAt.Equal(t0.Add(time.Minute)) {
			t.Errorf("after disconnect: %+v", got)
		}
		connected, err := s.ConnectedProviderAccounts(ctx, "stripe")
		if err != nil || len(connected) != 0 {
			t.Errorf("connected on stripe after disconnect: %v %v", connected, err)
		}

		// Reconnecting replaces the account and clears the disconnection.
		if err := s.UpsertProviderAccount(ctx, row(m.ID, "stripe", "ct-2", t0.Add(time.Hour))); err != nil {
			t.Fatal(err)
		}
		list, err := s.ListProviderAccounts(ctx, m.ID)
		if err != nil || len(list) != 2 || list[0].ProviderID != "stripe" || list[1].ProviderID != "stripe-eu" {
			t.Fatalf("list: %+v %v", list, err)
		}
		if list[0].AccountIDEncrypted != "ct-2" || !list[0].Connected() || !list[0].ConnectedAt.Equal(t0.Add(time.Hour)) {
			t.Errorf("after reconnect: %+v", list[0])
		}
		connected, _ = s.ConnectedProviderAccounts(ctx, "stripe")
		if len(connected) != 1 || connected[0].MerchantID != m.ID {
			t.Errorf("connected on stripe after reconnect: %+v", connected)
		}
	})
}
