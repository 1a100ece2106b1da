package store_test

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river/rivermigrate"
	"github.com/uptrace/bun"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/core/store/storetest"
	"github.com/switchyard/switchyard/core/telemetry/telemetrytest"
)

func ctxT(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func wantDomainError(t *testing.T, err error, kind error, code string) {
	t.Helper()
	if err == nil {
		t.Fatalf("want %v error %q, got nil", kind, code)
	}
	if !errors.Is(err, kind) {
		t.Fatalf("want errors.Is(err, %v), got %v", kind, err)
	}
	de, ok := domain.AsError(err)
	if !ok {
		t.Fatalf("want *domain.Error, got %T: %v", err, err)
	}
	if code != "" && de.Code != code {
		t.Fatalf("want code %q, got %q (%v)", code, de.Code, err)
	}
}

func TestMigrations(t *testing.T) {
	storetest.ForEachDBUnmigrated(t, func(t *testing.T, s *store.Store) {
		ctx := ctxT(t)
		current, err := s.MigrationsCurrent(ctx)
		if err != nil {
			t.Fatalf("MigrationsCurrent before migrate: %v", err)
		}
		if current {
			t.Fatal("fresh database reported current migrations")
		}
		pending, err := s.PendingMigrations(ctx)
		if err != nil || len(pending) == 0 {
			t.Fatalf("PendingMigrations before migrate = %v, %v; want some", pending, err)
		}

		for i := range 3 { // idempotent: later runs are no-ops, not errors
			applied, err := s.MigrateApplied(ctx)
			if err != nil {
				t.Fatalf("Migrate run %d: %v", i+1, err)
			}
			// The first run reports what it applied; later ones nothing.
			var names []string
			for _, m := range applied.Switchyard {
				names = append(names, m.Name)
			}
			if i == 0 && (!slices.Equal(names, pending) || len(applied.River) == 0) {
				t.Fatalf("first run applied %+v, want %v and River's", applied, pending)
			}
			if i > 0 && !applied.Empty() {
				t.Fatalf("run %d applied %+v again", i+1, applied)
			}
			current, err := s.MigrationsCurrent(ctx)
			if err != nil || !current {
				t.Fatalf("after Migrate run %d: current=%v err=%v", i+1, current, err)
			}
		}
		pending, err = s.PendingMigrations(ctx)
		if err != nil || len(pending) != 0 {
			t.Fatalf("PendingMigrations after migrate = %v, %v; want none", pending, err)
		}
		// River's tables exist and are usable on this connection.
		var n int
		if err := s.DB().QueryRowContext(ctx, "SELECT count(*) FROM river_job").Scan(&n); err != nil {
			t.Fatalf("river_job not installed: %v", err)
		}
	})
}

func TestCreateMerchant(t *testing.T) {
	tests := []struct {
		name     string
		in       store.NewMerchant
		wantKind error
		wantCode string
	}{
		{
			name: "with two sites",
			in:   store.NewMerchant{Name: "Acme", Plan: store.PlanPro, ContactEmail: "ops@acme.test", Domains: []string{"acme.test", "shop.acme.test"}},
		},
		{
			name: "without sites",
			in:   store.NewMerchant{Name: "Bare", Plan: store.PlanFree, ContactEmail: "b@b.test"},
		},
		{
			name:     "unknown plan",
			in:       store.NewMerchant{Name: "X", Plan: "gold", Domains: []string{"x.test"}},
			wantKind: domain.ErrInvalid, wantCode: "invalid_plan",
		},
		{
			name:     "empty name",
			in:       store.NewMerchant{Name: " ", Plan: store.PlanFree},
			wantKind: domain.ErrInvalid, wantCode: "invalid_name",
		},
		{
			name:     "duplicate domain in request",
			in:       store.NewMerchant{Name: "Dup", Plan: store.PlanStarter, Domains: []string{"d.test", "d.test"}},
			wantKind: domain.ErrConflict, wantCode: "duplicate_domain",
		},
	}
	storetest.ForEachDB(t, func(t *testing.T, s *store.Store) {
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				ctx := ctxT(t)
				before, err := s.ListMerchants(ctx, store.Page{})
				if err != nil {
					t.Fatal(err)
				}
				m, err := s.CreateMerchant(ctx, tc.in)
				if tc.wantKind != nil {
					wantDomainError(t, err, tc.wantKind, tc.wantCode)
					after, err := s.ListMerchants(ctx, store.Page{})
					if err != nil {
						t.Fatal(err)
					}
					if len(after) != len(before) {
						t.Fatalf("rejected create changed merchants: %d -> %d", len(before), len(after))
					}
					return
				}
				if err != nil {
					t.Fatalf("CreateMerchant: %v", err)
				}
				if m.ID <= 0 || m.Status != store.MerchantActive {
					t.Fatalf("created merchant = %+v", m)
				}
				got, err := s.GetMerchant(ctx, m.ID)
				if err != nil {
					t.Fatalf("GetMerchant: %v", err)
				}
				if got.Name != tc.in.Name || got.Plan != tc.in.Plan || got.ContactEmail != tc.in.ContactEmail {
					t.Fatalf("read back %+v, want fields of %+v", got, tc.in)
				}
				if _, off := got.CreatedAt.Zone(); !got.CreatedAt.Equal(m.CreatedAt) || off != 0 {
					t.Fatalf("created_at round trip: wrote %v, read %v", m.CreatedAt, got.CreatedAt)
				}
				if strings.Join(got.Domains(), ",") != strings.Join(tc.in.Domains, ",") {
					t.Fatalf("domains = %v, want %v", got.Domains(), tc.in.Domains)
				}
			})
		}
	})
}

func TestSites(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, s *store.Store) {
		ctx := ctxT(t)
		a, err := s.CreateMerchant(ctx, store.NewMerchant{Name: "A", Plan: store.PlanPro, Domains: []string{"a.test"}})
		if err != nil {
			t.Fatal(err)
		}
		b, err := s.CreateMerchant(ctx, store.NewMerchant{Name: "B", Plan: store.PlanPro})
		if err != nil {
			t.Fatal(err)
		}

		tests := []struct {
			name       string
			merchantID int64
			domain     string
			wantKind   error
			wantCode   string
		}{
			{"new domain", a.ID, "www.a.test", nil, ""},
			{"duplicate domain", a.ID, "a.test", domain.ErrConflict, "duplicate_domain"},
			{"case differs is another domain", a.ID, "A.test", nil, ""},
			{"same domain other merchant", b.ID, "a.test", nil, ""},
			{"unknown merchant", 999999, "z.test", domain.ErrNotFound, "resource_missing"},
			{"empty domain", a.ID, "", domain.ErrInvalid, "invalid_domain"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				var before []*store.Site
				if tc.wantKind != nil && tc.merchantID == a.ID {
					before, _ = s.ListSites(ctx, a.ID)
				}
				site, err := s.AddSite(ctx, tc.merchantID, tc.domain)
				if tc.wantKind != nil {
					wantDomainError(t, err, tc.wantKind, tc.wantCode)
					if tc.merchantID == a.ID {
						after, _ := s.ListSites(ctx, a.ID)
						if len(after) != len(before) {
							t.Fatalf("rejected AddSite changed sites: %d -> %d", len(before), len(after))
						}
					}
					return
				}
				if err != nil {
					t.Fatalf("AddSite: %v", err)
				}
				if site.ID <= 0 || site.MerchantID != tc.merchantID || site.Domain != tc.domain {
					t.Fatalf("site = %+v", site)
				}
			})
		}

		sites, err := s.ListSites(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, st := range sites {
			got = append(got, st.Domain)
		}
		if want := "a.test,www.a.test,A.test"; strings.Join(got, ",") != want {
			t.Fatalf("ListSites(a) = %v, want %s", got, want)
		}
		_, err = s.ListSites(ctx, 424242)
		wantDomainError(t, err, domain.ErrNotFound, "")
	})
}

func TestGetMerchantNotFound(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, s *store.Store) {
		_, err := s.GetMerchant(ctxT(t), 12345)
		wantDomainError(t, err, domain.ErrNotFound, "resource_missing")
	})
}

func TestListMerchantsPage(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, s *store.Store) {
		ctx := ctxT(t)
		var ids []int64
		for _, name := range []string{"m1", "m2", "m3"} {
			m, err := s.CreateMerchant(ctx, store.NewMerchant{Name: name, Plan: store.PlanFree, Domains: []string{name + ".test"}})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, m.ID)
		}
		tests := []struct {
			name string
			page store.Page
			want []int64
		}{
			{"all", store.Page{}, ids},
			{"limit", store.Page{Limit: 2}, ids[:2]},
			{"after", store.Page{AfterID: ids[0]}, ids[1:]},
			{"after and limit", store.Page{AfterID: ids[0], Limit: 1}, ids[1:2]},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				ms, err := s.ListMerchants(ctx, tc.page)
				if err != nil {
					t.Fatal(err)
				}
				var got []int64
				for _, m := range ms {
					got = append(got, m.ID)
					if len(m.Sites) != 1 || m.Sites[0].Domain != m.Name+".test" {
						t.Fatalf("merchant %d sites = %+v", m.ID, m.Sites)
					}
				}
				if len(got) != len(tc.want) {
					t.Fatalf("ids = %v, want %v", got, tc.want)
				}
				for i := range got {
					if got[i] != tc.want[i] {
						t.Fatalf("ids = %v, want %v", got, tc.want)
					}
				}
			})
		}
	})
}

func TestAPIKeys(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, s *store.Store) {
		ctx := ctxT(t)
		m, err := s.CreateMerchant(ctx, store.NewMerchant{Name: "K", Plan: store.PlanPro, Domains: []string{"k.test"}})
		if err != nil {
			t.Fatal(err)
		}
		secret := "sk_test_AbCdEfGhIjKlMnOpQrStUvWx"
		in := store.NewAPIKey{
			MerchantID: m.ID,
			Prefix:     secret[:12],
			SecretHash: store.HashAPIKey(secret),
			Scopes:     []string{"sessions:write", "sessions:read"},
			Mode:       store.ModeTest,
			Name:       "ci",
		}
		k, err := s.CreateAPIKey(ctx, in)
		if err != nil {
			t.Fatalf("CreateAPIKey: %v", err)
		}

		t.Run("lookup by hash", func(t *testing.T) {
			got, err := s.GetAPIKeyByHash(ctx, store.HashAPIKey(secret))
			if err != nil {
				t.Fatal(err)
			}
			if got.ID != k.ID || got.MerchantID != m.ID || got.Prefix != "sk_test_AbCd" || got.Mode != store.ModeTest {
				t.Fatalf("got %+v", got)
			}
			if !got.HasScope("sessions:write") || !got.HasScope("sessions:read") || got.HasScope("me:read") {
				t.Fatalf("scopes = %v", got.Scopes)
			}
			if got.Revoked() || got.LastUsedAt != nil {
				t.Fatalf("new key revoked=%v last_used=%v", got.Revoked(), got.LastUsedAt)
			}
		})

		rejects := []struct {
			name     string
			mutate   func(*store.NewAPIKey)
			wantKind error
			wantCode string
		}{
			{"duplicate prefix", func(k *store.NewAPIKey) { k.SecretHash = store.HashAPIKey("other") }, domain.ErrConflict, "duplicate_api_key"},
			{"duplicate hash", func(k *store.NewAPIKey) { k.Prefix = "sk_test_Zzzz" }, domain.ErrConflict, "duplicate_api_key"},
			{"bad mode", func(k *store.NewAPIKey) { k.Mode = "prod" }, domain.ErrInvalid, "invalid_mode"},
			{"unknown merchant", func(k *store.NewAPIKey) { k.MerchantID = 999999 }, domain.ErrNotFound, "resource_missing"},
		}
		for _, tc := range rejects {
			t.Run(tc.name, func(t *testing.T) {
				bad := in
				tc.mutate(&bad)
				_, err := s.CreateAPIKey(ctx, bad)
				wantDomainError(t, err, tc.wantKind, tc.wantCode)
				keys, err := s.ListAPIKeys(ctx, m.ID)
				if err != nil || len(keys) != 1 {
					t.Fatalf("keys after rejected create = %d, %v; want 1", len(keys), err)
				}
			})
		}

		t.Run("unknown hash", func(t *testing.T) {
			_, err := s.GetAPIKeyByHash(ctx, store.HashAPIKey("sk_test_nope"))
			wantDomainError(t, err, domain.ErrNotFound, "resource_missing")
		})

		t.Run("touch", func(t *testing.T) {
			at := time.Date(2026, 11, 22, 1, 2, 3, 456789000, time.UTC)
			if err := s.TouchAPIKey(ctx, k.ID, at); err != nil {
				t.Fatal(err)
			}
			got, err := s.GetAPIKey(ctx, k.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.LastUsedAt == nil || !got.LastUsedAt.Equal(at) {
				t.Fatalf("last_used_at = %v, want %v", got.LastUsedAt, at)
			}
		})

		t.Run("revoke", func(t *testing.T) {
			r1, err := s.RevokeAPIKey(ctx, k.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !r1.Revoked() {
				t.Fatal("key not revoked")
			}
			r2, err := s.RevokeAPIKey(ctx, k.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !r2.RevokedAt.Equal(*r1.RevokedAt) {
				t.Fatalf("second revoke moved revoked_at: %v -> %v", r1.RevokedAt, r2.RevokedAt)
			}
			byHash, err := s.GetAPIKeyByHash(ctx, store.HashAPIKey(secret))
			if err != nil || !byHash.Revoked() {
				t.Fatalf("lookup after revoke: %+v, %v", byHash, err)
			}
			_, err = s.RevokeAPIKey(ctx, 999999)
			wantDomainError(t, err, domain.ErrNotFound, "resource_missing")
		})

		t.Run("list", func(t *testing.T) {
			keys, err := s.ListAPIKeys(ctx, m.ID)
			if err != nil || len(keys) != 1 || keys[0].ID != k.ID {
				t.Fatalf("ListAPIKeys = %+v, %v", keys, err)
			}
			_, err = s.ListAPIKeys(ctx, 999999)
			wantDomainError(t, err, domain.ErrNotFound, "")
		})
	})
}

func TestRunInTxRollsBack(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, s *store.Store) {
		ctx := ctxT(t)
		boom := errors.New("boom")
		err := s.RunInTx(ctx, func(ctx context.Context, tx bun.Tx) error {
			if _, err := store.NewRepo(tx).CreateMerchant(ctx, store.NewMerchant{Name: "T", Plan: store.PlanFree, Domains: []string{"t.test"}}); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("RunInTx err = %v, want boom", err)
		}
		ms, err := s.ListMerchants(ctx, store.Page{})
		if err != nil || len(ms) != 0 {
			t.Fatalf("merchants after rollback = %d, %v", len(ms), err)
		}
	})
}

func TestOpenErrors(t *testing.T) {
	tests := []struct {
		name    string
		dsn     string
		want    string // substring of the error
		secrets []string
	}{
		{"empty", "", "empty", nil},
		{"unknown scheme", "mysql://root:hunter2@db/x", `scheme "mysql"`, []string{"hunter2"}},
		{"no scheme", "var/switchyard.db", "no scheme", nil},
		{"empty sqlite path", "sqlite:", "path is empty", nil},
		{"sqlite query", "sqlite:x.db?mode=memory", "plain file path", nil},
		{"bad postgres port", "postgres://u:hunter2@127.0.0.1:notaport/db", "not a valid postgres url", []string{"hunter2"}},
		{"unreachable postgres", "postgres://u:hunter2@127.0.0.1:1/db?sslmode=disable", "cannot reach postgres database postgres://u:xxxxx@127.0.0.1:1/db", []string{"hunter2"}},
		{"bad sslmode", "postgres://u:hunter2@127.0.0.1:5432/db?sslmode=bogus", "sslmode is invalid", []string{"hunter2"}},
		{"sqlite dir is a file", "sqlite:" + filepath.Join("store_test.go", "x.db"), "create directory", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := store.Open(context.Background(), tc.dsn, store.Options{ConnectTimeout: 2 * time.Second})
			if err == nil {
				_ = s.Close()
				t.Fatalf("Open(%q) succeeded", tc.dsn)
			}
			if strings.Contains(tc.want, "cannot reach") && !errors.Is(err, domain.ErrUnavailable) {
				t.Fatalf("unreachable database error %v is not domain.ErrUnavailable", err)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error spans lines: %q", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not mention %q", err, tc.want)
			}
			for _, secret := range tc.secrets {
				if strings.Contains(err.Error(), secret) {
					t.Fatalf("error leaks password: %q", err)
				}
			}
		})
	}
}

func TestOpenSQLitePragmas(t *testing.T) {
	tests := []struct {
		name        string
		opts        store.Options
		wantTimeout int
	}{
		{"defaults", store.Options{}, 5000},
		{"custom busy timeout", store.Options{BusyTimeout: 1500 * time.Millisecond}, 1500},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// The parent directories do not exist yet: Open creates them.
			path := filepath.Join(t.TempDir(), "nested", "dir", "switchyard.db")
			s, err := store.Open(context.Background(), "sqlite:"+path, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if s.Dialect() != store.DialectSQLite || s.String() != "sqlite:"+path {
				t.Fatalf("dialect %s, display %s", s.Dialect(), s)
			}
			var fk, timeout int
			var journal string
			db := s.DB()
			if err := db.QueryRow("PRAGMA foreign_keys").Scan(&fk); err != nil {
				t.Fatal(err)
			}
			if err := db.QueryRow("PRAGMA journal_mode").Scan(&journal); err != nil {
				t.Fatal(err)
			}
			if err := db.QueryRow("PRAGMA busy_timeout").Scan(&timeout); err != nil {
				t.Fatal(err)
			}
			var synchronous int
			if err := db.QueryRow("PRAGMA synchronous").Scan(&synchronous); err != nil {
				t.Fatal(err)
			}
			// 2 is FULL: commits reach the disk before they return.
			if fk != 1 || journal != "wal" || timeout != tc.wantTimeout || synchronous != 2 {
				t.Fatalf("pragmas foreign_keys=%d journal_mode=%s busy_timeout=%d synchronous=%d", fk, journal, timeout, synchronous)
			}
		})
	}
}

func TestMigrationsCurrentCoversRiver(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, s *store.Store) {
		ctx := ctxT(t)
		rm, err := rivermigrate.New(s.RiverDriver(), &rivermigrate.Config{Schema: s.Schema(), Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := rm.Migrate(ctx, rivermigrate.DirectionDown, &rivermigrate.MigrateOpts{MaxSteps: 1}); err != nil {
			t.Fatalf("river down one step: %v", err)
		}
		current, err := s.MigrationsCurrent(ctx)
		if err != nil || current {
			t.Fatalf("with River one migration behind: current=%v err=%v, want false", current, err)
		}
		if err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		current, err = s.MigrationsCurrent(ctx)
		if err != nil || !current {
			t.Fatalf("after Migrate: current=%v err=%v", current, err)
		}
	})
}

func TestTracingHook(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	s, err := store.Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "t.db"),
		store.Options{Tracing: true, TracerProvider: tp})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.DB().NewSelect().ColumnExpr("1").Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(rec.Ended()) == 0 {
		t.Fatal("no span recorded for a query with Tracing on")
	}
}

func TestConcurrentMigrate(t *testing.T) {
	storetest.ForPostgres(t, func(t *testing.T, _ *store.Store) {
		// Several instances starting at once on a new schema all succeed.
		fresh := storetest.PostgresUnmigrated(t)
		stores := []*store.Store{fresh, storetest.Reopen(t, fresh), storetest.Reopen(t, fresh)}
		ctx := ctxT(t)
		errs := make(chan error, len(stores))
		for _, st := range stores {
			go func() { errs <- st.Migrate(ctx) }()
		}
		for range stores {
			if err := <-errs; err != nil {
				t.Fatalf("concurrent Migrate: %v", err)
			}
		}
		ok, err := fresh.MigrationsCurrent(ctx)
		if err != nil || !ok {
			t.Fatalf("MigrationsCurrent = %v, %v", ok, err)
		}
	})
}

// TestQueryMetrics: with a MeterProvider every bun query is timed in
// seconds as db.client.operation.duration, by system and operation, with
// an error type for failures; bunotel's millisecond histogram is not
// exported.
func TestQueryMetrics(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, base *store.Store) {
		m := telemetrytest.New(t)
		s := storetest.ReopenWith(t, base, store.Options{Tracing: true, MeterProvider: m.Provider()})
		ctx := ctxT(t)
		system := "sqlite"
		if s.Dialect() == store.DialectPostgres {
			system = "postgresql"
		}
		for range 3 {
			if _, err := s.ListMerchants(ctx, store.Page{Limit: 10}); err != nil {
				t.Fatal(err)
			}
		}
		name := "db.client.operation.duration"
		sys := attribute.String("db.system.name", system)
		if n, ok := m.Value(name, sys, attribute.String("db.operation.name", "SELECT")); !ok || n < 3 {
			t.Fatalf("%s{%s, SELECT} count = %v, %v; want at least 3", name, system, n, ok)
		}
		_, err := s.DB().NewRaw("SELECT * FROM no_such_table").Exec(ctx)
		if err == nil {
			t.Fatal("query of a missing table succeeded")
		}
		if n, ok := m.Value(name, sys, attribute.String("db.operation.name", "SELECT"), attribute.String("error.type", "other")); !ok || n != 1 {
			t.Fatalf("failed statement count = %v, %v", n, ok)
		}
		if _, ok := m.Value("go.sql.query_timing"); ok {
			t.Fatal("bunotel's millisecond histogram is still recorded")
		}
	})
}
