package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/core/store"
)

// Environment variables read by this package.
const (
	EnvPostgresDSN     = "SWITCHYARD_TEST_POSTGRES_DSN"
	EnvRequirePostgres = "SWITCHYARD_REQUIRE_POSTGRES"
)

// ForEachDB runs fn as subtest "sqlite" on a new migrated SQLite database,
// then as subtest "postgres" on a new migrated schema when PostgreSQL is
// configured (see the package doc for the rules).
func ForEachDB(t *testing.T, fn func(t *testing.T, s *store.Store)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) {
		fn(t, SQLite(t))
	})
	ForPostgres(t, fn)
}

// ForPostgres runs fn as subtest "postgres" only, for behaviour that needs a
// server (several clients on one database). It skips, or fails under
// SWITCHYARD_REQUIRE_POSTGRES=1, when no DSN is configured.
func ForPostgres(t *testing.T, fn func(t *testing.T, s *store.Store)) {
	t.Helper()
	dsn := os.Getenv(EnvPostgresDSN)
	if dsn == "" {
		if os.Getenv(EnvRequirePostgres) == "1" {
			t.Fatalf("%s=1 but %s is not set: PostgreSQL tests cannot run", EnvRequirePostgres, EnvPostgresDSN)
		}
		t.Logf("postgres suite skipped: %s is not set", EnvPostgresDSN)
		return
	}
	t.Run("postgres", func(t *testing.T) {
		fn(t, Postgres(t))
	})
}

// ForEachDBUnmigrated is ForEachDB with stores that have not been
// migrated, for tests of the migrations themselves.
func ForEachDBUnmigrated(t *testing.T, fn func(t *testing.T, s *store.Store)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) {
		dsn := "sqlite:" + filepath.Join(t.TempDir(), "switchyard.db")
		fn(t, open(t, dsn, store.Options{}, false))
	})
	if os.Getenv(EnvPostgresDSN) == "" {
		ForPostgres(t, fn) // reports the skip or the required-but-missing failure
		return
	}
	t.Run("postgres", func(t *testing.T) {
		fn(t, postgres(t, false))
	})
}

// SQLite opens and migrates a fresh SQLite database in t.TempDir(),
// closed when the test ends.
func SQLite(t testing.TB) *store.Store {
	t.Helper()
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "switchyard.db")
	return open(t, dsn, store.Options{}, true)
}

// Postgres opens the configured PostgreSQL on a new, randomly named schema,
// migrates it, and drops the schema when the test ends. It fails the test
// if no DSN is configured or the server is unreachable.
func Postgres(t testing.TB) *store.Store {
	t.Helper()
	return postgres(t, true)
}

// PostgresUnmigrated is Postgres without the migration, for tests of the
// migrations themselves. The schema does not exist until Migrate runs.
func PostgresUnmigrated(t testing.TB) *store.Store {
	t.Helper()
	return postgres(t, false)
}

func postgres(t testing.TB, migrate bool) *store.Store {
	t.Helper()
	dsn := os.Getenv(EnvPostgresDSN)
	if dsn == "" {
		t.Fatalf("%s is not set", EnvPostgresDSN)
	}
	schema := "storetest_" + randomHex(t, 8)
	s := open(t, dsn, store.Options{Schema: schema}, migrate)
	t.Cleanup(func() {
		// Registered after open's Close cleanup, so it runs first.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := s.DB().ExecContext(ctx, "DROP SCHEMA IF EXISTS "+schema+" CASCADE"); err != nil {
			t.Errorf("storetest: drop schema %s: %v", schema, err)
		}
	})
	return s
}

// Reopen opens a second, independent Store (its own pool) on the same
// database and schema as s, as another process would. It is not migrated
// again and is closed when the test ends.
func Reopen(t testing.TB, s *store.Store) *store.Store {
	t.Helper()
	return ReopenWith(t, s, store.Options{})
}

// ReopenWith is Reopen with opts (tracing, pool sizes); the schema is s's.
func ReopenWith(t testing.TB, s *store.Store, opts store.Options) *store.Store {
	t.Helper()
	switch s.Dialect() {
	case store.DialectSQLite:
		return open(t, s.String(), opts, false)
	default:
		opts.Schema = s.Schema()
		return open(t, os.Getenv(EnvPostgresDSN), opts, false)
	}
}

func open(t testing.TB, dsn string, opts store.Options, migrate bool) *store.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := store.Open(ctx, dsn, opts)
	if err != nil {
		hint := ""
		if strings.HasPrefix(dsn, "postgres") {
			hint = " (is PostgreSQL running? check " + EnvPostgresDSN + ")"
		}
		t.Fatalf("storetest: open: %v%s", err, hint)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("storetest: close: %v", err)
		}
	})
	if !migrate {
		return s
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("storetest: migrate %s: %v", s, err)
	}
	return s
}

func randomHex(t testing.TB, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("storetest: random: %v", err)
	}
	return hex.EncodeToString(b)
}

// Backends returns a function listing the PostgreSQL server processes
// that serve s's pool and any other pool with the same application_name
// (the benchmarks' CPU figures: set application_name in the DSN), or nil
// on SQLite, whose work is done in the test process.
func Backends(t testing.TB, s *store.Store) func() []int {
	t.Helper()
	if s.Dialect() != store.DialectPostgres {
		return nil
	}
	return func() []int {
		var pids []int
		err := s.DB().NewRaw(`SELECT pid FROM pg_stat_activity
WHERE application_name = current_setting('application_name') AND application_name <> ''`).Scan(context.Background(), &pids)
		if err != nil {
			t.Fatalf("storetest: backend pids: %v", err)
		}
		return pids
	}
}
