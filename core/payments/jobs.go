package payments

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/uptrace/bun"

	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/jobs"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/sdk/provider"
)

// CleanupIdempotencyKeysArgs is the periodic job that deletes expired
// Idempotency-Key responses.
type CleanupIdempotencyKeysArgs struct{}

// Kind implements river.JobArgs.
func (CleanupIdempotencyKeysArgs) Kind() string { return "cleanup_idempotency_keys" }

// PruneWebhookRequestsArgs is the periodic job that deletes stored
// webhook requests past their retention window (hooks.retention).
type PruneWebhookRequestsArgs struct{}

// Kind implements river.JobArgs.
func (PruneWebhookRequestsArgs) Kind() string { return "prune_webhook_requests" }

// ReconcileProcessingArgs is the periodic job that asks providers about
// sessions stuck in processing.
type ReconcileProcessingArgs struct{}

// Kind implements river.JobArgs.
func (ReconcileProcessingArgs) Kind() string { return "reconcile_processing" }

// ExpireSessionsArgs is the periodic sweep that expires open sessions whose
// expires_at has passed (see ExpireDueSessions).
type ExpireSessionsArgs struct{}

// Kind implements river.JobArgs.
func (ExpireSessionsArgs) Kind() string { return "expire_sessions" }

// ExpireSessionArgs is the per-session expiry job that earlier versions
// enqueued with every session. Nothing enqueues it any more (the sweep
// replaced it); its worker stays registered so that jobs already scheduled
// in a database finish instead of failing as an unknown kind.
type ExpireSessionArgs struct {
	SessionID string `json:"session_id"`
}

// Kind implements river.JobArgs.
func (ExpireSessionArgs) Kind() string { return "expire_session" }

// Periodic job intervals.
const (
	CleanupInterval   = time.Hour
	ReconcileInterval = 5 * time.Minute
	// ExpirySweepInterval is how often the expiry sweep runs, and so the
	// most a session's expired status (and its session.expired event) lags
	// behind expires_at. The checkout expires a due session on access, and
	// a create for the same order expires it first, so neither waits for
	// the sweep.
	ExpirySweepInterval = 30 * time.Second
	// batch sizes keep each statement and each job run short.
	cleanupBatch   = 1000
	reconcileBatch = 100
	expireBatch    = 100
	// expireMaxErrors stops a sweep that keeps failing (the database is
	// likely down); the next run starts over.
	expireMaxErrors = 10
)

// RegisterJobs adds the service's workers to a job registry. Call it before
// building the working jobs.Runner from that registry.
func (s *Service) RegisterJobs(reg *jobs.Registry) error {
	if err := jobs.Register(reg, &expireWorker{svc: s}, jobs.Exponential(10, 10*time.Second, 30*time.Minute, 0.2)); err != nil {
		return err
	}
	// A failed sweep is retried a little sooner than the next run, which
	// starts over anyway.
	if err := jobs.Register(reg, &expireSweepWorker{svc: s}, jobs.Exponential(3, 5*time.Second, 30*time.Second, 0.2)); err != nil {
		return err
	}
	if err := jobs.Register(reg, &cleanupWorker{svc: s}, jobs.Exponential(3, time.Minute, 10*time.Minute, 0.2)); err != nil {
		return err
	}
	if err := jobs.Register(reg, &pruneWorker{svc: s}, jobs.Exponential(3, time.Minute, 10*time.Minute, 0.2)); err != nil {
		return err
	}
	return jobs.Register(reg, &reconcileWorker{svc: s}, jobs.Exponential(3, time.Minute, 10*time.Minute, 0.2))
}

// PeriodicJobs are the recurring jobs to hand to River's periodic-job
// scheduler (river.Config.PeriodicJobs): the expiry sweep every
// ExpirySweepInterval, idempotency-key cleanup, webhook request retention
// and reconciliation of processing sessions. Only the elected leader among the instances
// enqueues them, so each runs once per interval cluster-wide.
func (s *Service) PeriodicJobs() []*river.PeriodicJob {
	return []*river.PeriodicJob{
		s.ExpirySweepJob(ExpirySweepInterval),
		river.NewPeriodicJob(river.PeriodicInterval(CleanupInterval),
			func() (river.JobArgs, *river.InsertOpts) { return CleanupIdempotencyKeysArgs{}, nil },
			&river.PeriodicJobOpts{RunOnStart: true}),
		river.NewPeriodicJob(river.PeriodicInterval(CleanupInterval),
			func() (river.JobArgs, *river.InsertOpts) { return PruneWebhookRequestsArgs{}, nil },
			&river.PeriodicJobOpts{RunOnStart: true}),
		river.NewPeriodicJob(river.PeriodicInterval(ReconcileInterval),
			func() (river.JobArgs, *river.InsertOpts) { return ReconcileProcessingArgs{}, nil },
			&river.PeriodicJobOpts{RunOnStart: true}),
	}
}

// ExpirySweepJob is the expiry sweep as a periodic job every interval,
// also run when the leader starts (catching up after downtime). Tests use
// a short interval; PeriodicJobs uses ExpirySweepInterval.
func (s *Service) ExpirySweepJob(interval time.Duration) *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(interval),
		func() (river.JobArgs, *river.InsertOpts) { return ExpireSessionsArgs{}, nil },
		&river.PeriodicJobOpts{RunOnStart: true})
}

type expireSweepWorker struct {
	river.WorkerDefaults[ExpireSessionsArgs]
	svc *Service
}

func (w *expireSweepWorker) Work(ctx context.Context, _ *river.Job[ExpireSessionsArgs]) error {
	_, err := w.svc.ExpireDueSessions(ctx)
	return err
}

type expireWorker struct {
	river.WorkerDefaults[ExpireSessionArgs]
	svc *Service
}

func (w *expireWorker) Work(ctx context.Context, job *river.Job[ExpireSessionArgs]) error {
	wait, err := w.svc.ExpireSession(ctx, job.Args.SessionID)
	if err != nil {
		return err
	}
	if wait > 0 {
		// Scheduled a little early (clock skew between instances): try again
		// when it is due rather than leave the session open forever.
		return river.JobSnooze(wait)
	}
	return nil
}

type cleanupWorker struct {
	river.WorkerDefaults[CleanupIdempotencyKeysArgs]
	svc *Service
}

func (w *cleanupWorker) Work(ctx context.Context, _ *river.Job[CleanupIdempotencyKeysArgs]) error {
	_, err := w.svc.CleanupIdempotencyKeys(ctx)
	return err
}

type pruneWorker struct {
	river.WorkerDefaults[PruneWebhookRequestsArgs]
	svc *Service
}

func (w *pruneWorker) Work(ctx context.Context, _ *river.Job[PruneWebhookRequestsArgs]) error {
	_, err := w.svc.PruneWebhookRequests(ctx)
	return err
}

type reconcileWorker struct {
	river.WorkerDefaults[ReconcileProcessingArgs]
	svc *Service
}

func (w *reconcileWorker) Work(ctx context.Context, _ *river.Job[ReconcileProcessingArgs]) error {
	_, err := w.svc.ReconcileProcessing(ctx)
	return err
}

// ExpireSession is the expiry job's work for one session whose TTL passed.
// Before closing it, it asks the provider about any attempt still pending
// there: a payment that succeeded but whose webhook was lost then marks the
// session paid instead of letting it expire unnoticed. (This costs one
// GetPayment per abandoned attempt, once.) A provider that cannot answer
// does not hold the expiry back: a late success still applies afterwards.
// Then open → expired with a session.expired event; any other status is
// left alone (a processing session may still be paid; reconciliation
// settles it). When the session is not due yet it returns how long to wait.
func (s *Service) ExpireSession(ctx context.Context, sessionID string) (wait time.Duration, err error) {
	sess, err := s.store.GetSession(ctx, sessionID)
	if errors.Is(err, domain.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if sess.Status == domain.StatusOpen && !s.now().Before(sess.ExpiresAt) {
		if _, err := s.reconcileSession(ctx, sess); err != nil {
			s.log.WarnContext(ctx, "could not check pending payments before expiry", "session_id", sessionID, "err", err)
		}
	}
	return s.expireDue(ctx, sessionID)
}

// expireDue applies the expiry transition alone, without asking providers.
func (s *Service) expireDue(ctx context.Context, sessionID string) (wait time.Duration, err error) {
	err = s.inTx(ctx, func(ctx context.Context, r *store.Repo, tx bun.Tx) error {
		wait = 0
		sess, err := r.LockSession(ctx, sessionID)
		if errors.Is(err, domain.ErrNotFound) {
			return nil // nothing to expire; do not retry forever
		}
		if err != nil {
			return err
		}
		now := s.now()
		if now.Before(sess.ExpiresAt) {
			wait = sess.ExpiresAt.Sub(now)
			return nil
		}
		tr := domain.Expire(sess.State())
		if !tr.Apply {
			return nil
		}
		sess.Status, sess.UpdatedAt = tr.Next.Status, now
		if err := s.appendEvent(ctx, r, tx, sess, tr.DomainEvent, now); err != nil {
			return err
		}
		return r.UpdateSession(ctx, sess)
	})
	return wait, err
}

// ExpireDueSessions is the expiry sweep. It goes through the open sessions
// whose expires_at has passed, oldest first, expireBatch at a time, and
// gives each to ExpireSession: the provider is asked about pending
// attempts, then the session is expired in its own transaction with its
// session.expired event, so one session's trouble neither rolls back nor
// holds up the others (the sweep moves past it and reports it; the next
// run tries again). It returns how many due sessions it settled (expired,
// or found paid by the provider check).
func (s *Service) ExpireDueSessions(ctx context.Context) (int, error) {
	return s.expireDueSessions(ctx, expireBatch)
}

func (s *Service) expireDueSessions(ctx context.Context, batch int) (int, error) {
	now := s.now()
	var (
		after   store.DueSession
		settled int
		errs    []error
	)
	for {
		due, err := s.store.DueSessions(ctx, now, after, batch)
		if err != nil {
			return settled, errors.Join(append(errs, err)...)
		}
		for _, d := range due {
			if _, err := s.ExpireSession(ctx, d.ID); err != nil {
				errs = append(errs, fmt.Errorf("expire %s: %w", d.ID, err))
				if len(errs) >= expireMaxErrors || ctx.Err() != nil {
					return settled, errors.Join(errs...)
				}
				continue
			}
			settled++
		}
		if len(due) < batch {
			return settled, errors.Join(errs...)
		}
		after = due[len(due)-1]
	}
}

// CleanupIdempotencyKeys deletes stored responses older than
// sessions.idempotency_ttl, in batches, and reports how many went.
func (s *Service) CleanupIdempotencyKeys(ctx context.Context) (int64, error) {
	cutoff := s.now().Add(-s.idemTTL)
	var total int64
	for {
		n, err := s.store.DeleteIdempotencyKeysBefore(ctx, cutoff, cleanupBatch)
		total += n
		if err != nil || n < cleanupBatch {
			return total, err
		}
	}
}

// ReconcileProcessing asks the provider about every session that has been
// processing longer than ReconcileAfter, and every expired or canceled
// session with an attempt still processing that long (a success reported
// after it closed, without a confirmed amount), and applies what it says
// as a synthetic provider event (de-duplicated like any other, so running
// it twice changes nothing twice). A success whose amount the provider
// still does not state is not recorded, so the next run asks again. It
// returns how many events it applied.
func (s *Service) ReconcileProcessing(ctx context.Context) (int, error) {
	cutoff := s.now().Add(-s.reconcileAfter)
	stale, err := s.store.StaleSessions(ctx, domain.StatusProcessing, cutoff, reconcileBatch)
	if err != nil {
		return 0, err
	}
	closed, err := s.store.ClosedSessionsWithStaleAttempts(ctx, cutoff, reconcileBatch)
	if err != nil {
		return 0, err
	}
	stale = append(stale, closed...)
	applied := 0
	var errs []error
	for _, sess := range stale {
		n, err := s.reconcileSession(ctx, sess)
		applied += n
		if err != nil {
			errs = append(errs, fmt.Errorf("reconcile %s: %w", sess.ID, err))
		}
	}
	return applied, errors.Join(errs...)
}

func (s *Service) reconcileSession(ctx context.Context, sess *store.Session) (int, error) {
	atts, err := s.store.SessionAttempts(ctx, sess.ID)
	if err != nil {
		return 0, err
	}
	applied := 0
	for _, a := range atts {
		if a.ProviderRef == "" || (a.Status != store.AttemptPending && a.Status != store.AttemptProcessing) {
			continue
		}
		p, err := s.providers.Provider(a.ProviderID)
		if err != nil {
			return applied, err
		}
		pay, err := p.GetPayment(ctx, provider.GetPaymentRequest{ProviderRef: a.ProviderRef, SessionID: sess.ID})
		if err != nil {
			return applied, fmt.Errorf("get payment %s at %s: %w", a.ProviderRef, a.ProviderID, err)
		}
		var typ provider.EventType
		switch pay.Status {
		case provider.StatusSucceeded:
			if pay.Amount <= 0 || pay.Currency == "" {
				// Nothing to compare with the session: ask again next run
				// rather than record an event that would de-duplicate the
				// later, confirmed answer away.
				s.log.WarnContext(ctx, "provider reports a payment succeeded without its amount; asking again later",
					"session_id", sess.ID, "provider_id", a.ProviderID, "provider_ref", a.ProviderRef)
				continue
			}
			typ = provider.PaymentSucceeded
		case provider.StatusFailed:
			typ = provider.PaymentFailed
		default:
			continue // still in flight upstream; ask again next run
		}
		out, err := s.applyProviderEvent(ctx, a.ProviderID, nil, provider.Event{
			Type:            typ,
			ProviderEventID: "reconcile:" + a.ProviderRef + ":" + string(pay.Status),
			ProviderRef:     a.ProviderRef,
			SessionID:       sess.ID,
			Amount:          pay.Amount,
			Currency:        pay.Currency,
			OccurredAt:      s.now(),
			RawType:         "reconciliation",
		})
		if err != nil {
			return applied, err
		}
		if out.Outcome == store.OutcomeApplied {
			applied++
		}
	}
	return applied, nil
}
