package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"
	"github.com/uptrace/bun"

	"github.com/switchyard/switchyard/core/store"
)

// Defaults for Options fields left zero.
const (
	DefaultWorkers      = 10
	DefaultPollInterval = time.Second
	DefaultStopTimeout  = 10 * time.Second
	// DefaultFetchCooldown is short because, with a backlog, it bounds the
	// drain: each fetch takes only the free worker slots, so a runner works
	// at most Workers jobs per cooldown. River's 100 ms default held serve
	// to ~95 jobs/s with 10 workers on either database (BenchmarkDrain,
	// docs/benchmarks.md); an idle runner still fetches only on its poll
	// or a NOTIFY.
	DefaultFetchCooldown = 5 * time.Millisecond
)

// Options configure a Runner.
type Options struct {
	// Registry holds the job kinds, workers and retry policies. nil means
	// an insert-only runner that knows no kinds (River then cannot check
	// that an enqueued kind has a worker, and no policy applies).
	Registry *Registry

	// InsertOnly builds a client that never works jobs, for CLI commands
	// that only enqueue. Start is then an error.
	InsertOnly bool

	// Workers is the number of jobs worked at once by this process on the
	// default queue. Default 10.
	Workers int

	// Queues adds named queues with their worker counts.
	Queues map[string]int

	// PollInterval is how often idle workers look for new jobs. On
	// PostgreSQL (unless PollOnly) a job enqueued by any process is also
	// announced with NOTIFY and starts at once; on SQLite, and with
	// PollOnly, this is the latency of a job enqueued by another process.
	// Default 1s.
	PollInterval time.Duration

	// PollOnly turns LISTEN off on PostgreSQL (store.listen: false, for
	// PgBouncer in transaction mode): workers only poll.
	PollOnly bool

	// FetchCooldown is the minimum gap between two fetches. Default
	// DefaultFetchCooldown, capped at PollInterval.
	FetchCooldown time.Duration

	// JobTimeout bounds each job's context unless its worker says
	// otherwise. Default: River's (1 minute). -1 means no timeout.
	JobTimeout time.Duration

	// ID names this client in river_job.attempted_by and logs. Default:
	// River's (host name and start time).
	ID string

	// Logger receives River's logs. Default slog.Default().
	Logger *slog.Logger

	// RescueStuckJobsAfter is how long a job may stay running before it is
	// presumed lost with its process (kill -9 mid-job) and made available
	// again. Default: River's (1 hour). Must not be below JobTimeout.
	RescueStuckJobsAfter time.Duration

	// PeriodicJobs are enqueued on their schedules by the elected leader
	// among all runners sharing the database, so each runs once per
	// interval cluster-wide. Ignored by insert-only runners.
	PeriodicJobs []*river.PeriodicJob
}

// Runner owns River clients on a Store's connection pool: client enqueues
// in bun's transactions (*sql.Tx) and answers queries; worker works jobs.
// On SQLite they are one client. On PostgreSQL worker is a second client on
// River's pgx driver over the store's pgx pool, which LISTENs for the
// NOTIFY that client's inserts send, so a job enqueued on any instance
// starts without waiting for a poll.
type Runner struct {
	client   *river.Client[*sql.Tx]
	worker   riverWorker
	registry *Registry
	workers  bool
}

// riverWorker is the part of a River client that works jobs, whatever
// its transaction type.
type riverWorker interface {
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
	StopAndCancel(ctx context.Context) error
}

// New builds a Runner on s: the riversqlite driver for SQLite; for
// PostgreSQL the riverdatabasesql driver for enqueueing (in bun's
// transactions) and the riverpgxv5 driver for working (LISTEN/NOTIFY),
// both on the store's one pool, and the store's schema. It does not start
// working jobs.
func New(s *store.Store, opts Options) (*Runner, error) {
	reg := opts.Registry
	if reg == nil {
		reg = NewRegistry()
	}
	cfg := &river.Config{
		ID:         opts.ID,
		JobTimeout: opts.JobTimeout,
		Logger:     opts.Logger,
		Schema:     s.Schema(),
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if opts.Registry != nil {
		ws, err := reg.riverWorkers()
		if err != nil {
			return nil, fmt.Errorf("jobs: %w", err)
		}
		cfg.Workers = ws
	}

	if !opts.InsertOnly {
		if opts.Registry == nil || len(reg.kinds) == 0 {
			return nil, errors.New("jobs: a working runner needs a Registry with at least one kind (use InsertOnly to only enqueue)")
		}
		poll := opts.PollInterval
		if poll <= 0 {
			poll = DefaultPollInterval
		}
		cfg.FetchPollInterval = poll
		cfg.FetchCooldown = opts.FetchCooldown
		if cfg.FetchCooldown <= 0 {
			cfg.FetchCooldown = min(DefaultFetchCooldown, poll)
		}
		workers := opts.Workers
		if workers <= 0 {
			workers = DefaultWorkers
		}
		cfg.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: workers}}
		cfg.PeriodicJobs = opts.PeriodicJobs
		cfg.RescueStuckJobsAfter = opts.RescueStuckJobsAfter
		for name, n := range opts.Queues {
			if n <= 0 {
				return nil, fmt.Errorf("jobs: queue %q: workers must be positive, got %d", name, n)
			}
			cfg.Queues[name] = river.QueueConfig{MaxWorkers: n}
		}
	}

	r := &Runner{registry: reg, workers: !opts.InsertOnly}
	if s.PGPool() == nil {
		client, err := river.NewClient(s.RiverDriver(), cfg)
		if err != nil {
			return nil, fmt.Errorf("jobs: new river client: %w", err)
		}
		r.client, r.worker = client, client
		return r, nil
	}
	// The enqueueing client works nothing: no queues, no periodic jobs, no
	// maintenance. It knows the workers so that an unknown kind is refused
	// at enqueue. River sends at most one NOTIFY per queue per client per
	// FetchCooldown and relies on polling for jobs inserted meanwhile, so
	// this client's cooldown is short: a job enqueued just after another
	// one must not wait for the next poll.
	insCfg := &river.Config{ID: cfg.ID, JobTimeout: cfg.JobTimeout, Logger: cfg.Logger, Schema: cfg.Schema, Workers: cfg.Workers,
		FetchCooldown: insertNotifyEvery}
	client, err := river.NewClient(s.RiverDriver(), insCfg)
	if err != nil {
		return nil, fmt.Errorf("jobs: new river client: %w", err)
	}
	r.client, r.worker = client, client
	if opts.InsertOnly {
		return r, nil
	}
	cfg.PollOnly = opts.PollOnly
	worker, err := river.NewClient(riverpgxv5.New(s.PGPool()), cfg)
	if err != nil {
		return nil, fmt.Errorf("jobs: new river client: %w", err)
	}
	r.worker = worker
	return r, nil
}

// insertNotifyEvery bounds the NOTIFYs one process sends per queue (each
// serialises its transaction's commit on PostgreSQL's notification queue):
// at most one per 5 ms, i.e. 200 a second.
const insertNotifyEvery = 5 * time.Millisecond

// Start begins working jobs in the background. The client keeps running
// until Stop, even if ctx is cancelled later: shutdown is Stop's decision
// so in-flight jobs can finish.
func (r *Runner) Start(ctx context.Context) error {
	if !r.workers {
		return errors.New("jobs: insert-only runner cannot start")
	}
	if err := r.worker.Start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("jobs: start: %w", err)
	}
	return nil
}

// Stop stops fetching jobs and waits for in-flight ones to finish. If ctx
// ends first, in-flight jobs have their contexts cancelled and Stop waits
// up to DefaultStopTimeout more for them to return, then reports ctx's
// error. Stopping a runner that never started is a no-op.
func (r *Runner) Stop(ctx context.Context) error {
	err := r.worker.Stop(ctx)
	if err == nil {
		return nil
	}
	hardCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), DefaultStopTimeout)
	defer cancel()
	if hardErr := r.worker.StopAndCancel(hardCtx); hardErr != nil {
		return fmt.Errorf("jobs: stop: %w (hard stop: %v)", err, hardErr)
	}
	return fmt.Errorf("jobs: stop: in-flight jobs were cancelled: %w", err)
}

// EnqueueTx inserts a job in tx, the same transaction as the caller's own
// writes: the job exists (and can run) only if tx commits. opts may be nil.
// Unless opts (or the args' own InsertOpts) set MaxAttempts, the kind's
// registered RetryPolicy does.
func (r *Runner) EnqueueTx(ctx context.Context, tx bun.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error) {
	res, err := r.client.InsertTx(ctx, tx.Tx, args, r.insertOpts(args, opts))
	if err != nil {
		return nil, fmt.Errorf("jobs: enqueue %s: %w", args.Kind(), err)
	}
	return res, nil
}

// Enqueue inserts a job in its own transaction, for callers with no writes
// of their own to tie it to.
func (r *Runner) Enqueue(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error) {
	res, err := r.client.Insert(ctx, args, r.insertOpts(args, opts))
	if err != nil {
		return nil, fmt.Errorf("jobs: enqueue %s: %w", args.Kind(), err)
	}
	return res, nil
}

func (r *Runner) insertOpts(args river.JobArgs, opts *river.InsertOpts) *river.InsertOpts {
	var out river.InsertOpts
	if opts != nil {
		out = *opts
	}
	if out.MaxAttempts > 0 {
		return &out
	}
	if withOpts, ok := args.(river.JobArgsWithInsertOpts); ok && withOpts.InsertOpts().MaxAttempts > 0 {
		return &out
	}
	if p, ok := r.registry.Policy(args.Kind()); ok && p.MaxAttempts > 0 {
		out.MaxAttempts = p.MaxAttempts
	}
	return &out
}

// Job returns a job's current row (state, attempts, errors).
func (r *Runner) Job(ctx context.Context, id int64) (*rivertype.JobRow, error) {
	return r.client.JobGet(ctx, id)
}

// Client exposes the enqueueing River client for operations this package
// does not wrap (listing, cancelling, retrying jobs). On PostgreSQL it is
// not the client that works jobs, so its subscriptions see nothing.
func (r *Runner) Client() *river.Client[*sql.Tx] { return r.client }
