package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/uptrace/bun"

	"github.com/switchyard/switchyard/core/jobs"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/core/store/storetest"
)

// recordArgs is a test job; Tag lets a test find its executions.
type recordArgs struct {
	Tag string `json:"tag"`
}

func (recordArgs) Kind() string { return "test_record" }

// execution is one call of a worker's Work.
type execution struct {
	jobID       int64
	tag         string
	attempt     int
	startedAt   time.Time
	scheduledAt time.Time
	errors      []rivertype.AttemptError
	runner      string
}

// recorder counts executions and catches two runs of one job overlapping.
type recorder struct {
	mu       sync.Mutex
	runs     []execution
	inFlight map[int64]int
	overlaps []int64
}

func newRecorder() *recorder { return &recorder{inFlight: map[int64]int{}} }

func (rec *recorder) begin(e execution) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	rec.runs = append(rec.runs, e)
	rec.inFlight[e.jobID]++
	if rec.inFlight[e.jobID] > 1 {
		rec.overlaps = append(rec.overlaps, e.jobID)
	}
}

func (rec *recorder) end(jobID int64) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	rec.inFlight[jobID]--
}

func (rec *recorder) withTag(tag string) int {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	n := 0
	for _, e := range rec.runs {
		if e.tag == tag {
			n++
		}
	}
	return n
}

func (rec *recorder) executions(jobID int64) []execution {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	var out []execution
	for _, e := range rec.runs {
		if e.jobID == jobID {
			out = append(out, e)
		}
	}
	return out
}

// recordWorker records each execution and then fails or succeeds.
type recordWorker struct {
	river.WorkerDefaults[recordArgs]
	rec    *recorder
	name   string
	fail   bool
	hold   time.Duration
	onWork func(ctx context.Context, job *river.Job[recordArgs]) error
}

func (w *recordWorker) Work(ctx context.Context, job *river.Job[recordArgs]) error {
	w.rec.begin(execution{
		jobID: job.ID, tag: job.Args.Tag, attempt: job.Attempt, startedAt: time.Now(),
		scheduledAt: job.ScheduledAt, errors: job.Errors, runner: w.name,
	})
	defer w.rec.end(job.ID)
	if w.hold > 0 {
		time.Sleep(w.hold)
	}
	if w.onWork != nil {
		if err := w.onWork(ctx, job); err != nil {
			return err
		}
	}
	if w.fail {
		return fmt.Errorf("attempt %d failed on purpose", job.Attempt)
	}
	return nil
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newRunner(t *testing.T, s *store.Store, w *recordWorker, policy jobs.RetryPolicy, workers int) *jobs.Runner {
	t.Helper()
	reg := jobs.NewRegistry()
	if err := jobs.Register[recordArgs](reg, w, policy); err != nil {
		t.Fatal(err)
	}
	r, err := jobs.New(s, jobs.Options{
		Registry:      reg,
		Workers:       workers,
		PollInterval:  20 * time.Millisecond,
		FetchCooldown: 5 * time.Millisecond,
		ID:            w.name,
		Logger:        quietLogger(),
	})
	if err != nil {
		t.Fatalf("jobs.New: %v", err)
	}
	return r
}

func start(t *testing.T, r *jobs.Runner) {
	t.Helper()
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := r.Stop(ctx); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
}

// waitState polls until job id reaches a finalized state.
func waitFinal(t *testing.T, r *jobs.Runner, id int64) *rivertype.JobRow {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		job, err := r.Job(context.Background(), id)
		if err != nil {
			t.Fatalf("job %d: %v", id, err)
		}
		switch job.State {
		case rivertype.JobStateCompleted, rivertype.JobStateDiscarded, rivertype.JobStateCancelled:
			return job
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %d still %s (attempt %d) after 30s", id, job.State, job.Attempt)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func enqueueInTx(t *testing.T, s *store.Store, r *jobs.Runner, tag string, commit bool) int64 {
	t.Helper()
	var id int64
	errRollback := errors.New("roll back")
	err := s.RunInTx(context.Background(), func(ctx context.Context, tx bun.Tx) error {
		// A write of the caller's own, to show both share the transaction.
		if _, err := store.NewRepo(tx).CreateMerchant(ctx, store.NewMerchant{Name: tag, Plan: store.PlanFree}); err != nil {
			return err
		}
		res, err := r.EnqueueTx(ctx, tx, recordArgs{Tag: tag}, nil)
		if err != nil {
			return err
		}
		id = res.Job.ID
		if !commit {
			return errRollback
		}
		return nil
	})
	if commit && err != nil {
		t.Fatalf("enqueue tx: %v", err)
	}
	if !commit && !errors.Is(err, errRollback) {
		t.Fatalf("enqueue tx: want rollback, got %v", err)
	}
	return id
}

func TestTransactionalEnqueue(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, s *store.Store) {
		rec := newRecorder()
		r := newRunner(t, s, &recordWorker{rec: rec, name: "w1"}, jobs.RetryPolicy{MaxAttempts: 3}, 2)
		start(t, r)

		enqueueInTx(t, s, r, "rolled-back", false)
		committed := enqueueInTx(t, s, r, "committed", true)

		job := waitFinal(t, r, committed)
		if job.State != rivertype.JobStateCompleted || job.Attempt != 1 {
			t.Fatalf("committed job: state %s attempt %d", job.State, job.Attempt)
		}
		if n := len(rec.executions(committed)); n != 1 {
			t.Fatalf("committed job ran %d times, want 1", n)
		}

		// The rolled-back job left no row, so nothing can ever run it; the
		// committed one, enqueued after it, already ran. (SQLite may reuse
		// the rolled-back id, so count rows and match runs by tag.)
		var rows int
		if err := s.DB().QueryRowContext(context.Background(), "SELECT count(*) FROM river_job").Scan(&rows); err != nil {
			t.Fatal(err)
		}
		if rows != 1 {
			t.Fatalf("river_job has %d rows, want only the committed job", rows)
		}
		if n := rec.withTag("rolled-back"); n != 0 {
			t.Fatalf("rolled-back job ran %d times", n)
		}
		ms, err := s.ListMerchants(context.Background(), store.Page{})
		if err != nil || len(ms) != 1 || ms[0].Name != "committed" {
			t.Fatalf("merchants = %+v, %v; want only the committed one", ms, err)
		}
	})
}

func TestRetryPolicyThenDiscard(t *testing.T) {
	policy := jobs.RetryPolicy{
		MaxAttempts: 4,
		Delays:      []time.Duration{40 * time.Millisecond, 80 * time.Millisecond, 160 * time.Millisecond},
	}
	// River keeps SQLite times at millisecond precision.
	const precision = 2 * time.Millisecond

	storetest.ForEachDB(t, func(t *testing.T, s *store.Store) {
		rec := newRecorder()
		r := newRunner(t, s, &recordWorker{rec: rec, name: "w1", fail: true}, policy, 2)
		start(t, r)

		id := enqueueInTx(t, s, r, "always-fails", true)
		job := waitFinal(t, r, id)

		if job.State != rivertype.JobStateDiscarded || job.FinalizedAt == nil {
			t.Fatalf("state %s finalized %v, want discarded", job.State, job.FinalizedAt)
		}
		if job.MaxAttempts != policy.MaxAttempts || job.Attempt != policy.MaxAttempts {
			t.Fatalf("attempt %d of max %d, want %d of %d", job.Attempt, job.MaxAttempts, policy.MaxAttempts, policy.MaxAttempts)
		}
		if len(job.Errors) != policy.MaxAttempts {
			t.Fatalf("recorded %d errors, want %d", len(job.Errors), policy.MaxAttempts)
		}

		runs := rec.executions(id)
		if len(runs) != policy.MaxAttempts {
			t.Fatalf("worked %d times, want %d", len(runs), policy.MaxAttempts)
		}
		for i, run := range runs {
			if run.attempt != i+1 {
				t.Fatalf("run %d has attempt %d", i, run.attempt)
			}
			if i == 0 {
				continue
			}
			// Attempt i+1 was scheduled by the policy from attempt i's
			// failure, and ran no earlier than that.
			failedAt := run.errors[len(run.errors)-1].At
			want, _ := policy.Delay(i)
			// The retry time is computed from the failure time within the
			// same call, so the gap is the policy's delay; the slack only
			// has to tell it apart from River's default backoff (≥0.9s).
			if got := run.scheduledAt.Sub(failedAt); got < want-precision || got > want+500*time.Millisecond {
				t.Fatalf("attempt %d scheduled %s after failure of attempt %d, want %s", i+1, got, i, want)
			}
			if run.startedAt.Before(run.scheduledAt.Add(-precision)) {
				t.Fatalf("attempt %d started %s before its scheduled time", i+1, run.scheduledAt.Sub(run.startedAt))
			}
		}
	})
}

func TestTwoRunnersNeverShareAJob(t *testing.T) {
	const total = 200
	storetest.ForPostgres(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		if _, err := s.DB().ExecContext(ctx, `CREATE TABLE test_job_runs (job_id BIGINT PRIMARY KEY, runner TEXT NOT NULL)`); err != nil {
			t.Fatal(err)
		}
		record := func(name string) func(ctx context.Context, job *river.Job[recordArgs]) error {
			return func(ctx context.Context, job *river.Job[recordArgs]) error {
				// A second execution of a job would violate the primary key.
				_, err := s.DB().ExecContext(ctx, `INSERT INTO test_job_runs (job_id, runner) VALUES (?, ?)`, job.ID, name)
				return err
			}
		}
		rec := newRecorder()
		other := storetest.Reopen(t, s) // a second process's pool on the same schema
		r1 := newRunner(t, s, &recordWorker{rec: rec, name: "runner-1", hold: 2 * time.Millisecond, onWork: record("runner-1")}, jobs.RetryPolicy{MaxAttempts: 1}, 5)
		r2 := newRunner(t, other, &recordWorker{rec: rec, name: "runner-2", hold: 2 * time.Millisecond, onWork: record("runner-2")}, jobs.RetryPolicy{MaxAttempts: 1}, 5)

		ids := make([]int64, 0, total)
		err := s.RunInTx(ctx, func(ctx context.Context, tx bun.Tx) error {
			for i := range total {
				res, err := r1.EnqueueTx(ctx, tx, recordArgs{Tag: fmt.Sprint(i)}, nil)
				if err != nil {
					return err
				}
				ids = append(ids, res.Job.ID)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		start(t, r1)
		start(t, r2)

		for _, id := range ids {
			if job := waitFinal(t, r1, id); job.State != rivertype.JobStateCompleted {
				t.Fatalf("job %d ended %s: %+v", id, job.State, job.Errors)
			}
		}
		var rows int
		if err := s.DB().QueryRowContext(ctx, `SELECT count(*) FROM test_job_runs`).Scan(&rows); err != nil {
			t.Fatal(err)
		}
		if rows != total {
			t.Fatalf("%d recorded runs, want %d", rows, total)
		}
		perRunner := map[string]int{}
		for _, id := range ids {
			runs := rec.executions(id)
			if len(runs) != 1 {
				t.Fatalf("job %d ran %d times", id, len(runs))
			}
			perRunner[runs[0].runner]++
		}
		if len(rec.overlaps) > 0 {
			t.Fatalf("jobs ran concurrently in two places: %v", rec.overlaps)
		}
		t.Logf("jobs per runner: %v", perRunner)
	})
}

func TestInsertOnlyRunner(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		reg := jobs.NewRegistry()
		rec := newRecorder()
		if err := jobs.Register[recordArgs](reg, &recordWorker{rec: rec, name: "w"}, jobs.RetryPolicy{MaxAttempts: 7}); err != nil {
			t.Fatal(err)
		}
		cli, err := jobs.New(s, jobs.Options{Registry: reg, InsertOnly: true, Logger: quietLogger()})
		if err != nil {
			t.Fatal(err)
		}
		if err := cli.Start(ctx); err == nil {
			t.Fatal("insert-only runner started")
		}
		var id int64
		err = s.RunInTx(ctx, func(ctx context.Context, tx bun.Tx) error {
			res, err := cli.EnqueueTx(ctx, tx, recordArgs{Tag: "cli"}, nil)
			if err == nil {
				id = res.Job.ID
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		job, err := cli.Job(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if job.MaxAttempts != 7 || job.State != rivertype.JobStateAvailable {
			t.Fatalf("job max_attempts %d state %s, want 7 available", job.MaxAttempts, job.State)
		}
		// Explicit options beat the registered policy.
		res, err := cli.Enqueue(ctx, recordArgs{Tag: "explicit"}, &river.InsertOpts{MaxAttempts: 2})
		if err != nil || res.Job.MaxAttempts != 2 {
			t.Fatalf("explicit max attempts: %+v, %v", res, err)
		}
		if err := cli.Stop(ctx); err != nil {
			t.Fatalf("stop of never-started runner: %v", err)
		}

		// A worker process started later picks the job up.
		worker := newRunner(t, s, &recordWorker{rec: rec, name: "w"}, jobs.RetryPolicy{MaxAttempts: 7}, 1)
		start(t, worker)
		if job := waitFinal(t, worker, id); job.State != rivertype.JobStateCompleted {
			t.Fatalf("state %s", job.State)
		}
	})
}

func TestNewRejects(t *testing.T) {
	s := storetest.SQLite(t)
	tests := []struct {
		name string
		opts jobs.Options
	}{
		{"working runner without registry", jobs.Options{}},
		{"working runner with empty registry", jobs.Options{Registry: jobs.NewRegistry()}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := jobs.New(s, tc.opts); err == nil {
				t.Fatal("New succeeded")
			}
		})
	}
}

// counterArgs jobs each add one to a counter row in their own transaction,
// so jobs and request-path writes contend for the database.
type counterArgs struct{}

func (counterArgs) Kind() string { return "test_counter" }

func TestConcurrentEnqueueAndWrites(t *testing.T) {
	const producers, perProducer = 8, 10
	storetest.ForEachDB(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		if _, err := s.DB().ExecContext(ctx, `CREATE TABLE test_counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)`); err != nil {
			t.Fatal(err)
		}
		if _, err := s.DB().ExecContext(ctx, `INSERT INTO test_counter (id, n) VALUES (1, 0)`); err != nil {
			t.Fatal(err)
		}
		reg := jobs.NewRegistry()
		work := river.WorkFunc(func(ctx context.Context, job *river.Job[counterArgs]) error {
			return s.RunInTx(ctx, func(ctx context.Context, tx bun.Tx) error {
				_, err := tx.ExecContext(ctx, `UPDATE test_counter SET n = n + 1 WHERE id = 1`)
				return err
			})
		})
		if err := jobs.Register[counterArgs](reg, work, jobs.RetryPolicy{MaxAttempts: 1}); err != nil {
			t.Fatal(err)
		}
		r, err := jobs.New(s, jobs.Options{Registry: reg, Workers: 4, PollInterval: 20 * time.Millisecond, FetchCooldown: 5 * time.Millisecond, Logger: quietLogger()})
		if err != nil {
			t.Fatal(err)
		}
		start(t, r)

		var wg sync.WaitGroup
		ids := make(chan int64, producers*perProducer)
		errs := make(chan error, producers)
		for p := range producers {
			wg.Go(func() {
				for i := range perProducer {
					err := s.RunInTx(ctx, func(ctx context.Context, tx bun.Tx) error {
						if _, err := store.NewRepo(tx).CreateMerchant(ctx, store.NewMerchant{Name: fmt.Sprintf("p%d-%d", p, i), Plan: store.PlanFree}); err != nil {
							return err
						}
						res, err := r.EnqueueTx(ctx, tx, counterArgs{}, nil)
						if err == nil {
							ids <- res.Job.ID
						}
						return err
					})
					if err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Wait()
		close(ids)
		close(errs)
		for err := range errs {
			t.Fatalf("producer: %v", err)
		}
		for id := range ids {
			if job := waitFinal(t, r, id); job.State != rivertype.JobStateCompleted {
				t.Fatalf("job %d ended %s: %+v", id, job.State, job.Errors)
			}
		}
		var n int
		if err := s.DB().QueryRowContext(ctx, `SELECT n FROM test_counter WHERE id = 1`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != producers*perProducer {
			t.Fatalf("counter = %d, want %d", n, producers*perProducer)
		}
	})
}

func TestStop(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, s *store.Store) {
		t.Run("waits for in-flight job", func(t *testing.T) {
			rec := newRecorder()
			started := make(chan struct{})
			release := make(chan struct{})
			w := &recordWorker{rec: rec, name: "graceful", onWork: func(ctx context.Context, job *river.Job[recordArgs]) error {
				close(started)
				<-release
				return ctx.Err() // nil unless Stop cancelled the job
			}}
			r := newRunner(t, s, w, jobs.RetryPolicy{MaxAttempts: 1}, 1)
			if err := r.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			id := enqueueInTx(t, s, r, "graceful", true)
			<-started
			stopped := make(chan error, 1)
			go func() { stopped <- r.Stop(context.Background()) }()
			select {
			case err := <-stopped:
				t.Fatalf("Stop returned (%v) while a job was in flight", err)
			case <-time.After(50 * time.Millisecond):
			}
			close(release)
			if err := <-stopped; err != nil {
				t.Fatalf("Stop: %v", err)
			}
			job, err := r.Job(context.Background(), id)
			if err != nil || job.State != rivertype.JobStateCompleted {
				t.Fatalf("job after graceful stop: %+v, %v", job, err)
			}
		})
		t.Run("cancels in-flight job when ctx ends", func(t *testing.T) {
			rec := newRecorder()
			started := make(chan struct{})
			w := &recordWorker{rec: rec, name: "hard", onWork: func(ctx context.Context, job *river.Job[recordArgs]) error {
				close(started)
				<-ctx.Done()
				return ctx.Err()
			}}
			r := newRunner(t, s, w, jobs.RetryPolicy{MaxAttempts: 1}, 1)
			if err := r.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			enqueueInTx(t, s, r, "hard", true)
			<-started
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			if err := r.Stop(ctx); !errors.Is(err, context.Canceled) {
				t.Fatalf("Stop with done ctx = %v, want context.Canceled", err)
			}
		})
	})
}

// On PostgreSQL a job enqueued by one process starts on another at once
// (River's pgx driver LISTENs for the NOTIFY the insert sends), not at the
// worker's next poll; with PollOnly (store.listen: false) it waits for the
// poll.
func TestJobStartsOnAnotherInstanceWithoutPolling(t *testing.T) {
	const poll = 10 * time.Second
	storetest.ForPostgres(t, func(t *testing.T, s *store.Store) {
		for _, pollOnly := range []bool{false, true} {
			t.Run(fmt.Sprintf("poll_only=%v", pollOnly), func(t *testing.T) {
				ctx := context.Background()
				rec := newRecorder()
				started := make(chan string, 4)
				reg := jobs.NewRegistry()
				w := &recordWorker{rec: rec, name: "worker", onWork: func(_ context.Context, job *river.Job[recordArgs]) error {
					started <- job.Args.Tag
					return nil
				}}
				if err := jobs.Register[recordArgs](reg, w, jobs.RetryPolicy{MaxAttempts: 1}); err != nil {
					t.Fatal(err)
				}
				worker, err := jobs.New(s, jobs.Options{Registry: reg, PollInterval: poll, PollOnly: pollOnly, Logger: quietLogger()})
				if err != nil {
					t.Fatal(err)
				}
				other := storetest.Reopen(t, s) // another instance's pool
				enq, err := jobs.New(other, jobs.Options{Registry: reg, InsertOnly: true, Logger: quietLogger()})
				if err != nil {
					t.Fatal(err)
				}
				enqueue := func(tag string) time.Time {
					t.Helper()
					if err := other.RunInTx(ctx, func(ctx context.Context, tx bun.Tx) error {
						_, err := enq.EnqueueTx(ctx, tx, recordArgs{Tag: tag}, nil)
						return err
					}); err != nil {
						t.Fatal(err)
					}
					return time.Now()
				}
				// The first job is found by the start-up fetch; it proves
				// the worker is up. The second one needs a wake-up.
				enqueue("first")
				start(t, worker)
				select {
				case <-started:
				case <-time.After(poll + 5*time.Second):
					t.Fatal("first job never started")
				}
				committed := enqueue("second")
				select {
				case <-started:
					if pollOnly {
						t.Fatalf("poll-only worker started the job after %s, before its poll", time.Since(committed))
					}
					if d := time.Since(committed); d > 2*time.Second {
						t.Fatalf("job started %s after commit, want well under the %s poll interval", d, poll)
					} else {
						t.Logf("job started %s after commit on another instance", d)
					}
				case <-time.After(2 * time.Second):
					if !pollOnly {
						t.Fatalf("job not started 2s after commit (poll interval %s): no LISTEN/NOTIFY wake-up", poll)
					}
				}
			})
		}
	})
}
