package merchants_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

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

// Authenticate returns the same merchant (sites in order) and key that the
// separate reads do, in one statement once last_used_at is fresh (on both
// the bun and the prepared-statement path), and keeps
// its refusals for revoked keys and suspended merchants.
func TestAuthenticateOneQuery(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, s *store.Store) {
		// Without the cache, so every change made behind the service's back
		// (as another process would) shows at once.
		svc := merchants.New(s, merchants.Options{AuthCacheTTL: -1})
		ctx := context.Background()
		m, err := svc.CreateMerchant(ctx, merchants.NewMerchant{Name: "Acme", Plan: "pro", ContactEmail: "ops@acme.test", Domains: []string{"b.acme.test", "a.acme.test"}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.AddSite(ctx, m.ID, "c.acme.test"); err != nil {
			t.Fatal(err)
		}
		bare, err := svc.CreateMerchant(ctx, merchants.NewMerchant{Name: "Bare", Plan: "free", ContactEmail: "ops@bare.test", Domains: []string{"bare.test"}})
		if err != nil {
			t.Fatal(err)
		}
		key, err := svc.CreateKey(ctx, merchants.NewKey{MerchantID: m.ID, Mode: "live", Scopes: []string{"me:read", "sessions:write"}})
		if err != nil {
			t.Fatal(err)
		}
		bareKey, err := svc.CreateKey(ctx, merchants.NewKey{MerchantID: bare.ID})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Authenticate(ctx, key.Secret); err != nil { // records last_used_at
			t.Fatal(err)
		}

		// Every statement becomes a span with tracing on: bun's through its
		// query hook, the hot ones (authentication) through the store's own.
		rec := tracetest.NewSpanRecorder()
		traced := storetest.ReopenWith(t, s, store.Options{Tracing: true,
			TracerProvider: sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))})
		opened := len(rec.Ended()) // Open's ping
		p, err := merchants.New(traced, merchants.Options{AuthCacheTTL: -1}).Authenticate(ctx, key.Secret)
		if err != nil {
			t.Fatal(err)
		}
		if spans := rec.Ended()[opened:]; len(spans) != 1 || spans[0].Name() != "select_api_key_merchant" {
			names := []string{}
			for _, sp := range spans {
				names = append(names, sp.Name())
			}
			t.Fatalf("Authenticate ran statements %q, want one (select_api_key_merchant)", names)
		}

		wantM, err := s.GetMerchant(ctx, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		wantK, err := s.GetAPIKey(ctx, key.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(p.Merchant, wantM) {
			t.Fatalf("merchant = %+v\nwant       %+v", p.Merchant, wantM)
		}
		if got := strings.Join(p.Merchant.Domains(), ","); got != "b.acme.test,a.acme.test,c.acme.test" {
			t.Fatalf("domains = %s", got)
		}
		if !reflect.DeepEqual(p.Key, wantK) || p.Key.LastUsedAt == nil {
			t.Fatalf("key = %+v\nwant  %+v", p.Key, wantK)
		}

		// A merchant whose only site is removed still authenticates, with no
		// domains (the LEFT JOIN's NULL row is not a site).
		if _, err := s.DB().NewDelete().Model((*store.Site)(nil)).Where("merchant_id = ?", bare.ID).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		pb, err := svc.Authenticate(ctx, bareKey.Secret)
		if err != nil || pb.Merchant.ID != bare.ID || len(pb.Merchant.Domains()) != 0 {
			t.Fatalf("siteless merchant: %+v, %v", pb, err)
		}

		if _, err := s.SetMerchantStatus(ctx, m.ID, store.MerchantSuspended); err != nil {
			t.Fatal(err)
		}
		_, err = svc.Authenticate(ctx, key.Secret)
		if de, ok := domain.AsError(err); !ok || de.Code != "merchant_suspended" || !errors.Is(err, domain.ErrForbidden) {
			t.Fatalf("suspended merchant: %v", err)
		}
		if _, err := svc.RevokeKey(ctx, key.ID); err != nil {
			t.Fatal(err)
		}
		_, err = svc.Authenticate(ctx, key.Secret)
		if de, ok := domain.AsError(err); !ok || de.Code != "revoked_api_key" {
			t.Fatalf("revoked key of a suspended merchant: %v", err)
		}
	})
}

// TestAuthenticateCache checks the authentication cache: a repeated key
// costs no query; changes through the service apply at once; changes
// behind its back (another process) apply once the TTL has passed. The
// cache runs on an injected clock, so what it asserts does not depend on
// how fast the machine is.
func TestAuthenticateCache(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		const ttl = 300 * time.Millisecond
		clock := &testClock{t: time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)}
		rec := tracetest.NewSpanRecorder()
		traced := storetest.ReopenWith(t, s, store.Options{Tracing: true,
			TracerProvider: sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))})
		svc := merchants.New(traced, merchants.Options{AuthCacheTTL: ttl, Clock: clock.Now})
		m, err := svc.CreateMerchant(ctx, merchants.NewMerchant{Name: "Acme", Plan: "pro", ContactEmail: "ops@acme.test", Domains: []string{"acme.test"}})
		if err != nil {
			t.Fatal(err)
		}
		key, err := svc.CreateKey(ctx, merchants.NewKey{MerchantID: m.ID})
		if err != nil {
			t.Fatal(err)
		}
		auth := func() (*merchants.Principal, int, error) {
			t.Helper()
			before := len(rec.Ended())
			p, err := svc.Authenticate(ctx, key.Secret)
			return p, len(rec.Ended()) - before, err
		}

		first, n, err := auth()
		if err != nil || n == 0 {
			t.Fatalf("first authentication: %v after %d statements", err, n)
		}
		clock.Advance(ttl - time.Nanosecond)
		again, n, err := auth()
		if err != nil || n != 0 || again != first {
			t.Fatalf("cached authentication just inside the TTL: %v after %d statements (same principal: %v)", err, n, again == first)
		}
		clock.Advance(time.Nanosecond)
		if p, n, err := auth(); err != nil || n == 0 || p == first {
			t.Fatalf("authentication once the TTL passed: %v after %d statements (same principal: %v), want a fresh lookup", err, n, p == first)
		}

		// A site added through the service is seen at once.
		if _, err := svc.AddSite(ctx, m.ID, "b.acme.test"); err != nil {
			t.Fatal(err)
		}
		p, _, err := auth()
		if err != nil || len(p.Merchant.Domains()) != 2 {
			t.Fatalf("after AddSite: %v, %v", p, err)
		}

		// Suspended behind the service's back: the cached authentication
		// stands for the rest of its TTL, and is refused once it passed.
		if _, err := s.SetMerchantStatus(ctx, m.ID, store.MerchantSuspended); err != nil {
			t.Fatal(err)
		}
		clock.Advance(ttl - time.Nanosecond)
		if got, n, err := auth(); err != nil || n != 0 || got != p {
			t.Fatalf("within the TTL the cached authentication stands: %v after %d statements (same principal: %v)", err, n, got == p)
		}
		clock.Advance(time.Nanosecond)
		if _, _, err := auth(); !errors.Is(err, domain.ErrForbidden) {
			t.Fatalf("after the TTL: %v, want merchant_suspended", err)
		}

		// A refusal is not cached: reactivated, the key works at once.
		if _, err := s.SetMerchantStatus(ctx, m.ID, store.MerchantActive); err != nil {
			t.Fatal(err)
		}
		if _, _, err := auth(); err != nil {
			t.Fatalf("right after reactivation: %v", err)
		}
		// Revoked through the service: refused at once, although the
		// authentication just above is cached.
		if _, err := svc.RevokeKey(ctx, key.ID); err != nil {
			t.Fatal(err)
		}
		if _, _, err := auth(); !errors.Is(err, domain.ErrUnauthorized) {
			t.Fatalf("right after RevokeKey: %v, want revoked_api_key", err)
		}
	})
}

// testClock is a clock that moves only when told.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *testClock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// On PostgreSQL a key revoked or a merchant suspended through one
// instance's service is refused by another instance's cache at once (its
// TTL here is a minute), through LISTEN/NOTIFY; reactivation too.
func TestAuthenticationChangesReachOtherInstances(t *testing.T) {
	storetest.ForPostgres(t, func(t *testing.T, s *store.Store) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		one := merchants.New(s, merchants.Options{AuthCacheTTL: time.Minute})
		twoStore := storetest.Reopen(t, s)
		two := merchants.New(twoStore, merchants.Options{AuthCacheTTL: time.Minute})
		done := make(chan error, 1)
		go func() { done <- two.ListenForChanges(ctx) }()
		defer func() { cancel(); <-done }()

		m, err := one.CreateMerchant(ctx, merchants.NewMerchant{Name: "Acme", Plan: "pro", ContactEmail: "ops@acme.test", Domains: []string{"acme.test"}})
		if err != nil {
			t.Fatal(err)
		}
		key, err := one.CreateKey(ctx, merchants.NewKey{MerchantID: m.ID})
		if err != nil {
			t.Fatal(err)
		}
		// waitFor polls instance two (whose cache holds the key for a
		// minute) until want holds, for at most a second.
		waitFor := func(what string, want func(error) bool) {
			t.Helper()
			deadline := time.Now().Add(time.Second)
			for {
				_, err := two.Authenticate(ctx, key.Secret)
				if want(err) {
					return
				}
				if time.Now().After(deadline) {
					t.Fatalf("%s: instance two still answers %v after 1s", what, err)
				}
				time.Sleep(10 * time.Millisecond)
			}
		}
		ok := func(err error) bool { return err == nil }
		waitFor("warm the cache", ok)

		if _, err := one.SetMerchantStatus(ctx, m.ID, store.MerchantSuspended); err != nil {
			t.Fatal(err)
		}
		waitFor("suspension", func(err error) bool { return errors.Is(err, domain.ErrForbidden) })
		if _, err := one.SetMerchantStatus(ctx, m.ID, store.MerchantActive); err != nil {
			t.Fatal(err)
		}
		waitFor("reactivation", ok)
		if _, err := one.RevokeKey(ctx, key.ID); err != nil {
			t.Fatal(err)
		}
		waitFor("revocation", func(err error) bool { return errors.Is(err, domain.ErrUnauthorized) })
	})
}
