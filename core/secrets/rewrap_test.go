package secrets_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/dialect/sqlitedialect"
	_ "modernc.org/sqlite"

	"github.com/switchyard/switchyard/core/secrets"
)

// databases yields SQLite always and PostgreSQL when the shared test DSN is
// set. Each run uses its own table names, so concurrent runs never collide.
func databases(t *testing.T) map[string]*bun.DB {
	t.Helper()
	dbs := map[string]*bun.DB{}

	sqldb, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "rewrap.db"))
	if err != nil {
		t.Fatal(err)
	}
	sqldb.SetMaxOpenConns(1)
	dbs["sqlite"] = bun.NewDB(sqldb, sqlitedialect.New())

	if dsn := os.Getenv("SWITCHYARD_TEST_POSTGRES_DSN"); dsn != "" {
		pg, err := sql.Open("pgx", dsn)
		if err != nil {
			t.Fatal(err)
		}
		if err := pg.PingContext(context.Background()); err != nil {
			t.Fatalf("postgres at SWITCHYARD_TEST_POSTGRES_DSN: %v", err)
		}
		dbs["postgres"] = bun.NewDB(pg, pgdialect.New())
	} else if os.Getenv("SWITCHYARD_REQUIRE_POSTGRES") == "1" {
		t.Fatal("SWITCHYARD_REQUIRE_POSTGRES=1 but SWITCHYARD_TEST_POSTGRES_DSN is not set")
	}
	for _, db := range dbs {
		t.Cleanup(func() { db.Close() })
	}
	return dbs
}

func uniqueName(t *testing.T, prefix string) string {
	t.Helper()
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return prefix + "_" + hex.EncodeToString(b)
}

func TestRewrapColumns(t *testing.T) {
	ctx := context.Background()
	for name, db := range databases(t) {
		t.Run(name, func(t *testing.T) {
			table := uniqueName(t, "creds")
			exec(t, db, "CREATE TABLE ? (id BIGINT PRIMARY KEY, api_key TEXT, webhook_secret TEXT)", bun.Ident(table))
			t.Cleanup(func() { exec(t, db, "DROP TABLE ?", bun.Ident(table)) })

			oldKey, newK := newKey(t, "old_1"), newKey(t, "new_1")
			before := newKeyring(t, oldKey)
			after := newKeyring(t, newK, oldKey)
			seal := func(kr *secrets.Keyring, id, field, v string) string {
				ct, err := kr.Encrypt([]byte(v), secrets.Owner{Table: table, Row: id, Field: field})
				if err != nil {
					t.Fatal(err)
				}
				return ct
			}
			alreadyNew := seal(after, "3", "api_key", "key-3")
			exec(t, db, "INSERT INTO ? VALUES (1, ?, ?), (2, ?, NULL), (3, ?, '')", bun.Ident(table),
				seal(before, "1", "api_key", "key-1"), seal(before, "1", "webhook_secret", "whsec-1"),
				seal(before, "2", "api_key", "key-2"), alreadyNew)

			cols := []secrets.Column{
				{Table: table, IDColumn: "id", Field: "api_key"},
				{Table: table, IDColumn: "id", Field: "webhook_secret"},
			}
			report, err := secrets.RewrapColumns(ctx, db, after, cols)
			if err != nil {
				t.Fatal(err)
			}
			if report.Rewrapped() != 3 || report.Columns[0].Rewrapped != 2 || report.Columns[1].Rewrapped != 1 {
				t.Errorf("report = %+v", report)
			}

			// Every value is now under the new key and still decrypts for its
			// owner with the old key gone.
			onlyNew := newKeyring(t, newK)
			want := map[string]string{"1/api_key": "key-1", "1/webhook_secret": "whsec-1", "2/api_key": "key-2", "3/api_key": "key-3"}
			for key, plain := range want {
				id, field := key[:1], key[2:]
				var ct string
				if err := db.QueryRowContext(ctx, "SELECT ? FROM ? WHERE id = ?", bun.Ident(field), bun.Ident(table), id).Scan(&ct); err != nil {
					t.Fatal(err)
				}
				if id, _ := secrets.KeyID(ct); id != "new_1" {
					t.Errorf("%s still under key %q", key, id)
				}
				got, err := onlyNew.Decrypt(ct, secrets.Owner{Table: table, Row: id, Field: field})
				if err != nil || string(got) != plain {
					t.Errorf("%s: %q, %v", key, got, err)
				}
			}
			var untouched string
			if err := db.QueryRowContext(ctx, "SELECT api_key FROM ? WHERE id = 3", bun.Ident(table)).Scan(&untouched); err != nil {
				t.Fatal(err)
			}
			if untouched != alreadyNew {
				t.Errorf("a value already under the primary key was rewritten")
			}

			// A second run finds nothing to do.
			again, err := secrets.RewrapColumns(ctx, db, after, cols)
			if err != nil || again.Rewrapped() != 0 {
				t.Errorf("second run: %+v, %v", again, err)
			}
		})
	}
}

func TestRewrapColumnsIsAllOrNothing(t *testing.T) {
	ctx := context.Background()
	for name, db := range databases(t) {
		t.Run(name, func(t *testing.T) {
			table := uniqueName(t, "creds")
			exec(t, db, "CREATE TABLE ? (id BIGINT PRIMARY KEY, api_key TEXT)", bun.Ident(table))
			t.Cleanup(func() { exec(t, db, "DROP TABLE ?", bun.Ident(table)) })

			oldKey, newK := newKey(t, "old"), newKey(t, "new")
			before := newKeyring(t, oldKey)
			good, _ := before.Encrypt([]byte("key-1"), secrets.Owner{Table: table, Row: "1", Field: "api_key"})
			// Row 2 holds row 1's value: swapped, so it must not decrypt. Rows
			// are processed in id order, so row 1 is rewritten before the
			// failure and the test shows the rollback.
			exec(t, db, "INSERT INTO ? VALUES (1, ?), (2, ?)", bun.Ident(table), good, good)

			_, err := secrets.RewrapColumns(ctx, db, newKeyring(t, newK, oldKey),
				[]secrets.Column{{Table: table, IDColumn: "id", Field: "api_key"}})
			if !errors.Is(err, secrets.ErrAuthentication) {
				t.Fatalf("want authentication failure, got %v", err)
			}
			var ct string
			if err := db.QueryRowContext(ctx, "SELECT api_key FROM ? WHERE id = 1", bun.Ident(table)).Scan(&ct); err != nil {
				t.Fatal(err)
			}
			if ct != good {
				t.Errorf("row 1 was changed although the run failed")
			}
		})
	}
}

func exec(t *testing.T, db *bun.DB, query string, args ...any) {
	t.Helper()
	if _, err := db.ExecContext(context.Background(), query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}
