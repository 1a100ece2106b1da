package store

import (
	"context"
	"database/sql"
	"fmt"
	"hash/fnv"
	"log/slog"

	"github.com/riverqueue/river/rivermigrate"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/migrate"
)

// migration is one versioned schema change. Name orders migrations and is
// what bun_migrations records, so it must never change once released.
type migration struct {
	name    string
	comment string
	up      func(ctx context.Context, tx bun.Tx, d Dialect) error
	down    func(ctx context.Context, tx bun.Tx, d Dialect) error
}

// migrationList is the ordered list of Switchyard's migrations, one file
// each (migration_NNNN_*.go). Append new ones at the end; see doc.go.
func migrationList() []migration {
	return []migration{
		migration0001Core(),
		migration0002Payments(),
		migration0003Webhooks(),
		migration0004ProviderAccounts(),
		migration0005SessionExpiryIndex(),
		migration0006AttemptRedirect(),
		migration0010MoneyReview(),
		migration0020WebhookIntake(),
		migration0030Refunds(),
		migration0050Products(),
		migration0051SessionItems(),
		migration0052Clients(),
		migration0053Services(),
		migration0054Subscriptions(),
		migration0055Mail(),
		migration0056MailReceipts(),
		migration0060Domains(),
		migration0070Console(),
		migration0080BreakerStates(),
	}
}

// buildMigrations turns migrationList into bun's collection for dialect d,
// each migration running in its own transaction (both dialects have
// transactional DDL, so a failed migration leaves nothing half-done).
func buildMigrations(d Dialect) *migrate.Migrations {
	ms := migrate.NewMigrations()
	for _, m := range migrationList() {
		up, down := m.up, m.down
		ms.Add(migrate.Migration{
			Name:    m.name,
			Comment: m.comment,
			Up: func(ctx context.Context, mg *migrate.Migrator, _ *migrate.Migration) error {
				return mg.DB().RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
					return up(ctx, tx, d)
				})
			},
			Down: func(ctx context.Context, mg *migrate.Migrator, _ *migrate.Migration) error {
				if down == nil {
					return fmt.Errorf("migration %s has no down step", m.name)
				}
				return mg.DB().RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
					return down(ctx, tx, d)
				})
			},
		})
	}
	return ms
}

func (s *Store) migrator() *migrate.Migrator {
	return migrate.NewMigrator(s.db, buildMigrations(s.dialect), migrate.WithMarkAppliedOnSuccess(true))
}

func (s *Store) riverMigrator() (*rivermigrate.Migrator[*sql.Tx], error) {
	return rivermigrate.New(s.RiverDriver(), &rivermigrate.Config{
		Schema: s.schema,
		Logger: slog.New(slog.DiscardHandler),
	})
}

// Applied is what one migration run applied, in order: Switchyard's
// migrations by name and River's schema migrations by version.
type Applied struct {
	Switchyard []AppliedMigration
	River      []int
}

// AppliedMigration names one applied Switchyard migration.
type AppliedMigration struct {
	Name, Comment string
}

// Empty reports whether nothing was pending.
func (a Applied) Empty() bool { return len(a.Switchyard) == 0 && len(a.River) == 0 }

// Migrate applies every pending Switchyard migration and then River's own
// schema migrations. It is safe to run repeatedly and, on PostgreSQL, from
// several processes at once (they serialize on an advisory lock). On SQLite,
// which serves one instance, do not migrate from two processes at the same
// moment: the second may fail (harmlessly) on a table the first created.
func (s *Store) Migrate(ctx context.Context) error {
	_, err := s.MigrateApplied(ctx)
	return err
}

// MigrateApplied is Migrate, reporting what this call applied (not what
// another process applied meanwhile), for `switchyard migrate` to say.
func (s *Store) MigrateApplied(ctx context.Context) (Applied, error) {
	var applied Applied
	if s.dialect == DialectPostgres {
		unlock, err := s.advisoryLock(ctx)
		if err != nil {
			return applied, err
		}
		defer unlock()
		// Under the lock: concurrent CREATE SCHEMA IF NOT EXISTS can still
		// collide on PostgreSQL's catalog.
		if s.schema != "" {
			if _, err := s.db.ExecContext(ctx, "CREATE SCHEMA IF NOT EXISTS "+quoteIdent(s.schema)); err != nil {
				return applied, fmt.Errorf("migrate: create schema %s: %w", s.schema, err)
			}
		}
	}

	m := s.migrator()
	if err := m.Init(ctx); err != nil {
		return applied, fmt.Errorf("migrate: init migration tables: %w", err)
	}
	group, err := m.Migrate(ctx)
	if err != nil {
		return applied, fmt.Errorf("migrate: %w", err)
	}
	if group != nil {
		for _, mig := range group.Migrations {
			applied.Switchyard = append(applied.Switchyard, AppliedMigration{Name: mig.Name, Comment: mig.Comment})
		}
	}

	rm, err := s.riverMigrator()
	if err != nil {
		return applied, fmt.Errorf("migrate: river: %w", err)
	}
	res, err := rm.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return applied, fmt.Errorf("migrate: river: %w", err)
	}
	if res != nil {
		for _, v := range res.Versions {
			applied.River = append(applied.River, v.Version)
		}
	}
	return applied, nil
}

// MigrationsCurrent reports whether every known migration (Switchyard's and
// River's) has been applied. It only reads, so /readyz can call it.
func (s *Store) MigrationsCurrent(ctx context.Context) (bool, error) {
	exists, err := s.tableExists(ctx, "bun_migrations")
	if err != nil {
		return false, fmt.Errorf("check migrations: %w", err)
	}
	if !exists {
		return false, nil
	}
	ms, err := s.migrator().MigrationsWithStatus(ctx)
	if err != nil {
		return false, fmt.Errorf("check migrations: %w", err)
	}
	if len(ms.Unapplied()) > 0 {
		return false, nil
	}

	exists, err = s.tableExists(ctx, "river_migration")
	if err != nil {
		return false, fmt.Errorf("check river migrations: %w", err)
	}
	if !exists {
		return false, nil
	}
	rm, err := s.riverMigrator()
	if err != nil {
		return false, fmt.Errorf("check river migrations: %w", err)
	}
	res, err := rm.Validate(ctx)
	if err != nil {
		return false, fmt.Errorf("check river migrations: %w", err)
	}
	return res.OK, nil
}

// PendingMigrations lists the names of Switchyard migrations not yet
// applied (River's are not included), for `switchyard migrate` output.
func (s *Store) PendingMigrations(ctx context.Context) ([]string, error) {
	exists, err := s.tableExists(ctx, "bun_migrations")
	if err != nil {
		return nil, err
	}
	var names []string
	if !exists {
		for _, m := range migrationList() {
			names = append(names, m.name)
		}
		return names, nil
	}
	ms, err := s.migrator().MigrationsWithStatus(ctx)
	if err != nil {
		return nil, err
	}
	for _, m := range ms.Unapplied() {
		names = append(names, m.Name)
	}
	return names, nil
}

func (s *Store) tableExists(ctx context.Context, table string) (bool, error) {
	var n int
	var err error
	switch s.dialect {
	case DialectSQLite:
		err = s.db.QueryRowContext(ctx,
			"SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?", table).Scan(&n)
	default:
		// to_regclass resolves through search_path, i.e. the store's schema.
		err = s.db.QueryRowContext(ctx,
			"SELECT count(*) FROM (SELECT to_regclass(?) AS t) r WHERE r.t IS NOT NULL", table).Scan(&n)
	}
	return n > 0, err
}

// advisoryLock serializes migrations across processes sharing one
// PostgreSQL schema. The lock is transaction-scoped
// (pg_advisory_xact_lock) and held by a transaction that stays open until
// unlock rolls it back: an open transaction keeps its server connection
// even behind PgBouncer in transaction mode, where a session-level lock
// could be taken on one server connection and released on another. If the
// process dies, the server ends the transaction and the lock with it.
func (s *Store) advisoryLock(ctx context.Context) (unlock func(), err error) {
	h := fnv.New64a()
	_, _ = h.Write([]byte("switchyard.migrate:" + s.schema))
	key := int64(h.Sum64())

	tx, err := s.db.DB.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("migrate: begin lock transaction: %w", err)
	}
	if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", key); err != nil {
		_ = tx.Rollback()
		return nil, fmt.Errorf("migrate: take advisory lock: %w", err)
	}
	return func() { _ = tx.Rollback() }, nil
}
