package fulfillment

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/uptrace/bun"

	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/jobs"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/sdk/provisioner"
	"github.com/switchyard/switchyard/sdk/sdkerr"
)

// ActionArgs is the durable job of one service action: one per action,
// written with it.
type ActionArgs struct {
	ActionID string `json:"action_id"`
}

// Kind implements river.JobArgs.
func (ActionArgs) Kind() string { return "fulfillment_action" }

// Timing of action jobs.
const (
	// callTimeout bounds one panel call (createacct can take a minute on
	// a loaded server).
	callTimeout = 2 * time.Minute
	// waitTurn is how long an action waits for an earlier action of the
	// same service to finish (actions of one service run in order).
	waitTurn = 2 * time.Second
	maxDelay = time.Hour
)

// RegisterJobs adds the action worker to a job registry.
func (s *Service) RegisterJobs(reg *jobs.Registry) error {
	return jobs.Register(reg, &actionWorker{svc: s}, jobs.Exponential(s.cfg.MaxAttempts, s.cfg.RetryDelay, maxDelay, 0.1))
}

type actionWorker struct {
	river.WorkerDefaults[ActionArgs]
	svc *Service
}

func (w *actionWorker) Timeout(*river.Job[ActionArgs]) time.Duration {
	return callTimeout + 30*time.Second
}

func (w *actionWorker) Work(ctx context.Context, job *river.Job[ActionArgs]) error {
	return w.svc.RunAction(ctx, job.Args.ActionID, job.Attempt >= job.MaxAttempts)
}

// newAction is an action to queue.
type newAction struct {
	action    domain.ServiceAction
	source    string
	reason    string
	pkg       string
	notBefore time.Time
}

func isMail(a domain.ServiceAction) bool {
	return a == domain.ActionMailReady || a == domain.ActionMailSuspended
}

func isOperator(source string) bool {
	return source == SourceOperator || strings.HasPrefix(source, SourceOperator+":")
}

// enqueueAction stores an action of svc and its job in tx. On a paused
// service an automatic action is stored paused, without a job: resuming
// the service enqueues it.
func (s *Service) enqueueAction(ctx context.Context, r *store.Repo, tx bun.Tx, svc *store.Service, na newAction) error {
	now := s.now()
	a := &store.ServiceAction{ID: domain.NewActionID(), ServiceID: svc.ID, Action: na.action, Status: domain.ActionPending,
		Reason: na.reason, Package: na.pkg, Source: na.source, CreatedAt: now, UpdatedAt: now}
	if !na.notBefore.IsZero() {
		nb := na.notBefore.UTC().Truncate(time.Microsecond)
		a.NotBefore = &nb
	}
	if svc.Paused && !isOperator(na.source) {
		a.Status = domain.ActionPaused
	}
	if err := r.InsertServiceAction(ctx, a); err != nil {
		return err
	}
	if a.Status == domain.ActionPaused {
		return nil
	}
	return s.enqueueJob(ctx, tx, a)
}

func (s *Service) enqueueJob(ctx context.Context, tx bun.Tx, a *store.ServiceAction) error {
	var opts *river.InsertOpts
	if a.NotBefore != nil && a.NotBefore.After(s.now()) {
		opts = &river.InsertOpts{ScheduledAt: *a.NotBefore}
	}
	if _, err := s.jobs.EnqueueTx(ctx, tx, ActionArgs{ActionID: a.ID}, opts); err != nil {
		return fmt.Errorf("enqueue service action: %w", err)
	}
	return nil
}

// RunAction carries out one pending action at the panel and records the
// outcome. It returns an error (the job is retried) only for failures
// that may pass — the panel unreachable or timing out, the plugin down —
// and not on the last attempt; any other failure, or the last attempt,
// ends the action failed and the service in status failed with the
// panel's reason (service.failed), for an operator to retry.
func (s *Service) RunAction(ctx context.Context, actionID string, lastAttempt bool) error {
	a, err := s.store.GetServiceAction(ctx, actionID)
	if errors.Is(err, domain.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if a.Status != domain.ActionPending {
		return nil
	}
	svc, err := s.store.GetService(ctx, a.ServiceID)
	if err != nil {
		return err
	}
	if svc.Paused && !isOperator(a.Source) {
		return s.inTx(ctx, func(ctx context.Context, r *store.Repo, _ bun.Tx) error {
			a.Status, a.UpdatedAt = domain.ActionPaused, s.now()
			return r.UpdateServiceAction(ctx, a)
		})
	}
	if wait, err := s.earlierActions(ctx, a); err != nil || wait {
		if err != nil {
			return err
		}
		return river.JobSnooze(waitTurn)
	}
	if err := domain.ServiceTransition(svc.Status, a.Action); err != nil && !isMail(a.Action) {
		return s.cancelAction(ctx, a, err.Error())
	}
	if why := subscriptionMoot(svc, a); why != "" {
		return s.cancelAction(ctx, a, why)
	}
	res, err := s.perform(ctx, svc, a)
	if err == nil {
		return s.actionDone(ctx, a, res)
	}
	if retryable(err) && !lastAttempt {
		s.log.WarnContext(ctx, "service action failed; will retry", "service_id", svc.ID, "action", a.Action,
			"action_id", a.ID, "err", oneLine(err.Error()))
		if nerr := s.noteAttempt(ctx, a, err); nerr != nil {
			return nerr
		}
		return fmt.Errorf("service %s %s: %w", svc.ID, a.Action, err)
	}
	return s.actionFailed(ctx, a, err)
}

// retryable reports failures that may pass by themselves. A domain error
// other than unavailable is Switchyard's own verdict (no mailer
// configured, a state that does not allow the action): retrying changes
// nothing, so it fails at once instead of being retried for hours.
func retryable(err error) bool {
	if errors.Is(err, domain.ErrUnavailable) {
		return true
	}
	if _, ok := domain.AsError(err); ok {
		return false
	}
	switch sdkerr.CategoryOf(err) {
	case sdkerr.CategoryUnavailable, sdkerr.CategoryRetryable, sdkerr.CategoryInternal:
		return true
	}
	return false
}

// earlierActions reports whether an older action of the service is still
// due (pending now, not scheduled for later): actions of one service run
// in the order they were asked for. A panel action does not wait for a
// mail: a mail that cannot go out (no mailer, the mail server down) may
// retry for hours, and a suspension after a refund must not wait that
// long. Mails still wait for the panel actions before them, so the
// service-ready mail follows the account it describes.
func (s *Service) earlierActions(ctx context.Context, a *store.ServiceAction) (bool, error) {
	acts, err := s.store.ServiceActions(ctx, a.ServiceID, domain.ActionPending)
	if err != nil {
		return false, err
	}
	now := s.now()
	for _, o := range acts {
		if !isMail(a.Action) && isMail(o.Action) {
			continue
		}
		if o.ID < a.ID && (o.NotBefore == nil || !o.NotBefore.After(now)) {
			return true, nil
		}
	}
	return false, nil
}

// outcome is what a panel call left.
type outcome struct {
	account  *provisioner.Account
	password string
	note     string
}

// perform makes the panel call of one action, outside any transaction.
func (s *Service) perform(ctx context.Context, svc *store.Service, a *store.ServiceAction) (outcome, error) {
	switch a.Action {
	case domain.ActionMailReady:
		return s.sendReadyMail(ctx, svc)
	case domain.ActionMailSuspended:
		return s.sendSuspendedMail(ctx, svc, a)
	}
	p, err := s.provisioners.Provisioner(svc.Provisioner)
	if err != nil {
		return outcome{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	var acct provisioner.Account
	switch a.Action {
	case domain.ActionCreate:
		email, err := s.contactEmail(ctx, svc)
		if err != nil {
			return outcome{}, err
		}
		// The same key and username on every attempt: a retry whose first
		// attempt reached the panel adopts that account (accountsummary),
		// never a second one.
		acct, err = p.CreateAccount(ctx, provisioner.CreateAccountRequest{IdempotencyKey: "switchyard_" + svc.ID,
			Domain: svc.Domain, Username: svc.Username, Package: svc.Package, ContactEmail: email,
			Metadata: map[string]string{"service_id": svc.ID, "session_id": svc.SessionID}})
		if err != nil {
			return outcome{}, err
		}
		return outcome{account: &acct, password: acct.Password}, nil
	case domain.ActionSuspend:
		acct, err = p.Suspend(ctx, provisioner.SuspendRequest{Username: svc.Username, Reason: a.Reason})
	case domain.ActionUnsuspend:
		acct, err = p.Unsuspend(ctx, provisioner.UnsuspendRequest{Username: svc.Username})
	case domain.ActionChangePackage:
		acct, err = p.ChangePackage(ctx, provisioner.ChangePackageRequest{Username: svc.Username, Package: a.Package})
	case domain.ActionTerminate:
		err = p.Terminate(ctx, provisioner.TerminateRequest{Username: svc.Username})
		if sdkerr.CategoryOf(err) == sdkerr.CategoryNotFound {
			return outcome{note: "the panel has no such account; recorded as terminated"}, nil
		}
		return outcome{}, err
	default:
		return outcome{}, fmt.Errorf("unknown action %s", a.Action)
	}
	if err != nil {
		return outcome{}, err
	}
	return outcome{account: &acct}, nil
}

// contactEmail is the customer's email for the panel: the client's, else
// the session's.
func (s *Service) contactEmail(ctx context.Context, svc *store.Service) (string, error) {
	sess, err := s.store.GetSession(ctx, svc.SessionID)
	if err != nil {
		return "", err
	}
	return sess.CustomerEmail, nil
}

// noteAttempt records a failed attempt that will be retried.
func (s *Service) noteAttempt(ctx context.Context, a *store.ServiceAction, cause error) error {
	return s.inTx(ctx, func(ctx context.Context, r *store.Repo, _ bun.Tx) error {
		cur, err := r.GetServiceAction(ctx, a.ID)
		if err != nil {
			return err
		}
		cur.Attempts++
		cur.LastError, cur.UpdatedAt = oneLine(cause.Error()), s.now()
		return r.UpdateServiceAction(ctx, cur)
	})
}

// cancelAction ends an action that no longer applies (the service moved
// on: terminated, or suspended already).
func (s *Service) cancelAction(ctx context.Context, a *store.ServiceAction, why string) error {
	s.log.InfoContext(ctx, "service action canceled", "action_id", a.ID, "service_id", a.ServiceID, "action", a.Action, "why", why)
	return s.inTx(ctx, func(ctx context.Context, r *store.Repo, _ bun.Tx) error {
		a.Status, a.LastError, a.UpdatedAt = domain.ActionCanceled, why, s.now()
		return r.UpdateServiceAction(ctx, a)
	})
}

// actionDone applies a successful action to the service, with its event,
// in one transaction. It locks the session first, the order of a provider
// event's transaction (which holds the session while it cancels a pending
// suspend for non-payment), so a renewal that canceled this suspend while
// its panel call ran is seen here and undone by an unsuspend.
func (s *Service) actionDone(ctx context.Context, a *store.ServiceAction, res outcome) error {
	return s.inTx(ctx, func(ctx context.Context, r *store.Repo, tx bun.Tx) error {
		first, err := r.GetService(ctx, a.ServiceID)
		if err != nil {
			return err
		}
		if _, err := r.LockSession(ctx, first.SessionID); err != nil {
			return err
		}
		svc, err := r.LockService(ctx, a.ServiceID)
		if err != nil {
			return err
		}
		cur, err := r.GetServiceAction(ctx, a.ID)
		if err != nil {
			return err
		}
		renewedMeanwhile := graceSuspend(a) && cur.Status == domain.ActionCanceled
		now := s.now()
		a.Status, a.LastError, a.UpdatedAt = domain.ActionDone, res.note, now
		if renewedMeanwhile {
			a.LastError = "made at the panel after a renewal canceled it; an unsuspend follows"
		}
		a.Attempts++
		if err := r.UpdateServiceAction(ctx, a); err != nil {
			return err
		}
		switch a.Action {
		case domain.ActionMailReady:
			svc.Password, svc.UpdatedAt = "", now
			return r.UpdateService(ctx, svc)
		case domain.ActionMailSuspended:
			return nil
		}
		ev, err := s.applyOutcome(svc, a, res, now)
		if err != nil {
			return err
		}
		if err := r.UpdateService(ctx, svc); err != nil {
			return err
		}
		s.log.InfoContext(ctx, "service action done", "service_id", svc.ID, "action", a.Action, "status", svc.Status, "source", a.Source)
		if err := s.serviceEvent(ctx, r, tx, svc, ev); err != nil {
			return err
		}
		if renewedMeanwhile {
			// The panel suspended the account after the renewal arrived:
			// lift it again, and tell the customer nothing.
			return s.enqueueAction(ctx, r, tx, svc, newAction{action: domain.ActionUnsuspend, source: SourceRenewal,
				reason: ReasonRenewed + " while the suspension was being made"})
		}
		if s.mailer == nil {
			// No mail package wired: nothing would ever read the password.
			if svc.Password != "" {
				svc.Password = ""
				return r.UpdateService(ctx, svc)
			}
			return nil
		}
		switch a.Action {
		case domain.ActionCreate:
			return s.enqueueAction(ctx, r, tx, svc, newAction{action: domain.ActionMailReady, source: SourcePayment, reason: "service ready"})
		case domain.ActionSuspend:
			return s.enqueueAction(ctx, r, tx, svc, newAction{action: domain.ActionMailSuspended, source: a.Source, reason: a.Reason})
		}
		return nil
	})
}

// applyOutcome moves the service to what the panel reported and returns
// the event to emit.
func (s *Service) applyOutcome(svc *store.Service, a *store.ServiceAction, res outcome, now time.Time) (domain.DomainEvent, error) {
	if acct := res.account; acct != nil {
		if acct.Username != "" {
			svc.Username = acct.Username
		}
		if acct.Package != "" {
			svc.Package = acct.Package
		}
		if acct.Server != "" {
			svc.Server = acct.Server
		}
		if acct.IP != "" {
			svc.IP = acct.IP
		}
		if len(acct.Nameservers) > 0 {
			svc.Nameservers = strings.Join(acct.Nameservers, ",")
		}
	}
	svc.LastError, svc.UpdatedAt = "", now
	switch a.Action {
	case domain.ActionCreate:
		svc.Status, svc.ActivatedAt = domain.ServiceActive, &now
		if res.password != "" {
			enc, err := s.keyring.Encrypt([]byte(res.password), passwordOwner(svc.ID))
			if err != nil {
				return "", fmt.Errorf("encrypt password: %w", err)
			}
			svc.Password = enc
		}
		return domain.EventServiceActivated, nil
	case domain.ActionSuspend:
		svc.Status, svc.SuspendReason, svc.SuspendSource, svc.SuspendedAt = domain.ServiceSuspended, a.Reason, a.Source, &now
		return domain.EventServiceSuspended, nil
	case domain.ActionUnsuspend:
		svc.Status, svc.SuspendReason, svc.SuspendSource, svc.SuspendedAt = domain.ServiceActive, "", "", nil
		return domain.EventServiceUnsuspended, nil
	case domain.ActionTerminate:
		svc.Status, svc.TerminatedAt = domain.ServiceTerminated, &now
		return domain.EventServiceTerminated, nil
	case domain.ActionChangePackage:
		svc.Package = a.Package
		if res.account != nil && res.account.Package != "" {
			svc.Package = res.account.Package
		}
		if svc.Status == domain.ServiceFailed {
			svc.Status = domain.ServiceActive
		}
		return domain.EventServiceUpdated, nil
	}
	return "", fmt.Errorf("unknown action %s", a.Action)
}

// actionFailed ends an action failed and puts its service in status
// failed with the reason (the panel's, kept in the error), emitting
// service.failed. A mail that cannot be sent fails only the action.
func (s *Service) actionFailed(ctx context.Context, a *store.ServiceAction, cause error) error {
	reason := oneLine(cause.Error())
	s.log.ErrorContext(ctx, "service action failed", "service_id", a.ServiceID, "action", a.Action, "action_id", a.ID, "err", reason)
	return s.inTx(ctx, func(ctx context.Context, r *store.Repo, tx bun.Tx) error {
		svc, err := r.LockService(ctx, a.ServiceID)
		if err != nil {
			return err
		}
		now := s.now()
		a.Status, a.LastError, a.UpdatedAt = domain.ActionFailed, reason, now
		a.Attempts++
		if err := r.UpdateServiceAction(ctx, a); err != nil {
			return err
		}
		if isMail(a.Action) {
			return nil
		}
		svc.Status, svc.LastError, svc.UpdatedAt = domain.ServiceFailed, fmt.Sprintf("%s: %s", a.Action, reason), now
		if err := r.UpdateService(ctx, svc); err != nil {
			return err
		}
		return s.serviceEvent(ctx, r, tx, svc, domain.EventServiceFailed)
	})
}

// serviceEvent emits a service event in its session's sequence, with the
// service as data (never its password).
func (s *Service) serviceEvent(ctx context.Context, r *store.Repo, tx bun.Tx, svc *store.Service, typ domain.DomainEvent) error {
	if s.sessions == nil {
		return nil
	}
	sess, err := r.LockSession(ctx, svc.SessionID)
	if err != nil {
		return err
	}
	data, err := renderService(svc)
	if err != nil {
		return err
	}
	if err := s.sessions.AppendEventTx(ctx, r, tx, sess, typ, data, s.now()); err != nil {
		return err
	}
	return r.UpdateSession(ctx, sess)
}
