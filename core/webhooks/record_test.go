package webhooks_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"
	"go.opentelemetry.io/otel/attribute"

	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/core/store/storetest"
	"github.com/switchyard/switchyard/core/telemetry/telemetrytest"
	"github.com/switchyard/switchyard/core/webhooks"
)

// scheduledAttempts returns the ids of the attempts not made yet.
func scheduledAttempts(t *testing.T, st *store.Store) []int64 {
	t.Helper()
	var ids []int64
	if err := st.DB().NewSelect().Table("webhook_attempts").Column("id").Where("state = ?", store.AttemptScheduled).
		Order("id").Scan(ctxT(t), &ids); err != nil {
		t.Fatal(err)
	}
	return ids
}

// queueAttempts emits n events for sess (one delivery each) and returns
// their first attempts' ids; nothing works them.
func queueAttempts(t *testing.T, h *harness, sess *store.Session, n int) []int64 {
	t.Helper()
	for range n {
		h.emit(t, sess, "session.paid")
	}
	ids := scheduledAttempts(t, h.st)
	if len(ids) != n {
		t.Fatalf("%d scheduled attempts, want %d", len(ids), n)
	}
	return ids
}

// holdGroupCommit holds every group-commit lane of st (a member that
// blocks) until the returned release is called, so that concurrent
// RunInGroupTx callers queue behind it.
func holdGroupCommit(t *testing.T, st *store.Store) (release func()) {
	t.Helper()
	// More holders than any store has lanes: the extra ones queue and
	// return at once after release.
	const holders = 8
	gate := make(chan struct{})
	var wg sync.WaitGroup
	for range holders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = st.RunInGroupTx(ctxT(t), func(context.Context, bun.Tx) error {
				<-gate
				return nil
			})
		}()
	}
	var once sync.Once
	release = func() {
		once.Do(func() { close(gate); wg.Wait() })
	}
	t.Cleanup(release)
	return release
}

// runAttempts runs RunAttempt for each id on its own goroutine (as River's
// workers would), holding the group commit until every POST was answered
// and the recordings queued, and returns each call's error.
func runAttempts(t *testing.T, h *harness, rc *receiver, ids []int64) []error {
	t.Helper()
	release := holdGroupCommit(t, h.st)
	errs := make([]error, len(ids))
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = h.svc.RunAttempt(ctxT(t), id)
		}()
	}
	deadline := time.Now().Add(20 * time.Second)
	for len(rc.all()) < len(ids) {
		if time.Now().After(deadline) {
			t.Fatalf("receiver saw %d of %d attempts", len(rc.all()), len(ids))
		}
		time.Sleep(5 * time.Millisecond)
	}
	// The POSTs are answered; leave the callers time to read the answer
	// and queue their recordings.
	time.Sleep(200 * time.Millisecond)
	release()
	wg.Wait()
	return errs
}

// TestRecordingsShareACommit: concurrent attempts' recordings are one
// group commit, not a commit each (the drain's bound, docs/benchmarks.md),
// and each attempt is still recorded exactly once, including when a
// duplicate run of an attempt is in the same group (on PostgreSQL that
// member's refusal rolls its group back and every member runs again alone).
func TestRecordingsShareACommit(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, base *store.Store) {
		m := telemetrytest.New(t)
		st := storetest.ReopenWith(t, base, store.Options{MeterProvider: m.Provider()})
		system := "sqlite"
		if st.Dialect() == store.DialectPostgres {
			system = "postgresql"
		}
		commits := func() float64 {
			n, _ := m.Value("db.client.operation.duration", attribute.String("db.system.name", system),
				attribute.String("db.operation.name", "COMMIT"))
			return n
		}
		h := newHarness(t, st, nil)
		rc := newReceiver(t, status(200))
		h.addEndpoint(t, webhooks.NewEndpoint{URL: rc.URL()})
		sess := h.session(t, "shop.test", "test", "")
		// The statements are prepared outside the held group (SQLite
		// prepares on the writer connection the holders' transaction has).
		if err := st.PrepareHot(ctxT(t)); err != nil {
			t.Fatal(err)
		}

		t.Run("one commit for many recordings", func(t *testing.T) {
			const n = 24
			ids := queueAttempts(t, h, sess, n)
			before := commits()
			for i, err := range runAttempts(t, h, rc, ids) {
				if err != nil {
					t.Fatalf("attempt %d: %v", ids[i], err)
				}
			}
			// The holders' groups (one per lane) and the recordings' group:
			// a handful of commits, where a transaction per recording makes n.
			if got := commits() - before; got > n/2 {
				t.Fatalf("%d recordings took %v commits, want them grouped (at most %d)", n, got, n/2)
			}
			checkRecordedOnce(t, h, n)
		})

		t.Run("a duplicate run in the group changes nothing", func(t *testing.T) {
			rc.mu.Lock()
			rc.hits = nil
			rc.mu.Unlock()
			const n = 8
			ids := queueAttempts(t, h, sess, n)
			// Every attempt runs twice at once: both POST (the receiver
			// sees it twice), one records it.
			for i, err := range runAttempts(t, h, rc, append(ids, ids...)) {
				if err != nil {
					t.Fatalf("run %d: %v", i, err)
				}
			}
			checkRecordedOnce(t, h, 24+n)
		})
	})
}

// checkRecordedOnce: the first n deliveries all succeeded with exactly one
// recorded attempt each, and no attempt is left scheduled.
func checkRecordedOnce(t *testing.T, h *harness, n int) {
	t.Helper()
	ds := h.deliveries(t, store.DeliveryFilter{Limit: 1000})
	if len(ds) != n {
		t.Fatalf("%d deliveries, want %d", len(ds), n)
	}
	for _, d := range ds {
		full, err := h.svc.GetDelivery(ctxT(t), d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if full.Status != store.DeliverySucceeded || full.Attempts != 1 || len(full.AttemptLog) != 1 {
			t.Fatalf("delivery %s: status %s, %d attempts, %d in the log; want succeeded, 1, 1",
				d.ID, full.Status, full.Attempts, len(full.AttemptLog))
		}
		if a := full.AttemptLog[0]; a.State != store.AttemptOK {
			t.Fatalf("delivery %s: attempt is %s", d.ID, a.State)
		}
	}
	if left := scheduledAttempts(t, h.st); len(left) != 0 {
		t.Fatalf("%d attempts still scheduled", len(left))
	}
}

// TestAttemptOfDeletedEndpoint: an attempt whose endpoint was deleted, or
// disabled, after it was queued sends nothing and is recorded as canceled
// (its read finds no live endpoint row: all of its columns are NULL).
func TestAttemptOfDeletedEndpoint(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st, nil)
		rc := newReceiver(t, status(200))
		ep := h.addEndpoint(t, webhooks.NewEndpoint{URL: rc.URL()})
		sess := h.session(t, "shop.test", "test", "")
		ids := queueAttempts(t, h, sess, 2)
		if _, err := h.svc.SetEnabled(ctxT(t), ep.ID, false, "paused by the merchant"); err != nil {
			t.Fatal(err)
		}
		if err := h.svc.RunAttempt(ctxT(t), ids[0]); err != nil {
			t.Fatal(err)
		}
		if err := h.svc.DeleteEndpoint(ctxT(t), ep.ID); err != nil {
			t.Fatal(err)
		}
		if err := h.svc.RunAttempt(ctxT(t), ids[1]); err != nil {
			t.Fatal(err)
		}
		if n := len(rc.all()); n != 0 {
			t.Fatalf("receiver got %d requests", n)
		}
		// One delivery was canceled as disabled, the other as deleted.
		var found []string
		for _, d := range h.deliveries(t, store.DeliveryFilter{Limit: 10}) {
			full, err := h.svc.GetDelivery(ctxT(t), d.ID)
			if err != nil {
				t.Fatal(err)
			}
			if full.Status != store.DeliveryDisabled || len(full.AttemptLog) != 1 || full.AttemptLog[0].State != store.AttemptCanceled {
				t.Fatalf("delivery %s: %s, attempts %+v", d.ID, full.Status, full.AttemptLog)
			}
			found = append(found, full.LastError)
		}
		var deleted, disabled int
		for _, e := range found {
			switch {
			case e == "endpoint was deleted":
				deleted++
			case strings.HasSuffix(e, "is disabled: paused by the merchant"):
				disabled++
			}
		}
		if len(found) != 2 || deleted != 1 || disabled != 1 {
			t.Fatalf("deliveries' last errors %q", found)
		}
	})
}
