package accounts_test

import (
	"context"
	"crypto/rand"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/core/accounts"
	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/secrets"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/core/store/storetest"
	"github.com/switchyard/switchyard/sdk/provider"
)

func ctxT(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func newKey(t *testing.T, id string) secrets.Key {
	t.Helper()
	k := secrets.Key{ID: id, Key: make([]byte, 32)}
	if _, err := rand.Read(k.Key); err != nil {
		t.Fatal(err)
	}
	return k
}

func keyring(t *testing.T, keys ...secrets.Key) *secrets.Keyring {
	t.Helper()
	kr, err := secrets.NewKeyring(keys)
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

func merchant(t *testing.T, s *store.Store, name string) int64 {
	t.Helper()
	m, err := s.CreateMerchant(ctxT(t), store.NewMerchant{Name: name, Plan: store.PlanPro, Domains: []string{strings.ToLower(name) + ".test"}})
	if err != nil {
		t.Fatal(err)
	}
	return m.ID
}

func connected(merchant, account string, at time.Time) provider.Event {
	return provider.Event{Type: provider.AccountConnected, ProviderEventID: "c:" + merchant + ":" + account, OccurredAt: at,
		Data: map[string]string{"merchant_id": merchant, "account_id": account, "livemode": "false"}}
}

func disconnected(merchant, account string, at time.Time) provider.Event {
	d := map[string]string{"account_id": account}
	if merchant != "" {
		d["merchant_id"] = merchant
	}
	return provider.Event{Type: provider.AccountDisconnected, ProviderEventID: "d:" + account, OccurredAt: at, Data: d}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestConnectDisconnect(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, s *store.Store) {
		ctx := ctxT(t)
		svc, err := accounts.New(accounts.Deps{Store: s, Keyring: keyring(t, newKey(t, "k1"))})
		if err != nil {
			t.Fatal(err)
		}
		m1, m2 := merchant(t, s, "One"), merchant(t, s, "Two")
		t0 := time.Now().UTC().Truncate(time.Second)

		if got, err := svc.Account(ctx, m1, "stripe"); err != nil || got != "" {
			t.Fatalf("before connect: %q %v", got, err)
		}
		if err := svc.ApplyHTTPEvents(ctx, "stripe", []provider.Event{connected(itoa(m1), "acct_1MerchantOne0001", t0)}); err != nil {
			t.Fatal(err)
		}
		if err := svc.ApplyHTTPEvents(ctx, "stripe", []provider.Event{connected(itoa(m2), "acct_1MerchantTwo0002", t0)}); err != nil {
			t.Fatal(err)
		}
		if got, err := svc.Account(ctx, m1, "stripe"); err != nil || got != "acct_1MerchantOne0001" {
			t.Fatalf("account: %q %v", got, err)
		}
		if got, _ := svc.Account(ctx, m1, "stripe-eu"); got != "" {
			t.Errorf("another instance sees the account: %q", got)
		}

		// At rest only ciphertext, bound to its row: copied to another
		// merchant's row it does not decrypt.
		var raw []string
		if err := s.DB().NewSelect().Table(store.ProviderAccountsTable).Column(store.ProviderAccountsField).Scan(ctx, &raw); err != nil {
			t.Fatal(err)
		}
		for _, v := range raw {
			if strings.Contains(v, "acct_") || !strings.HasPrefix(v, "v1:k1:") {
				t.Errorf("stored value %q is not keyring ciphertext", v)
			}
		}
		row1, _ := s.GetProviderAccount(ctx, m1, "stripe")
		if _, err := s.DB().NewUpdate().Table(store.ProviderAccountsTable).Set("account_id_encrypted = ?", row1.AccountIDEncrypted).
			Where("id = ?", store.ProviderAccountID(m2, "stripe")).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if got, err := svc.Account(ctx, m2, "stripe"); err == nil {
			t.Errorf("ciphertext moved to another merchant decrypted to %q", got)
		}
		if err := svc.ApplyHTTPEvents(ctx, "stripe", []provider.Event{connected(itoa(m2), "acct_1MerchantTwo0002", t0)}); err != nil {
			t.Fatal(err)
		}

		list, err := svc.List(ctx, m1)
		if err != nil || len(list) != 1 || list[0].Account != "acct_****0001" || list[0].Status != accounts.StatusConnected || list[0].ProviderID != "stripe" {
			t.Fatalf("list: %+v %v", list, err)
		}

		// Upstream revocation names only the account: it finds merchant 1
		// and leaves merchant 2 alone.
		if err := svc.ApplyHTTPEvents(ctx, "stripe", []provider.Event{disconnected("", "acct_1MerchantOne0001", t0.Add(time.Minute))}); err != nil {
			t.Fatal(err)
		}
		if got, _ := svc.Account(ctx, m1, "stripe"); got != "" {
			t.Errorf("after disconnect: %q", got)
		}
		if got, _ := svc.Account(ctx, m2, "stripe"); got != "acct_1MerchantTwo0002" {
			t.Errorf("other merchant after disconnect: %q", got)
		}
		list, _ = svc.List(ctx, m1)
		if len(list) != 1 || list[0].Status != accounts.StatusDisconnected || list[0].DisconnectedAt == nil {
			t.Errorf("list after disconnect: %+v", list)
		}
		// A disconnect naming the merchant but another account is a no-op.
		if err := svc.ApplyHTTPEvents(ctx, "stripe", []provider.Event{disconnected(itoa(m2), "acct_1Other", t0.Add(time.Minute))}); err != nil {
			t.Fatal(err)
		}
		if got, _ := svc.Account(ctx, m2, "stripe"); got != "acct_1MerchantTwo0002" {
			t.Errorf("disconnect of another account removed %q", got)
		}

		// Reconnect after disconnect.
		if err := svc.ApplyHTTPEvents(ctx, "stripe", []provider.Event{connected(itoa(m1), "acct_1MerchantOneNew", t0.Add(2*time.Minute))}); err != nil {
			t.Fatal(err)
		}
		if got, _ := svc.Account(ctx, m1, "stripe"); got != "acct_1MerchantOneNew" {
			t.Errorf("after reconnect: %q", got)
		}
	})
}

func TestRefusedEventsStoreNothing(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, s *store.Store) {
		ctx := ctxT(t)
		svc, _ := accounts.New(accounts.Deps{Store: s, Keyring: keyring(t, newKey(t, "k1"))})
		m := merchant(t, s, "Shop")
		now := time.Now()
		good := connected(itoa(m), "acct_1Good", now)
		cases := []struct {
			name   string
			events []provider.Event
			kind   error
		}{
			{"unknown merchant", []provider.Event{connected("999999", "acct_1X", now)}, domain.ErrNotFound},
			{"merchant id not a number", []provider.Event{connected("shop", "acct_1X", now)}, domain.ErrInvalid},
			{"no account", []provider.Event{connected(itoa(m), "", now)}, domain.ErrInvalid},
			{"bad livemode", []provider.Event{func() provider.Event {
				e := good
				e.Data = map[string]string{"merchant_id": itoa(m), "account_id": "acct_1", "livemode": "maybe"}
				return e
			}()}, domain.ErrInvalid},
			{"payment event from an http route", []provider.Event{good, {Type: provider.PaymentSucceeded, ProviderEventID: "e"}}, domain.ErrInvalid},
			{"good then unknown merchant", []provider.Event{good, connected("999999", "acct_1X", now)}, domain.ErrNotFound},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				err := svc.ApplyHTTPEvents(ctx, "stripe", c.events)
				if !errors.Is(err, c.kind) {
					t.Fatalf("err %v, want %v", err, c.kind)
				}
				if got, _ := svc.Account(ctx, m, "stripe"); got != "" {
					t.Errorf("stored %q despite the refusal", got)
				}
			})
		}
		noKeys, _ := accounts.New(accounts.Deps{Store: s, Keyring: (*secrets.Keyring)(nil)})
		if err := noKeys.ApplyHTTPEvents(ctx, "stripe", []provider.Event{good}); err == nil || !strings.Contains(err.Error(), "secrets.keys") {
			t.Errorf("without a keyring: %v", err)
		}
	})
}

func TestRewrapCoversAccounts(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, s *store.Store) {
		ctx := ctxT(t)
		old := newKey(t, "old")
		svc, _ := accounts.New(accounts.Deps{Store: s, Keyring: keyring(t, old)})
		m := merchant(t, s, "Wrap")
		if err := svc.ApplyHTTPEvents(ctx, "stripe", []provider.Event{connected(itoa(m), "acct_1Rewrapped", time.Now())}); err != nil {
			t.Fatal(err)
		}
		fresh := newKey(t, "new")
		report, err := secrets.RewrapColumns(ctx, s.DB(), keyring(t, fresh, old), accounts.EncryptedColumns())
		if err != nil || report.Rewrapped() != 1 {
			t.Fatalf("rewrap: %+v %v", report, err)
		}
		row, _ := s.GetProviderAccount(ctx, m, "stripe")
		if id, _ := secrets.KeyID(row.AccountIDEncrypted); id != "new" {
			t.Errorf("key id after rewrap %q", id)
		}
		// The old key can be dropped now.
		svcNew, _ := accounts.New(accounts.Deps{Store: s, Keyring: keyring(t, fresh)})
		if got, err := svcNew.Account(ctx, m, "stripe"); err != nil || got != "acct_1Rewrapped" {
			t.Errorf("after rewrap with only the new key: %q %v", got, err)
		}
	})
}
