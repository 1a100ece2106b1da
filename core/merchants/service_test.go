package merchants_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/merchants"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/core/store/storetest"
)

func TestCreateMerchantValidation(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, s *store.Store) {
		svc := merchants.New(s)
		ctx := context.Background()
		cases := []struct {
			name string
			in   merchants.NewMerchant
			code string
		}{
			{"ok", merchants.NewMerchant{Name: "Acme", Plan: "pro", ContactEmail: "ops@acme.test", Domains: []string{"acme.test", "shop.acme.test"}}, ""},
			{"no name", merchants.NewMerchant{Plan: "pro", ContactEmail: "ops@acme.test", Domains: []string{"a.test"}}, "invalid_name"},
			{"bad plan", merchants.NewMerchant{Name: "A", Plan: "gold", ContactEmail: "ops@acme.test", Domains: []string{"a.test"}}, "invalid_plan"},
			{"bad email", merchants.NewMerchant{Name: "A", Plan: "free", ContactEmail: "not-an-email", Domains: []string{"a.test"}}, "invalid_email"},
			{"no domains", merchants.NewMerchant{Name: "A", Plan: "free", ContactEmail: "ops@acme.test"}, "invalid_domain"},
			{"upper-case domain", merchants.NewMerchant{Name: "A", Plan: "free", ContactEmail: "ops@acme.test", Domains: []string{"Acme.test"}}, "invalid_domain"},
			{"domain with scheme", merchants.NewMerchant{Name: "A", Plan: "free", ContactEmail: "ops@acme.test", Domains: []string{"https://acme.test"}}, "invalid_domain"},
			{"domain twice", merchants.NewMerchant{Name: "A", Plan: "free", ContactEmail: "ops@acme.test", Domains: []string{"a.test", "a.test"}}, "duplicate_domain"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				before, err := svc.ListMerchants(ctx, store.Page{})
				if err != nil {
					t.Fatal(err)
				}
				m, err := svc.CreateMerchant(ctx, tc.in)
				if tc.code == "" {
					if err != nil {
						t.Fatalf("CreateMerchant: %v", err)
					}
					if m.ID == 0 || len(m.Domains()) != len(tc.in.Domains) {
						t.Fatalf("merchant = %+v", m)
					}
					return
				}
				de, ok := domain.AsError(err)
				if !ok || de.Code != tc.code {
					t.Fatalf("err = %v, want code %s", err, tc.code)
				}
				after, _ := svc.ListMerchants(ctx, store.Page{})
				if len(after) != len(before) {
					t.Fatalf("a rejected merchant changed the store: %d → %d merchants", len(before), len(after))
				}
			})
		}
	})
}

func TestKeysAndAuthentication(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, s *store.Store) {
		svc := merchants.New(s)
		ctx := context.Background()
		m, err := svc.CreateMerchant(ctx, merchants.NewMerchant{Name: "Acme", Plan: "pro", ContactEmail: "ops@acme.test", Domains: []string{"acme.test"}})
		if err != nil {
			t.Fatal(err)
		}
		created, err := svc.CreateKey(ctx, merchants.NewKey{MerchantID: m.ID, Scopes: []string{"sessions:read"}})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(created.Secret, "sk_test_") || !strings.HasPrefix(created.Secret, created.Prefix) {
			t.Fatalf("key %q / prefix %q", created.Secret, created.Prefix)
		}
		if created.SecretHash == created.Secret || strings.Contains(created.SecretHash, created.Secret) {
			t.Fatal("secret stored in the clear")
		}
		p, err := svc.Authenticate(ctx, created.Secret)
		if err != nil {
			t.Fatalf("Authenticate: %v", err)
		}
		if p.Merchant.ID != m.ID || !p.Key.HasScope("sessions:read") || p.Key.HasScope("sessions:write") || p.Mode() != store.ModeTest {
			t.Fatalf("principal = %+v / %+v", p.Merchant, p.Key)
		}

		_, err = svc.CreateKey(ctx, merchants.NewKey{MerchantID: m.ID, Scopes: []string{"sessions:delete"}})
		if de, ok := domain.AsError(err); !ok || de.Code != "invalid_scope" {
			t.Fatalf("bad scope: %v", err)
		}
		_, err = svc.CreateKey(ctx, merchants.NewKey{MerchantID: 999999})
		if !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("key for missing merchant: %v", err)
		}

		if _, err := svc.RevokeKey(ctx, created.ID); err != nil {
			t.Fatal(err)
		}
		other, _ := svc.CreateKey(ctx, merchants.NewKey{MerchantID: m.ID, Mode: "live"})
		for _, tc := range []struct {
			name  string
			token string
			code  string
		}{
			{"revoked", created.Secret, "revoked_api_key"},
			{"malformed", "sk_test_short", "malformed_api_key"},
			{"wrong mode word", "sk_prod_" + strings.Repeat("a", 32), "malformed_api_key"},
			{"unknown", "sk_test_" + strings.Repeat("a", 32), "invalid_api_key"},
			{"live ok", other.Secret, ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := svc.Authenticate(ctx, tc.token)
				if tc.code == "" {
					if err != nil {
						t.Fatal(err)
					}
					return
				}
				de, ok := domain.AsError(err)
				if !ok || de.Code != tc.code || !errors.Is(err, domain.ErrUnauthorized) {
					t.Fatalf("err = %v, want %s", err, tc.code)
				}
				if strings.Contains(err.Error(), tc.token) {
					t.Fatal("error echoes the token")
				}
			})
		}
	})
}
