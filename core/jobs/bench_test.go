package jobs_test

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/uptrace/bun"

	"github.com/switchyard/switchyard/core/jobs"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/core/store/storetest"
	"github.com/switchyard/switchyard/internal/testbin"
)

// noopArgs is the ceiling benchmark's job: its worker only counts.
type noopArgs struct{}

func (noopArgs) Kind() string { return "bench_noop" }

type noopWorker struct {
	river.WorkerDefaults[noopArgs]
	n *atomic.Int64
}

func (w *noopWorker) Work(context.Context, *river.Job[noopArgs]) error {
	w.n.Add(1)
	return nil
}

// BenchmarkDrain is River's own ceiling on this host: b.N jobs whose worker
// does nothing are queued first (100 per transaction), then a runner with
// 10 or 100 workers starts, with the webhook delivery benchmark's settings
// (bench: 20 ms poll, 5 ms fetch cooldown) or serve's (defaults); the
// clock measures the drain, so it is the fetch, the completion and River's
// bookkeeping per job, which a webhook delivery pays on top of its own
// statements and POST. It reports the CPU time per job too
// (testbin.CPUMeter).
//
// Run: go test ./core/jobs -run '^$' -bench Drain -benchtime 10000x
// (SWITCHYARD_TEST_POSTGRES_DSN adds PostgreSQL).
func BenchmarkDrain(b *testing.B) {
	dbs := map[string]func(testing.TB) *store.Store{"sqlite": storetest.SQLite}
	if os.Getenv(storetest.EnvPostgresDSN) != "" {
		dbs["postgres"] = storetest.Postgres
	}
	// settings: the webhook benchmark's, and the defaults serve runs with
	// (jobs.poll_interval 1s, River's fetch cooldown).
	settings := []struct {
		name           string
		poll, cooldown time.Duration
	}{{"bench", 20 * time.Millisecond, 5 * time.Millisecond}, {"defaults", 0, 0}}
	for name, open := range dbs {
		for _, set := range settings {
			for _, workers := range []int{10, 100} {
				b.Run(fmt.Sprintf("%s/%s/workers=%d", name, set.name, workers), func(b *testing.B) {
					drain(b, open(b), workers, set.poll, set.cooldown)
				})
			}
		}
	}
}

// drain queues b.N no-op jobs on st, then times a runner working them.
func drain(b *testing.B, st *store.Store, workers int, poll, cooldown time.Duration) {
	var n atomic.Int64
	reg := jobs.NewRegistry()
	if err := jobs.Register[noopArgs](reg, &noopWorker{n: &n}, jobs.Exponential(3, time.Second, time.Minute, 0)); err != nil {
		b.Fatal(err)
	}
	ins, err := jobs.New(st, jobs.Options{Registry: reg, InsertOnly: true, Logger: quietLogger()})
	if err != nil {
		b.Fatal(err)
	}
	for done := 0; done < b.N; {
		k := min(100, b.N-done)
		err := st.RunInTx(context.Background(), func(ctx context.Context, tx bun.Tx) error {
			for range k {
				if _, err := ins.EnqueueTx(ctx, tx, noopArgs{}, nil); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		done += k
	}
	r, err := jobs.New(st, jobs.Options{Registry: reg, Workers: workers, PollInterval: poll,
		FetchCooldown: cooldown, ID: "bench", Logger: quietLogger()})
	if err != nil {
		b.Fatal(err)
	}
	cpu := testbin.StartCPU(storetest.Backends(b, st))
	b.ResetTimer()
	if err := r.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		_ = r.Stop(ctx)
	}()
	deadline := time.Now().Add(30 * time.Minute)
	for n.Load() < int64(b.N) {
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d jobs worked", n.Load(), b.N)
		}
		time.Sleep(time.Millisecond)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "jobs/s")
	cpu.Report(b, b.N, "job")
}
