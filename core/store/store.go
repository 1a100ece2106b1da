package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/dialect/sqlitedialect"
	"github.com/uptrace/bun/extra/bunotel"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/trace"

	"github.com/switchyard/switchyard/core/domain"

	// Registers the "sqlite" database/sql driver (pure Go, no cgo).
	_ "modernc.org/sqlite"
)

// Dialect names the SQL database behind a Store.
type Dialect string

const (
	DialectSQLite   Dialect = "sqlite"
	DialectPostgres Dialect = "postgres"
)

// Defaults applied by Open when an Options field is zero.
const (
	DefaultBusyTimeout     = 5 * time.Second
	DefaultConnectTimeout  = 5 * time.Second
	DefaultPGMaxOpenConns  = 20
	DefaultSQLiteReadConns = 4
)

// Options tune Open. The zero value is a sensible production configuration.
type Options struct {
	// BusyTimeout is how long a SQLite connection waits for another
	// process's write lock before failing with SQLITE_BUSY. Default 5s.
	BusyTimeout time.Duration

	// ConnectTimeout bounds the initial ping (and, on PostgreSQL, each
	// connection attempt), so an unreachable database fails Open quickly
	// with a clear error instead of hanging. Default 5s.
	ConnectTimeout time.Duration

	// SQLiteMaxOpenConns caps the SQLite pool. Default 1: SQLite allows one
	// writer at a time and River's concurrent maintenance work otherwise
	// trips SQLITE_BUSY (see riversqlite's package docs). With one
	// connection, code inside RunInTx must use the tx it was given, never
	// the Store's pool, or it waits for itself until its ctx expires.
	SQLiteMaxOpenConns int

	// SQLiteReadConns sizes SQLite's read-only pool, which serves the
	// hot reads (API key authentication) beside the writer. Default 4.
	SQLiteReadConns int

	// PGMaxOpenConns caps the PostgreSQL pool: one pgx pool per Store,
	// shared by bun, River's pgx driver and LISTEN. Default 20.
	PGMaxOpenConns int

	// Schema selects the PostgreSQL schema (search_path) for this store's
	// tables and River's. It overrides a search_path given in the DSN.
	// Ignored for SQLite.
	Schema string

	// Tracing installs the bunotel query hook so every query becomes an
	// OpenTelemetry span; TracerProvider defaults to the otel global.
	Tracing        bool
	TracerProvider trace.TracerProvider
	// MeterProvider, when set, records every query's duration in seconds
	// (db.client.operation.duration, see queryMetrics).
	MeterProvider metric.MeterProvider
}

func (o Options) withDefaults() Options {
	if o.BusyTimeout <= 0 {
		o.BusyTimeout = DefaultBusyTimeout
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = DefaultConnectTimeout
	}
	if o.SQLiteMaxOpenConns <= 0 {
		o.SQLiteMaxOpenConns = 1
	}
	if o.SQLiteReadConns <= 0 {
		o.SQLiteReadConns = DefaultSQLiteReadConns
	}
	if o.PGMaxOpenConns <= 0 {
		o.PGMaxOpenConns = DefaultPGMaxOpenConns
	}
	return o
}

// Store is the database handle shared by every repository, the migrator and
// the job runner. Its embedded *Repo works on the pool; use NewRepo(tx)
// inside RunInTx to run the same operations in a transaction.
type Store struct {
	*Repo

	db      *bun.DB
	reader  *sql.DB       // SQLite's read-only pool; nil on PostgreSQL
	pool    *pgxpool.Pool // PostgreSQL's pool behind db; nil on SQLite
	group   *groupCommitter
	dialect Dialect
	schema  string
	display string // redacted DSN, safe for errors and logs
}

// Open connects to the database named by dsn ("sqlite:PATH" or
// "postgres://…"), configures the pool and verifies the connection with a
// bounded ping. It does not migrate; call Migrate for that.
func Open(ctx context.Context, dsn string, opts Options) (*Store, error) {
	opts = opts.withDefaults()
	target, err := parseDSN(dsn, opts)
	if err != nil {
		return nil, err
	}
	sqldb, err := target.open()
	if err != nil {
		if target.pool != nil {
			target.pool.Close()
		}
		return nil, err
	}

	var db *bun.DB
	switch target.dialect {
	case DialectSQLite:
		db = bun.NewDB(sqldb, sqlitedialect.New())
	case DialectPostgres:
		db = bun.NewDB(sqldb, pgdialect.New())
	}
	var tracer trace.Tracer
	if opts.Tracing {
		tp := opts.TracerProvider
		if tp == nil {
			tp = otel.GetTracerProvider()
		}
		tracer = tp.Tracer("github.com/switchyard/switchyard/core/store")
		hookOpts := []bunotel.Option{bunotel.WithDBName(string(target.dialect))}
		if opts.TracerProvider != nil {
			hookOpts = append(hookOpts, bunotel.WithTracerProvider(opts.TracerProvider))
		}
		// bunotel's own timing metric is in milliseconds; queryMetrics
		// records seconds instead, so bunotel gets a meter that drops it.
		hookOpts = append(hookOpts, bunotel.WithMeterProvider(noop.NewMeterProvider()))
		db = db.WithQueryHook(bunotel.NewQueryHook(hookOpts...))
	}
	if opts.MeterProvider != nil {
		qm, err := newQueryMetrics(opts.MeterProvider, target.dialect)
		if err != nil {
			_ = db.Close()
			return nil, err
		}
		db = db.WithQueryHook(qm)
	}

	var reader *sql.DB
	if target.openReader != nil {
		if reader, err = target.openReader(); err != nil {
			_ = db.Close()
			return nil, err
		}
	}
	s := &Store{
		Repo:    &Repo{db: db, hot: newHotStatements(db, reader, tracer)},
		db:      db,
		reader:  reader,
		pool:    target.pool,
		group:   newGroupCommitter(db, target.dialect),
		dialect: target.dialect,
		schema:  target.schema,
		display: target.display,
	}

	pingCtx, cancel := context.WithTimeout(ctx, opts.ConnectTimeout)
	defer cancel()
	if err := s.Ping(pingCtx); err != nil {
		_ = s.Close()
		return nil, &unreachableError{
			msg:   fmt.Sprintf("store: cannot reach %s database %s: %s", target.dialect, target.display, oneLine(err.Error())),
			cause: err,
		}
	}
	return s, nil
}

// DB returns the bun handle. DB().DB is the underlying *sql.DB, which the
// job runner shares so that jobs can be enqueued in a bun transaction.
func (s *Store) DB() *bun.DB { return s.db }

// Dialect reports which database this store talks to.
func (s *Store) Dialect() Dialect { return s.dialect }

// Schema is the PostgreSQL schema in use ("" means the server default
// search_path). Always "" for SQLite.
func (s *Store) Schema() string { return s.schema }

// String identifies the database without credentials.
func (s *Store) String() string { return s.display }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return err
	}
	// database/sql may hand back a pooled connection without a round trip;
	// a trivial query proves the server (or file) really answers.
	var one int
	return s.db.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

// Close releases the pools. River clients built on this store must be
// stopped first.
func (s *Store) Close() error {
	s.hot.close()
	if s.reader != nil {
		_ = s.reader.Close()
	}
	err := s.db.Close()
	if s.pool != nil {
		s.pool.Close()
	}
	return err
}

// PGPool is the pgx pool behind a PostgreSQL store (nil on SQLite), for
// River's pgx driver and LISTEN: they share bun's connections and limit.
func (s *Store) PGPool() *pgxpool.Pool { return s.pool }

// RunInTx runs fn in a transaction: committed if fn returns nil, rolled back
// otherwise (and on panic). Callers pass tx to NewRepo and to the job
// runner's EnqueueTx so their writes and enqueued jobs commit or vanish
// together.
func (s *Store) RunInTx(ctx context.Context, fn func(ctx context.Context, tx bun.Tx) error) error {
	return s.db.RunInTx(ctx, nil, fn)
}

// RiverDriver returns the River driver matching this store's dialect, built
// on the same *sql.DB that bun uses. Both drivers work on *sql.Tx, which is
// what bun.Tx wraps, so jobs are enqueued in bun's transactions. On
// PostgreSQL the job runner works jobs through River's pgx driver on
// PGPool instead, which listens for new jobs (LISTEN/NOTIFY).
func (s *Store) RiverDriver() riverdriver.Driver[*sql.Tx] {
	if s.dialect == DialectSQLite {
		return riversqlite.New(s.db.DB)
	}
	return riverdatabasesql.New(s.db.DB)
}

// errUnsupportedDSN is matched by tests; its message is what users see.
var errUnsupportedDSN = errors.New(`unsupported store dsn: want "sqlite:PATH" or "postgres://user@host:port/db"`)

// unreachableError reports a database that did not answer. It matches
// domain.ErrUnavailable (so callers map it to 503 / a clear CLI message) as
// well as the driver's cause.
type unreachableError struct {
	msg   string
	cause error
}

func (e *unreachableError) Error() string   { return e.msg }
func (e *unreachableError) Unwrap() []error { return []error{domain.ErrUnavailable, e.cause} }

// oneLine folds pgx's multi-line connect errors into one line for logs and
// CLI output.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
