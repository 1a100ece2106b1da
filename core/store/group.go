package store

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"
)

// RunInGroupTx runs fn like RunInTx, except that concurrent callers share
// one transaction and one commit (group commit). On SQLite writes are
// serial and, with synchronous=FULL, every commit is an fsync; on
// PostgreSQL every transaction costs a BEGIN and a COMMIT round trip, a
// WAL flush and a backend's scheduling, and with 32 creates in flight on
// two CPUs that per-transaction cost, not the statements, was the limit
// (docs/benchmarks.md). RunInGroupTx returns only after the shared commit,
// so nothing is acknowledged before it is durable; if that commit fails,
// every caller in the group gets the error, including those whose fn failed
// (their failure may have depended on a group member's writes that never
// committed).
//
// An error from fn undoes only fn's writes and is returned to its caller.
// On SQLite each fn runs in its own savepoint. On PostgreSQL savepoints
// would cost two round trips per member and a subtransaction each (past 64
// per transaction every snapshot in the server slows down), so members run
// without them: when one fails, the group's transaction is rolled back and
// every member of it runs again alone in its own transaction (RunInTx), so
// each caller gets the outcome of its fn as if it had never been grouped.
//
// fn must use only tx (never the Store's pool), have no effects outside the
// database, be safe to run again after a rollback, and be short: it runs on
// the goroutine leading the group, with ctx's values but not its
// cancellation (cancelling one statement would roll back the whole group's
// transaction), bounded by GroupItemTimeout. A caller whose ctx ends while
// it waits for its turn is skipped.
func (s *Store) RunInGroupTx(ctx context.Context, fn func(ctx context.Context, tx bun.Tx) error) error {
	return s.group.run(ctx, nil, fn)
}

// RunInGroupTxFirst is RunInGroupTx for an fn that begins with first's
// statement (the Repo method that takes first runs it, or takes its
// result). On PostgreSQL the leader sends the first statements of every
// member of a group in one pipelined round trip after BEGIN, so a group of
// n costs BEGIN, that batch and COMMIT instead of a round trip per
// statement, each waiting for a backend to be scheduled. fn must run
// first's Repo method before any other statement: the batch has already
// run it in tx. When the group is retried alone, or on SQLite, the Repo
// method runs the statement itself.
func (s *Store) RunInGroupTxFirst(ctx context.Context, first GroupFirst, fn func(ctx context.Context, tx bun.Tx) error) error {
	return s.group.run(ctx, first, fn)
}

// GroupFirst is a member's first statement (RunInGroupTxFirst); the
// store's types implement it (SessionInsert).
type GroupFirst interface {
	// firstStatement is the PostgreSQL text and its arguments.
	firstStatement() (string, []any)
	// firstResult scans the statement's one row, which ran in tx.
	firstResult(row pgx.Row, tx *sql.Tx) error
}

// GroupItemTimeout bounds one fn of RunInGroupTx.
const GroupItemTimeout = 10 * time.Second

// maxGroup bounds a group, so one commit's latency stays bounded under
// any load.
const maxGroup = 64

// pgGroupLanes is how many groups PostgreSQL runs at once, each on its own
// connection: while one group commits the next gathers and runs, so the
// server's CPU and the WAL flush overlap. Measured with make bench-http
// (docs/benchmarks.md); more lanes make smaller groups.
const pgGroupLanes = 4

// groupCommitter is the group commit. There is no background goroutine: a
// caller that finds a lane free leads a group (runs every queued fn in one
// transaction and commits), then hands its lane to the first caller that
// queued meanwhile, whose group is everyone queued by then. At low load a
// group is one caller and costs what RunInTx does.
type groupCommitter struct {
	db *bun.DB
	// savepoints: each member runs in a savepoint (SQLite); otherwise a
	// failing member makes every member of its group run again alone.
	savepoints bool
	lanes      int // groups running at once

	mu      sync.Mutex
	queue   []*groupWork
	running int // lanes in use; queue is empty whenever running < lanes
}

type groupWork struct {
	ctx      context.Context
	first    GroupFirst // nil: fn has no statement to send ahead
	fn       func(ctx context.Context, tx bun.Tx) error
	err      error
	panicked any
	skipped  bool // ctx ended before its turn: fn did not run
	alone    bool // the group rolled back: run fn in its own transaction
	// wake tells a waiting caller true (lead the next group, on the lane
	// handed to it) or false (your group is done; err or alone is set).
	wake chan bool
}

func newGroupCommitter(db *bun.DB, d Dialect) *groupCommitter {
	if d == DialectSQLite {
		// One writer: a second lane would only wait for the first.
		return &groupCommitter{db: db, savepoints: true, lanes: 1}
	}
	return &groupCommitter{db: db, lanes: pgGroupLanes}
}

func (g *groupCommitter) run(ctx context.Context, first GroupFirst, fn func(ctx context.Context, tx bun.Tx) error) error {
	w := &groupWork{ctx: ctx, first: first, fn: fn, wake: make(chan bool, 1)}
	g.mu.Lock()
	lead := g.running < g.lanes
	if lead {
		g.running++
	} else {
		g.queue = append(g.queue, w)
	}
	g.mu.Unlock()
	if !lead {
		lead = <-w.wake
	}
	if lead {
		g.lead(w)
	}
	if w.panicked != nil {
		panic(w.panicked)
	}
	if w.alone {
		return g.db.RunInTx(ctx, nil, fn)
	}
	return w.err
}

// lead runs one group, leader and whoever queued, then passes the lane on.
func (g *groupCommitter) lead(leader *groupWork) {
	g.mu.Lock()
	n := min(len(g.queue), maxGroup-1)
	group := append([]*groupWork{leader}, g.queue[:n]...)
	g.queue = append([]*groupWork(nil), g.queue[n:]...)
	g.mu.Unlock()

	if g.savepoints {
		g.commitSavepoints(leader.ctx, group)
	} else {
		g.commitOrRetryAlone(leader.ctx, group)
	}

	g.mu.Lock()
	var next *groupWork
	if len(g.queue) > 0 {
		next = g.queue[0]
		g.queue = g.queue[1:]
	} else {
		g.running--
	}
	g.mu.Unlock()
	if next != nil {
		next.wake <- true
	}
	for _, w := range group {
		if w != leader {
			w.wake <- false
		}
	}
}

// savepoint names the savepoint each fn runs in. One name suffices: each
// is released before the next is set.
const savepoint = "group_item"

// commitSavepoints runs group in one transaction, each member in a
// savepoint, and records each member's outcome.
func (g *groupCommitter) commitSavepoints(ctx context.Context, group []*groupWork) {
	ctx = context.WithoutCancel(ctx)
	tx, err := g.db.BeginTx(ctx, nil)
	if err != nil {
		failAll(group, fmt.Errorf("store: begin group transaction: %w", err))
		return
	}
	abort := func(err error) {
		_ = tx.Rollback()
		failAll(group, fmt.Errorf("store: group transaction: %w", err))
	}
	for _, w := range group {
		if err := w.ctx.Err(); err != nil {
			w.err, w.skipped = err, true
			continue
		}
		if _, err := tx.Tx.ExecContext(ctx, "SAVEPOINT "+savepoint); err != nil {
			abort(err)
			return
		}
		if w.err = g.call(w, tx); w.err != nil {
			if _, err := tx.Tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT "+savepoint); err != nil {
				abort(err)
				return
			}
		}
		if _, err := tx.Tx.ExecContext(ctx, "RELEASE SAVEPOINT "+savepoint); err != nil {
			abort(err)
			return
		}
	}
	if err := tx.Commit(); err != nil {
		failAll(group, fmt.Errorf("store: commit group transaction: %w", err))
	}
}

// commitOrRetryAlone runs group in one transaction without savepoints. The
// first member that fails (or panics) rolls the transaction back; then
// every member that ran, and every one that had not run yet, runs again
// alone on its own goroutine (run), except a member that panicked, whose
// panic is re-raised there. The members' first statements go ahead of
// them in one batch (sendFirsts); if one of those fails, so does the group.
func (g *groupCommitter) commitOrRetryAlone(ctx context.Context, group []*groupWork) {
	ctx = context.WithoutCancel(ctx)
	// A connection of its own, so that the batch can reach pgx under
	// database/sql's transaction on it.
	conn, err := g.db.Conn(ctx)
	if err != nil {
		failAll(group, fmt.Errorf("store: begin group transaction: %w", err))
		return
	}
	defer conn.Close()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		failAll(group, fmt.Errorf("store: begin group transaction: %w", err))
		return
	}
	retryAlone := func() {
		_ = tx.Rollback()
		for _, m := range group {
			if !m.skipped && m.panicked == nil {
				m.alone, m.err = true, nil
			}
		}
	}
	if err := g.sendFirsts(ctx, conn, tx, group); err != nil {
		retryAlone()
		return
	}
	for _, w := range group {
		if w.skipped {
			continue
		}
		if err := w.ctx.Err(); err != nil && w.first == nil {
			w.err, w.skipped = err, true
			continue
		}
		if err := g.call(w, tx); err != nil {
			retryAlone()
			return
		}
	}
	if err := tx.Commit(); err != nil {
		failAll(group, fmt.Errorf("store: commit group transaction: %w", err))
	}
}

// sendFirsts sends the first statement of every member that has one in
// one pipelined round trip (a pgx batch on tx's connection) and hands each
// its result. A member whose ctx has ended is skipped before its statement
// is sent. Once a statement fails, the transaction is aborted and so is
// every later one: the caller rolls back and retries each member alone.
func (g *groupCommitter) sendFirsts(ctx context.Context, conn bun.Conn, tx bun.Tx, group []*groupWork) error {
	var (
		batch  pgx.Batch
		firsts []GroupFirst
	)
	for _, w := range group {
		if w.first == nil {
			continue
		}
		if err := w.ctx.Err(); err != nil {
			w.err, w.skipped = err, true
			continue
		}
		q, args := w.first.firstStatement()
		batch.Queue(q, args...)
		firsts = append(firsts, w.first)
	}
	if len(firsts) == 0 {
		return nil
	}
	return conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("store: a group batch needs a pgx connection, not %T", dc)
		}
		br := c.Conn().SendBatch(ctx, &batch)
		for _, f := range firsts {
			if err := f.firstResult(br.QueryRow(), tx.Tx); err != nil {
				_ = br.Close()
				return err
			}
		}
		return br.Close()
	})
}

func failAll(group []*groupWork, err error) {
	for _, w := range group {
		w.err = err
	}
}

// call runs one member's fn; a panic becomes an error for the group and
// is re-raised on the member's own goroutine (run).
func (g *groupCommitter) call(w *groupWork, tx bun.Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			w.panicked = p
			err = fmt.Errorf("store: panic in group transaction: %v", p)
		}
	}()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(w.ctx), GroupItemTimeout)
	defer cancel()
	return w.fn(ctx, tx)
}
