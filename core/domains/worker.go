package domains

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
	"github.com/switchyard/switchyard/sdk/registrar"
	"github.com/switchyard/switchyard/sdk/sdkerr"
)

// OperationArgs is the durable job of one domain operation: it makes the
// registrar call, then polls it until it is final.
type OperationArgs struct {
	OperationID string `json:"operation_id"`
}

// Kind implements river.JobArgs.
func (OperationArgs) Kind() string { return "domain_operation" }

// The retry policy of failures (a plugin down, an ambiguous answer):
// 20 attempts, waits doubling from 10 s to 2 h, about 1.5 days in all.
// Polling an accepted operation snoozes instead and never runs out.
const (
	maxAttempts = 20
	callTimeout = 60 * time.Second
)

// OperationPolicy is the operation job's retry policy.
func OperationPolicy() jobs.RetryPolicy {
	return jobs.Exponential(maxAttempts, 10*time.Second, 2*time.Hour, 0.2)
}

// RegisterJobs adds the operation worker and the daily job to a registry.
func (s *Service) RegisterJobs(reg *jobs.Registry) error {
	if err := jobs.Register(reg, &opWorker{svc: s}, OperationPolicy()); err != nil {
		return err
	}
	return jobs.Register(reg, &dailyWorker{svc: s}, jobs.Exponential(5, time.Minute, time.Hour, 0.2))
}

type opWorker struct {
	river.WorkerDefaults[OperationArgs]
	svc *Service
}

func (w *opWorker) Timeout(*river.Job[OperationArgs]) time.Duration { return 3 * callTimeout }

func (w *opWorker) Work(ctx context.Context, job *river.Job[OperationArgs]) error {
	return w.svc.Process(ctx, job.Args.OperationID, job.Attempt >= job.MaxAttempts)
}

// errSnooze asks the worker to come back after d without using an attempt.
func snooze(d time.Duration) error { return river.JobSnooze(d) }

// pollDelay is the wait before poll number n+1: PollBase doubling up to
// PollMax.
func (s *Service) pollDelay(polls int) time.Duration {
	d := s.pollBase
	for range min(polls, 30) {
		d *= 2
		if d >= s.pollMax {
			return s.pollMax
		}
	}
	return d
}

// Process works one operation: submits it, reconciles an earlier
// submission whose outcome is unknown, or polls it. lastAttempt is the
// job's last try: an operation that still cannot be settled goes to an
// operator.
func (s *Service) Process(ctx context.Context, opID string, lastAttempt bool) error {
	op, err := s.store.GetDomainOperation(ctx, opID)
	if errors.Is(err, domain.ErrNotFound) {
		s.log.WarnContext(ctx, "domain operation job for an unknown operation; dropped", "operation_id", opID)
		return nil
	}
	if err != nil {
		return err
	}
	if finalOp(op.Status) {
		return nil
	}
	d, err := s.store.GetDomain(ctx, op.DomainID)
	if err != nil {
		return err
	}
	reg, err := s.registrar(d.RegistrarID)
	switch {
	case errors.Is(err, domain.ErrNotFound) && op.Status == OpQueued:
		return s.finish(ctx, d, op, OpFailed, "the registrar instance "+d.RegistrarID+" is not configured")
	case err != nil:
		return s.retryOr(ctx, d, op, lastAttempt, err)
	}
	switch {
	case op.RegistrarOpID != "":
		return s.poll(ctx, reg, d, op, lastAttempt)
	case op.Status == OpSubmitting:
		return s.reconcile(ctx, reg, d, op, lastAttempt)
	}
	return s.submit(ctx, reg, d, op, lastAttempt)
}

// retryOr returns err so the job is retried, or on the last attempt hands
// the operation to an operator (a spending call that may have gone
// through) or fails it (nothing was sent).
func (s *Service) retryOr(ctx context.Context, d *store.Domain, op *store.DomainOperation, lastAttempt bool, err error) error {
	if !lastAttempt {
		return err
	}
	if op.Status == OpQueued {
		return s.finish(ctx, d, op, OpFailed, "gave up: "+err.Error())
	}
	return s.finish(ctx, d, op, OpAttention, "gave up waiting for the registrar: "+err.Error())
}

// save writes op in its own transaction.
func (s *Service) save(ctx context.Context, op *store.DomainOperation) error {
	op.UpdatedAt = s.now()
	return s.store.UpdateDomainOperation(ctx, op)
}

// submit makes the operation's registrar call. A spending call is
// preceded by a committed "submitting" status: from then on no job makes
// it again.
func (s *Service) submit(ctx context.Context, reg registrar.Registrar, d *store.Domain, op *store.DomainOperation, lastAttempt bool) error {
	if op.Type == ActionRegister {
		if done, err := s.precheck(ctx, reg, d, op, lastAttempt); done || err != nil {
			return err
		}
	}
	if spending(op.Type) {
		now := s.now()
		op.Status, op.SubmittedAt = OpSubmitting, &now
		if err := s.save(ctx, op); err != nil {
			return err
		}
	}
	callCtx, cancel := context.WithTimeout(ctx, callTimeout)
	res, err := s.call(callCtx, reg, d, op)
	cancel()
	if err != nil {
		return s.submitFailed(ctx, d, op, lastAttempt, err)
	}
	op.RegistrarOpID, op.AuthCodeEnc = res.ID, ""
	if op.SubmittedAt == nil {
		now := s.now()
		op.SubmittedAt = &now
	}
	return s.observe(ctx, reg, d, op, res)
}

// precheck asks whether a name is still available before buying it, so a
// taken name fails (refundable) without a spending call, and a plugin that
// is down is found before "submitting" is committed.
func (s *Service) precheck(ctx context.Context, reg registrar.Registrar, d *store.Domain, op *store.DomainOperation, lastAttempt bool) (done bool, err error) {
	callCtx, cancel := context.WithTimeout(ctx, callTimeout)
	av, err := reg.CheckAvailability(callCtx, registrar.AvailabilityRequest{Domains: []string{d.Name}})
	cancel()
	if err != nil {
		switch sdkerr.CategoryOf(err) {
		case sdkerr.CategoryInvalidInput, sdkerr.CategoryDeclined:
			return true, s.finish(ctx, d, op, OpFailed, "the registrar refused the name: "+message(err))
		}
		return true, s.retryOr(ctx, d, op, lastAttempt, err)
	}
	if len(av) != 1 {
		return true, s.retryOr(ctx, d, op, lastAttempt, fmt.Errorf("availability of %s: %d answers", d.Name, len(av)))
	}
	a := av[0]
	switch {
	case a.Available:
		return false, nil
	case a.Reason == registrar.ReasonUnknown:
		return true, s.retryOr(ctx, d, op, lastAttempt, fmt.Errorf("the registry gave no answer for %s yet", d.Name))
	}
	return true, s.finish(ctx, d, op, OpFailed, fmt.Sprintf("%s is not available (%s); nothing was bought", d.Name, a.Reason))
}

// submitFailed decides what a failed call means. Only answers that prove
// nothing happened (throttled, refused input, declined) may lead to
// another call or a refund; anything else after a spending call stays
// "submitting" and is reconciled.
func (s *Service) submitFailed(ctx context.Context, d *store.Domain, op *store.DomainOperation, lastAttempt bool, err error) error {
	e, _ := sdkerr.As(err)
	code := ""
	if e != nil {
		code = e.Code
	}
	cat := sdkerr.CategoryOf(err)
	switch {
	case cat == sdkerr.CategoryAlreadyExists:
		return s.finish(ctx, d, op, OpAttention, "the registrar says the account already holds the domain: "+message(err))
	case cat == sdkerr.CategoryRetryable && code == registrar.CodeThrottled,
		cat == sdkerr.CategoryUnauthorized:
		// Refused before anything was done: the call may be made again.
		op.Status = OpQueued
		if serr := s.save(ctx, op); serr != nil {
			return serr
		}
		return s.retryOr(ctx, d, op, lastAttempt, err)
	case cat == sdkerr.CategoryInvalidInput, cat == sdkerr.CategoryDeclined, cat == sdkerr.CategoryNotFound:
		return s.finish(ctx, d, op, OpFailed, message(err))
	}
	if !spending(op.Type) {
		return s.retryOr(ctx, d, op, lastAttempt, err)
	}
	// Unavailable, internal, operation in progress: the call may have gone
	// through. The next attempt reconciles instead of calling again.
	return s.retryOr(ctx, d, op, lastAttempt, fmt.Errorf("outcome of %s %s unknown: %w", op.Type, d.Name, err))
}

// reconcile settles a spending call whose outcome was never learned, by
// reading the domain from the registrar: registered (or renewed past the
// old expiry) means it went through. Until then the job waits; on its last
// attempt the operation goes to an operator, never to a refund.
func (s *Service) reconcile(ctx context.Context, reg registrar.Registrar, d *store.Domain, op *store.DomainOperation, lastAttempt bool) error {
	callCtx, cancel := context.WithTimeout(ctx, callTimeout)
	got, err := reg.GetDomain(callCtx, registrar.GetDomainRequest{Domain: d.Name})
	cancel()
	if err == nil {
		p := params(op)
		if op.Type != OpRenew || p.Expiry == nil || got.ExpiresAt.After(*p.Expiry) {
			return s.succeed(ctx, d, op, &got)
		}
	} else if sdkerr.CategoryOf(err) != sdkerr.CategoryNotFound {
		return s.retryOr(ctx, d, op, lastAttempt, err)
	}
	return s.retryOr(ctx, d, op, lastAttempt, fmt.Errorf("%s of %s: the registrar call's outcome is unknown and the domain does not show it yet", op.Type, d.Name))
}

// poll asks the registrar about an accepted operation.
func (s *Service) poll(ctx context.Context, reg registrar.Registrar, d *store.Domain, op *store.DomainOperation, lastAttempt bool) error {
	callCtx, cancel := context.WithTimeout(ctx, callTimeout)
	res, err := reg.GetOperation(callCtx, registrar.GetOperationRequest{OperationID: op.RegistrarOpID})
	cancel()
	if err != nil {
		return s.retryOr(ctx, d, op, lastAttempt, err)
	}
	op.Polls++
	return s.observe(ctx, reg, d, op, res)
}

// observe records what the registrar reported about op and finishes it
// when final; otherwise the job snoozes until the next poll.
func (s *Service) observe(ctx context.Context, reg registrar.Registrar, d *store.Domain, op *store.DomainOperation, res registrar.Operation) error {
	switch res.Status {
	case registrar.OperationSucceeded:
		var got *registrar.Domain
		if op.Type != OpChangeRecords {
			callCtx, cancel := context.WithTimeout(ctx, callTimeout)
			g, err := reg.GetDomain(callCtx, registrar.GetDomainRequest{Domain: d.Name})
			cancel()
			if err != nil {
				// The operation id is stored: the retry polls, never re-submits.
				op.Status = OpInProgress
				if serr := s.save(ctx, op); serr != nil {
					return serr
				}
				return fmt.Errorf("read %s after %s: %w", d.Name, op.Type, err)
			}
			got = &g
		}
		return s.succeed(ctx, d, op, got)
	case registrar.OperationFailed:
		msg := res.Message
		if msg == "" {
			msg = "the registrar reported the operation failed"
		}
		return s.finish(ctx, d, op, OpFailed, msg)
	}
	op.Status = OpPending
	if res.Status == registrar.OperationInProgress {
		op.Status = OpInProgress
	}
	op.Message = res.Message
	if err := s.save(ctx, op); err != nil {
		return err
	}
	return snooze(s.pollDelay(op.Polls))
}

// succeed records a successful operation, the domain as the registrar now
// reports it, its event and follow-up operations, in one transaction.
func (s *Service) succeed(ctx context.Context, d *store.Domain, op *store.DomainOperation, got *registrar.Domain) error {
	return s.store.RunInTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		r := s.store.InTx(tx)
		cur, err := r.LockDomainOperation(ctx, op.ID)
		if err != nil {
			return err
		}
		if finalOp(cur.Status) {
			return nil // another run got here first
		}
		now := s.now()
		op.Status, op.FinishedAt, op.UpdatedAt, op.Message, op.AuthCodeEnc = OpSucceeded, &now, now, "", ""
		if err := r.UpdateDomainOperation(ctx, op); err != nil {
			return err
		}
		d, err := lockDomainTx(ctx, r, d)
		if err != nil {
			return err
		}
		if got != nil {
			applyDetail(d, got)
		}
		var ev domain.DomainEvent
		switch op.Type {
		case ActionRegister:
			ev = domain.EventDomainRegistered
		case ActionTransfer:
			ev = domain.EventDomainTransferred
		case OpRenew:
			ev = domain.EventDomainRenewed
		}
		if ev != "" {
			d.Status, d.FailureMessage = StatusActive, ""
		}
		d.UpdatedAt = now
		if err := r.UpdateDomain(ctx, d); err != nil {
			return err
		}
		if ev == "" {
			return nil
		}
		if err := s.emitTx(ctx, r, tx, d, op, ev); err != nil {
			return err
		}
		if op.Type == OpRenew {
			return nil
		}
		return s.afterAcquiredTx(ctx, r, tx, d)
	})
}

// applyDetail copies what the registrar reports onto the domain row.
func applyDetail(d *store.Domain, got *registrar.Domain) {
	if !got.ExpiresAt.IsZero() {
		t := got.ExpiresAt.UTC().Truncate(time.Microsecond)
		d.ExpiresAt = &t
	}
	d.Nameservers = jsonList(got.Nameservers)
	d.Locked, d.AutoRenew = got.Locked, got.AutoRenew
}

// afterAcquiredTx queues what a new domain was bought with: records (or
// nameservers) pointing at its hosting account and the mail records.
func (s *Service) afterAcquiredTx(ctx context.Context, r *store.Repo, tx bun.Tx, d *store.Domain) error {
	if d.HostingIP != "" || len(parseList(d.HostingNameservers)) > 0 {
		if err := s.pointAtHostingTx(ctx, r, tx, d); err != nil {
			return err
		}
	}
	if d.MailDNS {
		op := s.newOp(d, OpChangeRecords, "mail_dns:"+d.ID, opParams{Changes: s.mailChanges(d.Name), Purpose: "mail_dns"}, "item")
		if err := s.insertOpTx(ctx, r, tx, op); err != nil {
			return err
		}
	}
	return nil
}

// finish ends an operation that did not succeed. A registration or
// transfer that failed leaves the domain failed (nothing was bought: the
// session can be refunded) and emits domain.failed; so does a failed
// renewal, with the domain left as it was. attention leaves the domain
// for an operator and emits nothing.
func (s *Service) finish(ctx context.Context, d *store.Domain, op *store.DomainOperation, status, msg string) error {
	err := s.store.RunInTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		r := s.store.InTx(tx)
		cur, err := r.LockDomainOperation(ctx, op.ID)
		if err != nil {
			return err
		}
		if finalOp(cur.Status) {
			return nil
		}
		now := s.now()
		op.Status, op.Message, op.FinishedAt, op.UpdatedAt, op.AuthCodeEnc = status, msg, &now, now, ""
		if err := r.UpdateDomainOperation(ctx, op); err != nil {
			return err
		}
		d, err := lockDomainTx(ctx, r, d)
		if err != nil {
			return err
		}
		acquiring := op.Type == ActionRegister || op.Type == ActionTransfer
		switch {
		case status == OpAttention && acquiring:
			d.Status, d.FailureMessage = StatusAttention, msg
		case status == OpFailed && acquiring:
			d.Status, d.FailureMessage = StatusFailed, msg
		}
		d.UpdatedAt = now
		if err := r.UpdateDomain(ctx, d); err != nil {
			return err
		}
		if status == OpFailed && spending(op.Type) {
			return s.emitTx(ctx, r, tx, d, op, domain.EventDomainFailed)
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.log.WarnContext(ctx, "domain operation ended", "operation_id", op.ID, "type", op.Type, "domain", d.Name,
		"status", status, "message", msg)
	return nil
}

// call makes op's registrar call.
func (s *Service) call(ctx context.Context, reg registrar.Registrar, d *store.Domain, op *store.DomainOperation) (registrar.Operation, error) {
	p := params(op)
	var contact registrar.Contact
	if p.Contact != nil {
		contact = p.Contact.registrar()
	}
	switch op.Type {
	case ActionRegister:
		return reg.Register(ctx, registrar.RegisterRequest{IdempotencyKey: op.ID, Domain: d.Name, Years: op.Years,
			Registrant: contact, Privacy: true, AutoRenew: false})
	case ActionTransfer:
		code, err := s.openAuthCode(op)
		if err != nil {
			return registrar.Operation{}, sdkerr.Invalid("%v", err)
		}
		return reg.Transfer(ctx, registrar.TransferRequest{IdempotencyKey: op.ID, Domain: d.Name, AuthCode: code,
			Years: op.Years, Registrant: contact, Privacy: true})
	case OpRenew:
		var cur time.Time
		if p.Expiry != nil {
			cur = *p.Expiry
		}
		return reg.Renew(ctx, registrar.RenewRequest{IdempotencyKey: op.ID, Domain: d.Name, Years: op.Years, CurrentExpiry: cur})
	case OpSetNameservers:
		return reg.SetNameservers(ctx, registrar.SetNameserversRequest{Domain: d.Name, Nameservers: p.Nameservers})
	case OpSetLock:
		return reg.SetLock(ctx, registrar.SetLockRequest{Domain: d.Name, Locked: p.Locked != nil && *p.Locked})
	case OpChangeRecords:
		ch, ok := reg.(registrar.RecordChanger)
		if !ok {
			return registrar.Operation{}, sdkerr.Unimplemented("the registrar cannot change records")
		}
		return ch.ChangeRecords(ctx, registrar.ChangeRecordsRequest{Domain: d.Name, Changes: p.Changes})
	}
	return registrar.Operation{}, sdkerr.Invalid("unknown operation type %q", op.Type)
}

func (s *Service) openAuthCode(op *store.DomainOperation) (string, error) {
	if op.AuthCodeEnc == "" || s.keyring == nil {
		return "", errors.New("the transfer's auth code is no longer stored")
	}
	b, err := s.keyring.Decrypt(op.AuthCodeEnc, authCodeOwner(op.ID))
	if err != nil {
		return "", fmt.Errorf("open the transfer's auth code: %w", err)
	}
	return string(b), nil
}

// message is the registrar's own message of an error, for operators.
func message(err error) string {
	if e, ok := sdkerr.As(err); ok && e.Message != "" {
		if e.Code != "" {
			return e.Code + ": " + e.Message
		}
		return e.Message
	}
	return err.Error()
}
