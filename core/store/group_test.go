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

func TestRunInGroupTx(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, s *store.Store) {
		ctx := ctxT(t)
		m, err := s.CreateMerchant(ctx, store.NewMerchant{Name: "Group", Plan: store.PlanFree})
		if err != nil {
			t.Fatal(err)
		}
		sqlite := s.Dialect() == store.DialectSQLite

		t.Run("members commit or roll back alone, all after one commit", func(t *testing.T) {
			// The first member holds its group open until the others have
			// queued, so on SQLite they all share the second group.
			const n = 24
			release, started := make(chan struct{}), make(chan struct{})
			var (
				wg   sync.WaitGroup
				mu   sync.Mutex
				txs  = map[*sql.Tx]int{}
				errs = make([]error, n)
				boom = errors.New("member failed")
			)
			member := func(i int) {
				defer wg.Done()
				errs[i] = s.RunInGroupTx(ctx, func(ctx context.Context, tx bun.Tx) error {
					if i == 0 {
						close(started)
						<-release
					}
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
			}
			wg.Add(1)
			go member(0)
			<-started // member 0 leads the first group

			for i := 1; i < n; i++ {
				wg.Add(1)
				go member(i)
			}
			if sqlite {
				waitQueued(t, s, n-1)
			}
			close(release)
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
			if sqlite && len(txs) != 2 {
				t.Fatalf("SQLite members ran in %d transactions, want 2 (the first alone, then one group)", len(txs))
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
			release, started := make(chan struct{}), make(chan struct{})
			done := make(chan error, 1)
			go func() {
				done <- s.RunInGroupTx(ctx, func(ctx context.Context, tx bun.Tx) error {
					close(started)
					<-release
					return addSite(ctx, tx, m.ID, "first.test")
				})
			}()
			<-started
			cctx, cancel := context.WithCancel(ctx)
			ran := false
			errc := make(chan error, 1)
			go func() {
				errc <- s.RunInGroupTx(cctx, func(ctx context.Context, tx bun.Tx) error {
					ran = true
					return addSite(ctx, tx, m.ID, "cancelled.test")
				})
			}()
			if sqlite {
				waitQueued(t, s, 1)
			}
			cancel()
			if !sqlite {
				// PostgreSQL has no queue: the cancelled caller's own
				// transaction fails on its own.
				if err := <-errc; !errors.Is(err, context.Canceled) {
					t.Fatalf("cancelled caller: %v", err)
				}
			}
			close(release)
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			if sqlite {
				if err := <-errc; !errors.Is(err, context.Canceled) {
					t.Fatalf("cancelled caller: %v", err)
				}
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
			release, started := make(chan struct{}), make(chan struct{})
			// The first group's outcome has its own channel: its leader
			// hands the lead on before it returns, so the second group's
			// errors can arrive first.
			first, errs := make(chan error, 1), make(chan error, 2)
			go func() {
				first <- s.RunInGroupTx(ctx, func(ctx context.Context, tx bun.Tx) error {
					close(started)
					<-release
					return nil
				})
			}()
			<-started
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
			close(release)
			if err := <-first; err != nil {
				t.Fatalf("first group: %v", err)
			}
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
