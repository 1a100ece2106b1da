package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/core/store/storetest"
)

// addSite is a group member's write: one site row for merchant m.
func addSite(ctx context.Context, tx bun.Tx, m int64, domain string) error {
	_, err := tx.NewInsert().Model(&store.Site{MerchantID: m, Domain: domain, CreatedAt: time.Now().UTC()}).Exec(ctx)
	return err
}

func siteDomains(t *testing.T, s *store.Store, m int64) map[string]bool {
	t.Helper()
	sites, err := s.ListSites(ctxT(t), m)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, site := range sites {
		out[site.Domain] = true
	}
	return out
}

// waitQueued blocks until n callers wait behind the running group, so the
// test knows they will share the next one.
func waitQueued(t *testing.T, s *store.Store, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for s.GroupQueued() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d callers queued, want %d", s.GroupQueued(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// holdLanes occupies every group-commit lane with a member that waits, so
// callers started afterwards queue and share the groups that follow.
// release lets the holders commit and waits for them.
func holdLanes(t *testing.T, s *store.Store) (release func()) {
	t.Helper()
	ctx := ctxT(t)
	gate := make(chan struct{})
	errs := make(chan error, s.GroupLanes())
	for range s.GroupLanes() {
		started := make(chan struct{})
		go func() {
			errs <- s.RunInGroupTx(ctx, func(ctx context.Context, tx bun.Tx) error {
				close(started)
				<-gate
				return nil
			})
		}()
		<-started
	}
	return func() {
		t.Helper()
		close(gate)
		for range s.GroupLanes() {
			if err := <-errs; err != nil {
				t.Fatalf("lane holder: %v", err)
			}
		}
	}
}

func TestRunInGroupTx(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, s *store.Store) {
		ctx := ctxT(t)
		m, err := s.CreateMerchant(ctx, store.NewMerchant{Name: "Group", Plan: store.PlanFree})
		if err != nil {
			t.Fatal(err)
		}
		sqlite := s.Dialect() == store.DialectSQLite

		t.Run("members commit or roll back alone, all after a shared commit", func(t *testing.T) {
			// Every lane is held until the others have queued, so they
			// share the groups that follow. On PostgreSQL a failing member
			// rolls its group back and every member runs again alone.
			const n = 24
			var (
				wg   sync.WaitGroup
				mu   sync.Mutex
				txs  = map[*sql.Tx]int{}
				errs = make([]error, n)
				boom = errors.New("member failed")
			)
			release := holdLanes(t, s)
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					errs[i] = s.RunInGroupTx(ctx, func(ctx context.Context, tx bun.Tx) error {
						mu.Lock()
						txs[tx.Tx]++
						mu.Unlock()
						if err := addSite(ctx, tx, m.ID, fmt.Sprintf("m%d.test", i)); err != nil {
							return err
						}
						if i%3 == 1 {
							return boom // after writing: its site must vanish
						}
						return nil
					})
				}()
			}
			waitQueued(t, s, n)
			release()
			wg.Wait()

			got := siteDomains(t, s, m.ID)
			for i, err := range errs {
				want := i%3 != 1
				if want && err != nil || !want && !errors.Is(err, boom) {
					t.Fatalf("member %d: err %v", i, err)
				}
				if got[fmt.Sprintf("m%d.test", i)] != want {
					t.Fatalf("member %d: site present = %v, want %v", i, !want, want)
				}
			}
			if sqlite && len(txs) != 1 {
				t.Fatalf("SQLite members ran in %d transactions, want 1 group", len(txs))
			}
		})

		t.Run("members that succeed share a transaction", func(t *testing.T) {
			const n = 12
			var (
				wg   sync.WaitGroup
				mu   sync.Mutex
				txs  = map[*sql.Tx]int{}
				errs = make([]error, n)
			)
			release := holdLanes(t, s)
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					errs[i] = s.RunInGroupTx(ctx, func(ctx context.Context, tx bun.Tx) error {
						mu.Lock()
						txs[tx.Tx]++
						mu.Unlock()
						return addSite(ctx, tx, m.ID, fmt.Sprintf("shared%d.test", i))
					})
				}()
			}
			waitQueued(t, s, n)
			release()
			wg.Wait()
			got := siteDomains(t, s, m.ID)
			for i, err := range errs {
				if err != nil || !got[fmt.Sprintf("shared%d.test", i)] {
					t.Fatalf("member %d: err %v, site present %v", i, err, got[fmt.Sprintf("shared%d.test", i)])
				}
			}
			// Each freed lane is handed to the first queued caller, which
			// takes everyone queued then: at most one group per lane.
			if len(txs) > s.GroupLanes() {
				t.Fatalf("%d members ran in %d transactions, want at most %d (one per lane)", n, len(txs), s.GroupLanes())
			}
		})

		t.Run("a panic is re-raised on its caller only", func(t *testing.T) {
			var recovered any
			func() {
				defer func() { recovered = recover() }()
				_ = s.RunInGroupTx(ctx, func(ctx context.Context, tx bun.Tx) error {
					if err := addSite(ctx, tx, m.ID, "panic.test"); err != nil {
						return err
					}
					panic("member panicked")
				})
			}()
			if recovered != "member panicked" {
				t.Fatalf("recovered %v", recovered)
			}
			if siteDomains(t, s, m.ID)["panic.test"] {
				t.Fatal("the panicking member's write was committed")
			}
			if err := s.RunInGroupTx(ctx, func(ctx context.Context, tx bun.Tx) error {
				return addSite(ctx, tx, m.ID, "after-panic.test")
			}); err != nil {
				t.Fatalf("group commit unusable after a panic: %v", err)
			}
		})

		t.Run("a caller cancelled before its turn is skipped", func(t *testing.T) {
			release := holdLanes(t, s)
			cctx, cancel := context.WithCancel(ctx)
			ran := false
			errc := make(chan error, 1)
			go func() {
				errc <- s.RunInGroupTx(cctx, func(ctx context.Context, tx bun.Tx) error {
					ran = true
					return addSite(ctx, tx, m.ID, "cancelled.test")
				})
			}()
			waitQueued(t, s, 1)
			cancel()
			release()
			if err := <-errc; !errors.Is(err, context.Canceled) {
				t.Fatalf("cancelled caller: %v", err)
			}
			if ran || siteDomains(t, s, m.ID)["cancelled.test"] {
				t.Fatal("the cancelled caller's fn ran")
			}
		})

		if !sqlite {
			return
		}
		t.Run("a failed commit fails every member", func(t *testing.T) {
			// A deferred foreign key violation surfaces only at COMMIT.
			// holdLanes reads the first group's outcome itself: its leader
			// hands the lead on before it returns, so the second group's
			// errors can arrive first.
			release := holdLanes(t, s)
			errs := make(chan error, 2)
			go func() {
				errs <- s.RunInGroupTx(ctx, func(ctx context.Context, tx bun.Tx) error {
					return addSite(ctx, tx, m.ID, "innocent.test")
				})
			}()
			go func() {
				errs <- s.RunInGroupTx(ctx, func(ctx context.Context, tx bun.Tx) error {
					if _, err := tx.ExecContext(ctx, "PRAGMA defer_foreign_keys = ON"); err != nil {
						return err
					}
					return addSite(ctx, tx, m.ID+1000, "orphan.test")
				})
			}()
			waitQueued(t, s, 2)
			release()
			for range 2 {
				if err := <-errs; err == nil {
					t.Fatal("a member of the failed group got nil")
				}
			}
			if got := siteDomains(t, s, m.ID); got["innocent.test"] || got["orphan.test"] {
				t.Fatalf("failed group left rows: %v", got)
			}
		})
	})
}

// sessionInsert is a session of merchant m for order and its first event.
func sessionInsert(m int64, order string) *store.SessionInsert {
	sess := newTestSession(m, order, domain.StatusOpen)
	sess.EventSeq = 1
	return store.NewSessionInsert(sess, &store.Event{ID: domain.NewEventID(), MerchantID: m, Mode: sess.Mode,
		SessionID: sess.ID, Type: "session.created", Seq: 1, Data: `{}`, CreatedAt: sess.CreatedAt})
}

// On PostgreSQL a group sends its members' first statements together
// after BEGIN (one round trip), so each member's row is there before its
// fn runs; InsertOrderSession then takes the batch's result. A member
// whose first statement fails fails alone, and two members of one order
// make one session.
func TestRunInGroupTxFirst(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, s *store.Store) {
		ctx := ctxT(t)
		m, err := s.CreateMerchant(ctx, store.NewMerchant{Name: "First", Plan: store.PlanFree})
		if err != nil {
			t.Fatal(err)
		}
		const n = 10
		var (
			wg        sync.WaitGroup
			errs      = make([]error, n)
			inserted  = make([]bool, n)
			rowBefore = make([]bool, n)
			ins       = make([]*store.SessionInsert, n)
		)
		for i := range n {
			switch i {
			case 3: // no such merchant: its statement fails
				ins[i] = sessionInsert(m.ID+1000, "ORD-bad")
			case 7: // the order of member 2
				ins[i] = sessionInsert(m.ID, "ORD-2")
			default:
				ins[i] = sessionInsert(m.ID, fmt.Sprintf("ORD-%d", i))
			}
		}
		release := holdLanes(t, s)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = s.RunInGroupTxFirst(ctx, ins[i], func(ctx context.Context, tx bun.Tx) error {
					var c int
					if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM sessions WHERE id = ?", ins[i].Session().ID).Scan(&c); err != nil {
						return err
					}
					rowBefore[i] = c == 1
					var err error
					inserted[i], err = s.InTx(tx).InsertOrderSession(ctx, ins[i])
					return err
				})
			}()
		}
		waitQueued(t, s, n)
		release()
		wg.Wait()

		for i := range n {
			switch {
			case i == 3:
				if errs[i] == nil || !store.IsForeignKeyViolation(errs[i]) {
					t.Fatalf("member with no merchant: err %v, want a foreign key violation", errs[i])
				}
				continue
			case errs[i] != nil:
				t.Fatalf("member %d: %v", i, errs[i])
			case !inserted[i] && i != 2 && i != 7:
				t.Fatalf("member %d was not inserted", i)
			}
			_, err := s.GetSession(ctx, ins[i].Session().ID)
			if (err == nil) != inserted[i] {
				t.Fatalf("member %d: session read back err %v, inserted %v", i, err, inserted[i])
			}
		}
		if inserted[2] == inserted[7] {
			t.Fatalf("two members of one order: inserted %v and %v, want exactly one", inserted[2], inserted[7])
		}
		// The group with the failing member ran again alone, each member
		// in its own transaction that ran its statement itself; no row
		// was there before fn on SQLite, which sends nothing ahead.
		if s.Dialect() == store.DialectSQLite {
			for i, before := range rowBefore {
				if before {
					t.Fatalf("SQLite: member %d's row existed before its fn", i)
				}
			}
		}

		t.Run("sent ahead", func(t *testing.T) {
			// A group of good members: on PostgreSQL their rows are in
			// before their fns run.
			const k = 4
			var (
				wg     sync.WaitGroup
				errs   = make([]error, k)
				before = make([]bool, k)
			)
			release := holdLanes(t, s)
			for i := range k {
				wg.Add(1)
				go func() {
					defer wg.Done()
					in := sessionInsert(m.ID, fmt.Sprintf("ORD-ahead-%d", i))
					errs[i] = s.RunInGroupTxFirst(ctx, in, func(ctx context.Context, tx bun.Tx) error {
						var c int
						if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM sessions WHERE id = ?", in.Session().ID).Scan(&c); err != nil {
							return err
						}
						before[i] = c == 1
						ok, err := s.InTx(tx).InsertOrderSession(ctx, in)
						if err == nil && !ok {
							err = fmt.Errorf("not inserted")
						}
						return err
					})
				}()
			}
			waitQueued(t, s, k)
			release()
			wg.Wait()
			for i := range k {
				if errs[i] != nil {
					t.Fatalf("member %d: %v", i, errs[i])
				}
				if want := s.Dialect() == store.DialectPostgres; before[i] != want {
					t.Fatalf("member %d: row there before fn = %v, want %v", i, before[i], want)
				}
			}
		})
	})
}

// A session insert on PostgreSQL also answers whether the merchant has a
// live URL endpoint; without one, LiveWebhookEndpoints in the same
// transaction (given the insert's Context) does not ask again. With one,
// or in another transaction, it reads the endpoints.
func TestSessionInsertKnowsEndpoints(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, s *store.Store) {
		ctx := ctxT(t)
		m, err := s.CreateMerchant(ctx, store.NewMerchant{Name: "Eps", Plan: store.PlanFree})
		if err != nil {
			t.Fatal(err)
		}
		pg := s.Dialect() == store.DialectPostgres
		addEndpoint := func(ctx context.Context, r *store.Repo, url string) {
			t.Helper()
			now := time.Now().UTC()
			if err := r.InsertWebhookEndpoint(ctx, &store.WebhookEndpoint{ID: "we_" + url, MerchantID: m.ID, Kind: store.EndpointURL, URL: url,
				EventTypes: store.Scopes{}, Profile: "standard", Schedule: "svix", Enabled: true, CreatedAt: now, UpdatedAt: now}); err != nil {
				t.Fatal(err)
			}
		}
		count := func(ctx context.Context, r *store.Repo) int {
			t.Helper()
			eps, err := r.LiveWebhookEndpoints(ctx, m.ID)
			if err != nil {
				t.Fatal(err)
			}
			return len(eps)
		}
		var marked context.Context
		err = s.RunInTx(ctx, func(ctx context.Context, tx bun.Tx) error {
			r := s.InTx(tx)
			in := sessionInsert(m.ID, "ORD-eps-1")
			if ok, err := r.InsertOrderSession(ctx, in); err != nil || !ok {
				t.Fatalf("insert: %v, %v", ok, err)
			}
			marked = in.Context(ctx)
			// An endpoint added later in the transaction is not seen
			// through the marked ctx: the answer is the insert's.
			addEndpoint(ctx, r, "https://a.example/hook")
			if got, want := count(marked, r), map[bool]int{true: 0, false: 1}[pg]; got != want {
				t.Fatalf("endpoints through the insert's ctx = %d, want %d", got, want)
			}
			if got := count(ctx, r); got != 1 {
				t.Fatalf("endpoints = %d, want 1", got)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		// Another transaction does not take the marker.
		if err := s.RunInTx(ctx, func(ctx context.Context, tx bun.Tx) error {
			if got := count(marked, s.InTx(tx)); got != 1 {
				t.Fatalf("endpoints in another transaction through the marked ctx = %d, want 1", got)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		// With an endpoint in place, the insert's ctx reads it.
		if err := s.RunInTx(ctx, func(ctx context.Context, tx bun.Tx) error {
			r := s.InTx(tx)
			in := sessionInsert(m.ID, "ORD-eps-2")
			if ok, err := r.InsertOrderSession(ctx, in); err != nil || !ok {
				t.Fatalf("insert: %v, %v", ok, err)
			}
			if got := count(in.Context(ctx), r); got != 1 {
				t.Fatalf("endpoints through the insert's ctx = %d, want 1", got)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	})
}
