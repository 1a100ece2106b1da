package store_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/core/store/storetest"
)

// createClients is make bench-http's wrk connection count.
const createClients = 32

// BenchmarkCreateStatements is the database ceiling of session create, the
// analog of make bench-pgbench: exactly the statements one create runs, the
// way core/payments runs them (PrepareHot, then RunInGroupTxFirst: the
// session, inserted only if its order is free, its session.created event,
// and the outbound-webhook endpoint lookup, for a merchant without
// endpoints as in make bench-http), from 32 goroutines, through the same
// Store (SQLite: modernc, WAL, synchronous=FULL, one writer, group commit
// with a savepoint per create; PostgreSQL: the group's inserts pipelined),
// with no HTTP, authentication, validation or JSON. Each create is a new
// order; the rows are built outside the group, as payments.newSession
// builds them. make bench-sqlite runs the SQLite variant on a
// database under var/; docs/benchmarks.md compares it with the bare
// binary of make bench-http.
//
// It reports creates/s and the process's CPU time per create (user +
// system, the benchmark's own goroutines included), which other load on
// the host changes less than throughput.
func BenchmarkCreateStatements(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) { benchCreateStatements(b, storetest.SQLite(b)) })
	if os.Getenv(storetest.EnvPostgresDSN) != "" {
		b.Run("postgres", func(b *testing.B) { benchCreateStatements(b, storetest.Postgres(b)) })
	}
}

func benchCreateStatements(b *testing.B, st *store.Store) {
	ctx := context.Background()
	m, err := st.CreateMerchant(ctx, store.NewMerchant{Name: "Ceiling", Plan: store.PlanFree, Domains: []string{"shop.test"}})
	if err != nil {
		b.Fatal(err)
	}
	if err := st.PrepareHot(ctx); err != nil {
		b.Fatal(err)
	}
	var seq atomic.Int64
	b.SetParallelism((createClients + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
	cpu0 := processCPU(b)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			ins := store.NewSessionInsert(newCreate(m.ID, seq.Add(1)))
			err := st.RunInGroupTxFirst(ctx, ins, func(ctx context.Context, tx bun.Tx) error {
				r := st.InTx(tx)
				inserted, err := r.InsertOrderSession(ctx, ins)
				if err != nil {
					return err
				}
				if !inserted {
					return errors.New("order taken")
				}
				_, err = r.LiveWebhookEndpoints(ins.Context(ctx), m.ID)
				return err
			})
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
	elapsed := time.Since(start)
	b.StopTimer()
	cpu := processCPU(b) - cpu0
	n, err := st.CountSessions(ctx, m.ID)
	if err != nil {
		b.Fatal(err)
	}
	if n != seq.Load() {
		b.Fatalf("%d creates ran, the database holds %d sessions", seq.Load(), n)
	}
	b.ReportMetric(float64(n)/elapsed.Seconds(), "creates/s")
	b.ReportMetric(float64(cpu.Microseconds())/float64(n), "cpu_us/create")
}

// newCreate is one create's rows: a new order's open session and its
// session.created event, whose data is the size of the API's session
// document.
func newCreate(merchantID, n int64) (*store.Session, *store.Event) {
	now := time.Now().UTC()
	sess := &store.Session{
		ID: domain.NewSessionID(), MerchantID: merchantID, Mode: store.ModeTest, Status: domain.StatusOpen,
		Domain: "shop.test", OrderID: fmt.Sprintf("CEILING-%d", n), Amount: 4995, Currency: "USD",
		CustomerEmail: "buyer@example.com", Metadata: "{}", EventSeq: 1,
		ExpiresAt: now.Add(time.Hour), CreatedAt: now, UpdatedAt: now,
	}
	data := fmt.Sprintf(`{"session_id":%q,"checkout_url":"http://127.0.0.1:8080/checkout/%s","status":"open","mode":"test",`+
		`"order_id":%q,"domain":"shop.test","amount":"49.95","currency":"USD","amount_refunded":"0.00","amount_received":null,`+
		`"currency_received":null,"review_reason":null,"method":null,"customer_email":"buyer@example.com","return_url":null,`+
		`"cancel_url":null,"ipn_url":null,"metadata":{},"created_at":%q,"expires_at":%q,"paid_at":null,"canceled_at":null}`,
		sess.ID, sess.ID, sess.OrderID, now.Format(time.RFC3339), sess.ExpiresAt.Format(time.RFC3339))
	ev := &store.Event{
		ID: domain.NewEventID(), MerchantID: merchantID, Mode: sess.Mode, SessionID: sess.ID,
		Type: string(domain.EventSessionCreated), Seq: 1, Data: data, CreatedAt: now,
	}
	return sess, ev
}

// processCPU is the user and system CPU time the process has used.
func processCPU(b *testing.B) time.Duration {
	b.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
