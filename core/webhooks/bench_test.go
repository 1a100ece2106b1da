package webhooks_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/core/store/storetest"
	"github.com/switchyard/switchyard/core/webhooks"
	"github.com/switchyard/switchyard/internal/testbin"
	"github.com/switchyard/switchyard/webhook"
)

// benchStores is SQLite always and PostgreSQL when configured.
func benchStores(b *testing.B) map[string]func(testing.TB) *store.Store {
	out := map[string]func(testing.TB) *store.Store{"sqlite": storetest.SQLite}
	if os.Getenv(storetest.EnvPostgresDSN) != "" {
		out["postgres"] = storetest.Postgres
	}
	return out
}

// countingReceiver answers 200 and counts, nothing else, so the benchmark
// measures Switchyard and not the receiver.
func countingReceiver(b *testing.B) (*httptest.Server, *atomic.Int64) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		n.Add(1)
	}))
	b.Cleanup(srv.Close)
	return srv, &n
}

// emitBatch writes n events for sess and their deliveries, batch events per
// transaction, as a burst of session changes would.
func (h *harness) emitBatch(t testing.TB, sess *store.Session, n, batch int) {
	t.Helper()
	for done := 0; done < n; {
		k := min(batch, n-done)
		evs := make([]*store.Event, 0, k)
		for range k {
			sess.EventSeq++
			evs = append(evs, &store.Event{
				ID: domain.NewEventID(), MerchantID: sess.MerchantID, Mode: sess.Mode, SessionID: sess.ID,
				Type: "session.paid", Seq: sess.EventSeq, Data: `{"session_id":"` + sess.ID + `","status":"paid","amount":"49.95","currency":"USD"}`,
				CreatedAt: time.Now().UTC().Truncate(time.Microsecond),
			})
		}
		err := h.st.RunInTx(context.Background(), func(ctx context.Context, tx bun.Tx) error {
			r := store.NewRepo(tx)
			for _, ev := range evs {
				if err := r.InsertEvent(ctx, ev); err != nil {
					return err
				}
			}
			return h.svc.EventsInserted(ctx, tx, sess, evs...)
		})
		if err != nil {
			t.Fatal(err)
		}
		done += k
	}
}

func waitCount(b *testing.B, n *atomic.Int64, want int64) {
	deadline := time.Now().Add(30 * time.Minute)
	for n.Load() < want {
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d delivered", n.Load(), want)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// checkOnce fails the benchmark unless the drain made every delivery
// exactly once: want succeeded attempts recorded, none left scheduled,
// and the receiver saw want requests (a duplicate POST would show there).
func checkOnce(b *testing.B, st *store.Store, received *atomic.Int64, want int) {
	b.Helper()
	ctx := context.Background()
	count := func(state string) int {
		n, err := st.DB().NewSelect().Table("webhook_attempts").Where("state = ?", state).Count(ctx)
		if err != nil {
			b.Fatal(err)
		}
		return int(n)
	}
	if ok, left := count(store.AttemptOK), count(store.AttemptScheduled); ok != want || left != 0 {
		b.Fatalf("%d attempts recorded succeeded and %d still scheduled, want %d and 0", ok, left, want)
	}
	if got := received.Load(); got != int64(want) {
		b.Fatalf("the receiver got %d requests for %d deliveries", got, want)
	}
}

// BenchmarkDelivery measures deliveries per second to a local receiver:
//
//   - signed-post-loop: the baseline, a plain loop that renders, signs and
//     POSTs each event (1 and 10 goroutines), no database;
//   - live: events committed one per transaction while the workers run;
//     the clock stops when the receiver has them all;
//   - backlog: b.N events already queued (100 per transaction), then the
//     workers start; the clock measures the drain. Besides the rate it
//     reports the CPU time per delivery of this process (workers and
//     receiver; SQLite too) and of PostgreSQL's backends (when the DSN
//     sets application_name), steadier than the rate on a shared host.
//
// Run: go test ./core/webhooks -run '^$' -bench Delivery -benchtime 2000x
// (SWITCHYARD_TEST_POSTGRES_DSN adds PostgreSQL).
func BenchmarkDelivery(b *testing.B) {
	for _, conc := range []int{1, 10} {
		b.Run(fmt.Sprintf("signed-post-loop/goroutines=%d", conc), func(b *testing.B) {
			srv, n := countingReceiver(b)
			secret := webhook.NewSecret()
			client := webhooks.NewGuard(true).NewHTTPClient(10 * time.Second)
			ev := &store.Event{ID: domain.NewEventID(), MerchantID: 1, Type: "session.paid", Seq: 1,
				Data: `{"status":"paid","amount":"49.95","currency":"USD"}`, CreatedAt: time.Now()}
			var next atomic.Int64
			cpu := testbin.StartCPU(nil)
			b.ResetTimer()
			var wg sync.WaitGroup
			for range conc {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for next.Add(1) <= int64(b.N) {
						body, _ := webhooks.Envelope(ev)
						hdr, _ := webhook.Sign(webhook.ProfileStandard, []string{secret}, ev.ID, time.Now(), body)
						req, _ := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader(body))
						req.Header = hdr
						resp, err := client.Do(req)
						if err != nil {
							b.Error(err)
							return
						}
						_, _ = io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
					}
				}()
			}
			wg.Wait()
			b.StopTimer()
			if n.Load() != int64(b.N) {
				b.Fatalf("receiver saw %d of %d", n.Load(), b.N)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "deliveries/s")
			cpu.Report(b, b.N, "delivery")
		})
	}
	for name, open := range benchStores(b) {
		for _, workers := range []int{10, 100} {
			b.Run(fmt.Sprintf("%s/live/workers=%d", name, workers), func(b *testing.B) {
				st := open(b)
				h := newHarness(b, st, nil)
				srv, n := countingReceiver(b)
				h.addEndpoint(b, webhooks.NewEndpoint{URL: srv.URL})
				sess := h.session(b, "shop.test", "test", "")
				h.startWorkersN(b, st, "bench", workers)
				b.ResetTimer()
				for range b.N {
					h.emitBatch(b, sess, 1, 1)
				}
				waitCount(b, n, int64(b.N))
				b.StopTimer()
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "deliveries/s")
			})
			b.Run(fmt.Sprintf("%s/backlog/workers=%d", name, workers), func(b *testing.B) {
				st := open(b)
				h := newHarness(b, st, nil)
				srv, n := countingReceiver(b)
				h.addEndpoint(b, webhooks.NewEndpoint{URL: srv.URL})
				sess := h.session(b, "shop.test", "test", "")
				start := time.Now()
				h.emitBatch(b, sess, b.N, 100)
				b.Logf("queued %d events with their deliveries and jobs in %s", b.N, time.Since(start).Round(time.Millisecond))
				cpu := testbin.StartCPU(storetest.Backends(b, st))
				b.ResetTimer()
				h.startWorkersN(b, st, "bench", workers)
				waitCount(b, n, int64(b.N))
				b.StopTimer()
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "deliveries/s")
				cpu.Report(b, b.N, "delivery")
				checkOnce(b, st, n, b.N)
			})
		}
	}
}
