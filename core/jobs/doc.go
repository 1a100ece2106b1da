// Package jobs runs Switchyard's durable background work (outbound webhook
// deliveries, fulfillment steps, expiries) on River, over the same database
// and connection pool as core/store: riversqlite on SQLite,
// riverdatabasesql on PostgreSQL, where many instances share the queue and
// each job is claimed by exactly one of them (FOR UPDATE SKIP LOCKED).
//
// # Transactional enqueue
//
// A job is a row in river_job. EnqueueTx writes that row in the caller's
// bun transaction, next to the caller's own writes:
//
//	err := s.RunInTx(ctx, func(ctx context.Context, tx bun.Tx) error {
//		// ... mark the session paid, insert the event and its deliveries ...
//		_, err := runner.EnqueueTx(ctx, tx, DeliverArgs{DeliveryID: id}, nil)
//		return err
//	})
//
// So the contract is all or nothing: if the transaction commits, the job
// exists and will run (at least once: a process that dies mid-job has the
// job rescued and retried, so workers must be idempotent); if it rolls back,
// the job never existed and nothing runs. There is no window in which the
// state change is visible without its job, or a job runs for a change that
// was never committed. Never enqueue with Enqueue (its own transaction) for
// work that depends on uncommitted writes.
//
// On SQLite the pool has one connection, so while a transaction is open,
// jobs wait for it; keep transactions short and never use the Store's pool
// inside one (see core/store).
//
// # Kinds and retry policies
//
// Each kind is registered once in a Registry with its worker and a
// RetryPolicy: MaxAttempts is stamped on the job when it is enqueued (unless
// the caller's InsertOpts set it), the delays are applied by the worker side
// after each failure, and after the last attempt the job is kept as
// "discarded" in river_job with every attempt's error. Share one Registry
// between the serving runner and insert-only runners (CLI commands) so both
// stamp the same limits.
package jobs
