package domains

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/uptrace/bun"

	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/secrets"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/sdk/registrar"
)

// Domain statuses.
const (
	StatusPending = "pending" // registration or transfer under way
	StatusActive  = "active"
	StatusFailed  = "failed" // nothing was bought
	StatusExpired = "expired"
	// StatusAttention: the registrar's answer is unknown or unexpected (a
	// registration whose call may have gone through, a name already in the
	// account); an operator decides.
	StatusAttention = "attention"
)

// Operation statuses. succeeded, failed and attention are final.
const (
	OpQueued     = "queued"
	OpSubmitting = "submitting" // a spending call may be in flight: never repeat it
	OpPending    = "pending"
	OpInProgress = "in_progress"
	OpSucceeded  = "succeeded"
	OpFailed     = "failed"
	OpAttention  = "attention"
)

// Operation types beyond the item actions.
const (
	OpRenew          = registrar.OperationTypeRenew
	OpSetNameservers = registrar.OperationTypeSetNameservers
	OpChangeRecords  = registrar.OperationTypeChangeRecords
	OpSetLock        = registrar.OperationTypeSetLock
)

func finalOp(status string) bool {
	return status == OpSucceeded || status == OpFailed || status == OpAttention
}

// spending reports whether an operation type costs money at the registrar.
func spending(typ string) bool {
	return typ == ActionRegister || typ == ActionTransfer || typ == OpRenew
}

// Registrars hands out registrar plugin handles; *pluginhost.Host does.
type Registrars interface {
	Registrar(id string) (registrar.Registrar, error)
}

// Enqueuer schedules durable jobs inside a store transaction;
// *jobs.Runner implements it.
type Enqueuer interface {
	EnqueueTx(ctx context.Context, tx bun.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
}

// Events appends an event to a locked session's sequence, with its
// deliveries, in the caller's transaction; *payments.Service does.
type Events interface {
	AppendEventTx(ctx context.Context, r *store.Repo, tx bun.Tx, sess *store.Session, typ domain.DomainEvent, data []byte, at time.Time) error
}

// Mailer sends a domain's renewal reminder to its registrant, from the
// merchant; *mail.Service does (template domain_renewal_reminder).
type Mailer interface {
	DomainRenewal(ctx context.Context, merchantID int64, to, domainID, name string, expiresAt time.Time) error
}

// MailDNS is what the mail records are: the seed's MXRoute setup.
type MailDNS struct {
	// SPFInclude is merged into the apex SPF record ("mxlogin.com").
	SPFInclude string
	// DKIM is the mail._domainkey TXT value; empty leaves DKIM out (it is
	// per mailbox provider account, set it with `domains records`).
	DKIM string
	// DMARCPolicy is p= of the _dmarc record ("quarantine"); reports go
	// to dmarc@<domain>.
	DMARCPolicy string
}

// Deps are the service's collaborators.
type Deps struct {
	Store      *store.Store
	Jobs       Enqueuer
	Registrars Registrars
	Events     Events
	// Keyring seals transfer auth codes at rest; nil refuses transfers.
	Keyring *secrets.Keyring
	// Mailer sends renewal reminders; nil logs that none was sent.
	Mailer  Mailer
	MailDNS MailDNS
	// ReminderDays is how long before expiry the reminder goes out;
	// default 30.
	ReminderDays int
	// PollBase and PollMax bound the wait between two polls of a registrar
	// operation (doubling); defaults 15 s and 1 h.
	PollBase, PollMax time.Duration
	Clock             func() time.Time
	Logger            *slog.Logger
}

// Service runs the domain lifecycle. It is safe for concurrent use.
type Service struct {
	store      *store.Store
	jobs       Enqueuer
	registrars Registrars
	events     Events
	keyring    *secrets.Keyring
	mailer     Mailer
	mailDNS    MailDNS
	reminder   time.Duration
	pollBase   time.Duration
	pollMax    time.Duration
	clock      func() time.Time
	log        *slog.Logger
}

// New builds the service.
func New(d Deps) (*Service, error) {
	var missing []string
	if d.Store == nil {
		missing = append(missing, "Store")
	}
	if d.Jobs == nil {
		missing = append(missing, "Jobs")
	}
	if d.Registrars == nil {
		missing = append(missing, "Registrars")
	}
	if d.Events == nil {
		missing = append(missing, "Events")
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("domains: missing %s", strings.Join(missing, ", "))
	}
	s := &Service{store: d.Store, jobs: d.Jobs, registrars: d.Registrars, events: d.Events, keyring: d.Keyring,
		mailer: d.Mailer, mailDNS: d.MailDNS, pollBase: d.PollBase, pollMax: d.PollMax, clock: d.Clock, log: d.Logger}
	if s.mailDNS.SPFInclude == "" {
		s.mailDNS.SPFInclude = "mxlogin.com"
	}
	if s.mailDNS.DMARCPolicy == "" {
		s.mailDNS.DMARCPolicy = "quarantine"
	}
	days := d.ReminderDays
	if days <= 0 {
		days = 30
	}
	s.reminder = time.Duration(days) * 24 * time.Hour
	if s.pollBase <= 0 {
		s.pollBase = 15 * time.Second
	}
	if s.pollMax <= 0 {
		s.pollMax = time.Hour
	}
	if s.clock == nil {
		s.clock = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s, nil
}

// now is the service clock in UTC at PostgreSQL's microsecond precision.
func (s *Service) now() time.Time { return s.clock().UTC().Truncate(time.Microsecond) }

func authCodeOwner(opID string) secrets.Owner {
	return secrets.Owner{Table: store.DomainOperationsTable, Row: opID, Field: store.DomainOperationsAuthCode}
}

// EncryptedColumns lists the keyring-encrypted columns this package
// writes, for `switchyard secrets rewrap`.
func EncryptedColumns() []secrets.Column {
	return []secrets.Column{{Table: store.DomainOperationsTable, IDColumn: store.DomainOperationsIDColumn, Field: store.DomainOperationsAuthCode}}
}

// newOp is a queued operation of d.
func (s *Service) newOp(d *store.Domain, typ, key string, p opParams, by string) *store.DomainOperation {
	now := s.now()
	return &store.DomainOperation{
		ID: domain.NewDomainOperationID(), DomainID: d.ID, Type: typ, Status: OpQueued, RequestKey: key, Params: mustJSON(p),
		RequestedBy: by, CreatedAt: now, UpdatedAt: now,
	}
}

// insertOpTx stores op and enqueues its job.
func (s *Service) insertOpTx(ctx context.Context, r *store.Repo, tx bun.Tx, op *store.DomainOperation) error {
	if err := r.InsertDomainOperation(ctx, op); err != nil {
		return err
	}
	if _, err := s.jobs.EnqueueTx(ctx, tx, OperationArgs{OperationID: op.ID}, nil); err != nil {
		return fmt.Errorf("enqueue domain operation %s: %w", op.ID, err)
	}
	return nil
}

// startOp stores op (unless an operation with its request key exists,
// which is returned instead) and enqueues its job, in its own transaction.
func (s *Service) startOp(ctx context.Context, op *store.DomainOperation) (*store.DomainOperation, error) {
	if prev, err := s.store.DomainOperationByKey(ctx, op.RequestKey); err == nil {
		return prev, nil
	}
	err := s.store.RunInTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		return s.insertOpTx(ctx, s.store.InTx(tx), tx, op)
	})
	if store.IsUniqueViolation(err) {
		return s.store.DomainOperationByKey(ctx, op.RequestKey)
	}
	if err != nil {
		return nil, err
	}
	return op, nil
}

// registrar returns the handle of a domain's registrar instance.
func (s *Service) registrar(id string) (registrar.Registrar, error) {
	reg, err := s.registrars.Registrar(id)
	if err != nil {
		return nil, fmt.Errorf("registrar %s: %w", id, err)
	}
	return reg, nil
}

// emitTx appends a domain event to the domain's session.
func (s *Service) emitTx(ctx context.Context, r *store.Repo, tx bun.Tx, d *store.Domain, op *store.DomainOperation, typ domain.DomainEvent) error {
	sess, err := r.LockSession(ctx, d.SessionID)
	if err != nil {
		return err
	}
	data, err := renderEvent(d, op)
	if err != nil {
		return err
	}
	now := s.now()
	if err := s.events.AppendEventTx(ctx, r, tx, sess, typ, data, now); err != nil {
		return err
	}
	sess.UpdatedAt = now
	return r.UpdateSession(ctx, sess)
}

var errNoDomain = errors.New("no such domain")

// lockDomainTx reads a domain to change it. It locks the domain's session
// first, as every writer of a domain row does (HostingReadyTx runs in its
// session's event transaction, which holds that lock): two transactions
// reading the row and writing it back whole would otherwise lose one's
// change — on PostgreSQL a registration finishing while the hosting
// account was recorded dropped the account's IP, and nothing pointed the
// domain at the server. Session before domain is the one lock order.
func lockDomainTx(ctx context.Context, r *store.Repo, d *store.Domain) (*store.Domain, error) {
	if _, err := r.LockSession(ctx, d.SessionID); err != nil {
		return nil, err
	}
	return r.GetDomain(ctx, d.ID)
}
