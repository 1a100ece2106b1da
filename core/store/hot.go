package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// hotSQL is a statement on the request hot path (authentication and
// session create), written once with ? placeholders. bun renders every
// value into the SQL text, so each call is a new statement to parse: on
// SQLite that parsing was a quarter of the create path's CPU, and on
// PostgreSQL pgx prepares every new text first (an extra round trip and a
// fresh plan). With placeholders the text is constant: SQLite statements
// are prepared once per pool (stmtCache) and pgx keeps PostgreSQL's
// prepared in its per-connection statement cache.
type hotSQL struct {
	name   string // span name, e.g. "insert_event"
	sqlite string
	pg     string // ? renumbered as $1, $2, …
}

// newHotSQL builds a hotSQL. q must not contain ? anywhere but in
// placeholders (no string literals with question marks). A placeholder may
// carry a PostgreSQL cast, ?::bigint, where PostgreSQL cannot infer its
// type (the select list of INSERT … SELECT); SQLite gets it without the
// cast, which there would change the value's affinity.
func newHotSQL(name, q string) hotSQL {
	var lite, pg strings.Builder
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] != '?' {
			lite.WriteByte(q[i])
			pg.WriteByte(q[i])
			continue
		}
		n++
		lite.WriteByte('?')
		pg.WriteString("$" + strconv.Itoa(n))
		if strings.HasPrefix(q[i+1:], "::") {
			j := i + 3
			for j < len(q) && (q[j] >= 'a' && q[j] <= 'z') {
				j++
			}
			pg.WriteString(q[i+1 : j])
			i = j - 1
		}
	}
	return hotSQL{name: name, sqlite: lite.String(), pg: pg.String()}
}

func (q hotSQL) text(d Dialect) string {
	if d == DialectPostgres {
		return q.pg
	}
	return q.sqlite
}

// hotWrites are prepared by PrepareHot before a write transaction uses
// them (see stmtCache.get for why not inside it).
var hotWrites = []hotSQL{insertSessionForOrderSQL, insertEventSQL, liveWebhookEndpointsSQL}

// hotStatements runs hotSQL for one Store: on SQLite through statements
// prepared on the writer pool (and on the read pool for reads), on
// PostgreSQL through pgx's statement cache. It bypasses bun's query hooks,
// so it makes its own span when tracing is on.
type hotStatements struct {
	db      *bun.DB // for ScanRows
	dialect Dialect
	write   *stmtCache // SQLite only
	read    *stmtCache // SQLite only: the read-only pool
	tracer  trace.Tracer
}

// stmtCache keeps statements prepared on one SQLite pool for the pool's
// life.
type stmtCache struct {
	db    *sql.DB
	mu    sync.Mutex
	stmts map[string]*sql.Stmt
}

func newStmtCache(db *sql.DB) *stmtCache {
	return &stmtCache{db: db, stmts: map[string]*sql.Stmt{}}
}

// get returns q prepared on the pool, preparing it on first use. It must
// not be called while the caller holds a transaction on a one-connection
// pool: preparing waits for the connection the transaction holds.
func (c *stmtCache) get(ctx context.Context, q string) (*sql.Stmt, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.stmts[q]; ok {
		return st, nil
	}
	st, err := c.db.PrepareContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("prepare statement: %w", err)
	}
	c.stmts[q] = st
	return st, nil
}

func (c *stmtCache) lookup(q string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stmts[q]
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for q, st := range c.stmts {
		_ = st.Close()
		delete(c.stmts, q)
	}
}

// PrepareHot prepares the hot write statements (session create) on the
// pool, once, so that a transaction on this Repo's pool runs them without
// SQLite parsing them again. It must run outside the transaction. It does
// nothing on PostgreSQL, where pgx prepares on first use per connection.
func (r *Repo) PrepareHot(ctx context.Context) error {
	if r.hot == nil || r.hot.write == nil {
		return nil
	}
	for _, q := range append(hotWrites, deliveryHotWrites...) {
		if _, err := r.hot.write.get(ctx, q.sqlite); err != nil {
			return err
		}
	}
	return nil
}

// newHotStatements builds the hot-statement runner of a pool. read, when
// set, is SQLite's read-only pool; tracer, when set, makes spans.
func newHotStatements(db *bun.DB, read *sql.DB, tracer trace.Tracer) *hotStatements {
	h := &hotStatements{db: db, dialect: dialectOf(db), tracer: tracer}
	if h.dialect == DialectSQLite {
		h.write = newStmtCache(db.DB)
		if read != nil {
			h.read = newStmtCache(read)
		}
	}
	return h
}

func (h *hotStatements) close() {
	if h.write != nil {
		h.write.close()
	}
	if h.read != nil {
		h.read.close()
	}
}

func dialectOf(db bun.IDB) Dialect {
	if db.Dialect().Name() == dialect.PG {
		return DialectPostgres
	}
	return DialectSQLite
}

// dialect is r's database dialect.
func (r *Repo) dialect() Dialect {
	if r.hot != nil {
		return r.hot.dialect
	}
	return dialectOf(r.db)
}

// hotTime renders a time argument as bun writes it for the dialect, so
// rows written here compare and sort with the rest (SQLite stores times as
// text).
func (r *Repo) hotTime(t time.Time) any { return hotTimeIn(r.dialect(), t) }

func (r *Repo) hotTimePtr(t *time.Time) any { return hotTimePtrIn(r.dialect(), t) }

func hotTimeIn(d Dialect, t time.Time) any {
	t = t.UTC()
	if d == DialectSQLite {
		return t.Format("2006-01-02 15:04:05.999999-07:00")
	}
	return t
}

func hotTimePtrIn(d Dialect, t *time.Time) any {
	if t == nil {
		return nil
	}
	return hotTimeIn(d, *t)
}

// span starts the hot statement's span when tracing is on.
func (r *Repo) span(ctx context.Context, q hotSQL) (context.Context, func(error)) {
	if r.hot == nil || r.hot.tracer == nil {
		return ctx, func(error) {}
	}
	ctx, sp := r.hot.tracer.Start(ctx, q.name, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("db.system", string(r.hot.dialect)),
			attribute.String("db.statement", q.text(r.hot.dialect))))
	return ctx, func(err error) {
		if err != nil && err != sql.ErrNoRows {
			sp.RecordError(err)
			sp.SetStatus(codes.Error, err.Error())
		}
		sp.End()
	}
}

// hotExec runs a hot write statement on r's pool or transaction.
func (r *Repo) hotExec(ctx context.Context, q hotSQL, args ...any) (res sql.Result, err error) {
	ctx, end := r.span(ctx, q)
	defer func() { end(err) }()
	switch db := r.db.(type) {
	case *bun.DB:
		if st, err := r.sqliteStmt(ctx, r.hot.write, q); err != nil || st != nil {
			if err != nil {
				return nil, err
			}
			return st.ExecContext(ctx, args...)
		}
		return db.DB.ExecContext(ctx, q.text(r.hot.dialect), args...)
	case bun.Tx:
		if st := r.txStmt(ctx, db, q); st != nil {
			return st.ExecContext(ctx, args...)
		}
		return db.Tx.ExecContext(ctx, q.text(r.dialect()), args...)
	default:
		return nil, fmt.Errorf("store: hot statement on %T", r.db)
	}
}

// pgQueryRow runs a hot PostgreSQL query that answers one row and scans
// it into dest.
func (r *Repo) pgQueryRow(ctx context.Context, q hotSQL, dest []any, args ...any) (err error) {
	ctx, end := r.span(ctx, q)
	defer func() { end(err) }()
	var row *sql.Row
	switch db := r.db.(type) {
	case *bun.DB:
		row = db.DB.QueryRowContext(ctx, q.pg, args...)
	case bun.Tx:
		row = db.Tx.QueryRowContext(ctx, q.pg, args...)
	default:
		return fmt.Errorf("store: hot statement on %T", r.db)
	}
	return row.Scan(dest...)
}

// hotQuery runs a hot query and scans every row into dest (as bun's
// Scan would). On a pool Repo with a read-only SQLite pool, reads go
// there, so they do not wait for the single writer connection.
func (r *Repo) hotQuery(ctx context.Context, q hotSQL, dest any, args ...any) (err error) {
	ctx, end := r.span(ctx, q)
	defer func() { end(err) }()
	var rows *sql.Rows
	switch db := r.db.(type) {
	case *bun.DB:
		cache, conn := r.hot.write, db.DB
		if r.hot.read != nil {
			cache, conn = r.hot.read, r.hot.read.db
		}
		st, err := r.sqliteStmt(ctx, cache, q)
		if err != nil {
			return err
		}
		if st != nil {
			rows, err = st.QueryContext(ctx, args...)
		} else {
			rows, err = conn.QueryContext(ctx, q.text(r.hot.dialect), args...)
		}
		if err != nil {
			return err
		}
	case bun.Tx:
		if r.hot == nil {
			// A Repo from NewRepo(tx) has no *bun.DB to scan with; bun
			// renders the values into the text instead.
			return db.NewRaw(q.sqlite, args...).Scan(ctx, dest)
		}
		if st := r.txStmt(ctx, db, q); st != nil {
			rows, err = st.QueryContext(ctx, args...)
		} else {
			rows, err = db.Tx.QueryContext(ctx, q.text(r.hot.dialect), args...)
		}
		if err != nil {
			return err
		}
	default:
		return fmt.Errorf("store: hot statement on %T", r.db)
	}
	return r.hot.db.ScanRows(ctx, rows, dest)
}

// sqliteStmt is q prepared on cache's pool, or nil on PostgreSQL.
func (r *Repo) sqliteStmt(ctx context.Context, cache *stmtCache, q hotSQL) (*sql.Stmt, error) {
	if cache == nil {
		return nil, nil
	}
	return cache.get(ctx, q.sqlite)
}

// txStmt is q's pool statement bound to tx when it was prepared
// beforehand (PrepareHot), else nil and the caller sends the text.
func (r *Repo) txStmt(ctx context.Context, tx bun.Tx, q hotSQL) *sql.Stmt {
	if r.hot == nil || r.hot.write == nil {
		return nil
	}
	st := r.hot.write.lookup(q.sqlite)
	if st == nil {
		return nil
	}
	return tx.Tx.StmtContext(ctx, st)
}
