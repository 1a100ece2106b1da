// Package store is Switchyard's persistence layer: bun models, repositories
// and versioned migrations for SQLite (embedded default) and PostgreSQL
// (production, many instances), chosen by DSN:
//
//	sqlite:var/switchyard.db                  WAL, busy_timeout, foreign_keys on
//	postgres://user@host:5432/db?sslmode=…    pgx stdlib; search_path or
//	                                          Options.Schema picks the schema
//
// Open connects and pings (bounded by Options.ConnectTimeout); Migrate
// applies Switchyard's migrations and then River's, so `switchyard migrate`
// is the only schema step; MigrationsCurrent tells /readyz whether both are
// up to date.
//
// # Repositories and transactions
//
// Store embeds *Repo, so s.CreateMerchant(ctx, …) runs on the pool. To
// combine writes, and to enqueue jobs atomically with them, use RunInTx and
// bind a Repo to the transaction:
//
//	err := s.RunInTx(ctx, func(ctx context.Context, tx bun.Tx) error {
//		if _, err := store.NewRepo(tx).AddSite(ctx, id, "shop.example"); err != nil {
//			return err
//		}
//		_, err := runner.EnqueueTx(ctx, tx, SomeArgs{…}, nil)
//		return err
//	})
//
// On SQLite the pool has a single connection (see Options.SQLiteMaxOpenConns),
// so inside RunInTx use only tx: touching the Store's own methods there
// waits for the connection the transaction holds until ctx expires.
//
// Errors follow core/domain: missing rows are domain.NotFound(resource),
// unique violations become domain.ErrConflict with a specific code
// (MapConflict is the single place that reads driver error codes), and bad
// input is domain.ErrInvalid.
//
// Times are written as UTC with microsecond precision (PostgreSQL's), so
// what a caller stored reads back Equal on both dialects.
//
// # Adding a migration
//
//  1. Create migration_NNNN_short_name.go with a func migrationNNNNShortName()
//     migration. Its name is a timestamp (YYYYMMDDhhmmss) later than every
//     existing one; it is recorded in bun_migrations and must never change.
//  2. Write plain SQL in the subset both dialects share. Where types differ
//     take them from columnTypes(d) (ID, Time, JSON, Bytes); for anything
//     else branch on d. Do not build DDL from the model structs: models
//     change later, a migration must keep producing the same schema.
//  3. Append it to migrationList() in migrate.go. Each migration runs in its
//     own transaction; give it a down step when one is meaningful.
//  4. Run the store tests: they migrate fresh SQLite and PostgreSQL
//     databases and check that MigrationsCurrent turns true.
//
// Do not change a released migration; write a new one that alters the
// schema (SQLite cannot ALTER most constraints: create the new table, copy,
// drop, rename).
package store
