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
