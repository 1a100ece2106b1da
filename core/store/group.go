package store

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/uptrace/bun"
)

// RunInGroupTx runs fn like RunInTx, except that on SQLite concurrent
// callers share one transaction and one commit (group commit): SQLite
// writes one at a time and, with synchronous=FULL, every commit is an
// fsync, so committing N creates at once costs about one create's commit
// instead of N. Each fn runs inside its own savepoint: an error from fn
// undoes only fn's writes and is returned to its caller. RunInGroupTx
// returns only after the shared commit, so nothing is acknowledged before
// it is durable; if that commit fails, every caller in the group gets the
// error, including those whose fn failed (their failure may have depended
// on a group member's writes that never committed).
//
// fn must use only tx (never the Store's pool), have no effects outside the
// database, and be short: it runs on the goroutine leading the group, with
// ctx's values but not its cancellation (cancelling one statement would
// roll back the whole group's transaction), bounded by GroupItemTimeout.
// A caller whose ctx ends while it waits for its turn is skipped.
//
// On PostgreSQL it is RunInTx: there every transaction has its own
// connection and the server already groups concurrent commits' WAL
// flushes.
func (s *Store) RunInGroupTx(ctx context.Context, fn func(ctx context.Context, tx bun.Tx) error) error {
	if s.group == nil {
		return s.RunInTx(ctx, fn)
	}
	return s.group.run(ctx, fn)
}

// GroupItemTimeout bounds one fn of RunInGroupTx.
const GroupItemTimeout = 10 * time.Second

// maxGroup bounds a group, so one commit's latency stays bounded under
// any load.
const maxGroup = 64

// groupCommitter is the SQLite group commit. There is no background
// goroutine: the first caller to find no group running leads one (runs
// every queued fn in one transaction and commits), then hands the lead to
// the first caller that queued meanwhile, whose group is everyone queued
// by then. At low load a group is one caller and costs what RunInTx does.
type groupCommitter struct {
	db *bun.DB

	mu    sync.Mutex
	queue []*groupWork
	busy  bool // a leader is running; queue is empty whenever busy is false
}

type groupWork struct {
	ctx      context.Context
	fn       func(ctx context.Context, tx bun.Tx) error
	err      error
	panicked any
	// wake tells a waiting caller true (lead the next group) or false
	// (your group committed; err is set).
	wake chan bool
}

func newGroupCommitter(db *bun.DB, d Dialect) *groupCommitter {
	if d != DialectSQLite {
		return nil
	}
	return &groupCommitter{db: db}
}

func (g *groupCommitter) run(ctx context.Context, fn func(ctx context.Context, tx bun.Tx) error) error {
	w := &groupWork{ctx: ctx, fn: fn, wake: make(chan bool, 1)}
	g.mu.Lock()
	g.queue = append(g.queue, w)
	lead := !g.busy
	g.busy = true
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
	return w.err
}

// lead runs one group, which starts with leader, then passes the lead on.
func (g *groupCommitter) lead(leader *groupWork) {
	g.mu.Lock()
	n := min(len(g.queue), maxGroup)
	group := g.queue[:n:n]
	g.queue = append([]*groupWork(nil), g.queue[n:]...)
	g.mu.Unlock()

	g.commit(leader.ctx, group)

	g.mu.Lock()
	var next *groupWork
	if len(g.queue) > 0 {
		next = g.queue[0]
	} else {
		g.busy = false
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

// commit runs group in one transaction and records each member's outcome.
func (g *groupCommitter) commit(ctx context.Context, group []*groupWork) {
	ctx = context.WithoutCancel(ctx)
	fail := func(err error) {
		for _, w := range group {
			w.err = err
		}
	}
	tx, err := g.db.BeginTx(ctx, nil)
	if err != nil {
		fail(fmt.Errorf("store: begin group transaction: %w", err))
		return
	}
	abort := func(err error) {
		_ = tx.Rollback()
		fail(fmt.Errorf("store: group transaction: %w", err))
	}
	for _, w := range group {
		if err := w.ctx.Err(); err != nil {
			w.err = err
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
		fail(fmt.Errorf("store: commit group transaction: %w", err))
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
