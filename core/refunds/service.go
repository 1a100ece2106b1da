package refunds

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
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"

	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/payments"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/sdk/provider"
)

// Providers is what the refund worker needs from the plugin host.
type Providers interface {
	// Provider returns a callable handle: domain.ErrNotFound for an unknown
	// instance, domain.ErrUnavailable while its plugin is down.
	Provider(id string) (provider.Client, error)
	// Describe returns the instance's last known Description.
	Describe(id string) (provider.Description, error)
}

// Enqueuer schedules durable jobs inside a store transaction;
// *jobs.Runner implements it.
type Enqueuer interface {
	EnqueueTx(ctx context.Context, tx bun.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
}

// Sessions is what refunds need from the checkout session service, so a
// session's status, events and Idempotency-Keys have one implementation;
// *payments.Service implements it.
type Sessions interface {
	IdempotencyTTL() time.Duration
	ReplayIdempotent(ctx context.Context, r *store.Repo, merchantID int64, mode domain.Mode, key, hash string) (resp *payments.Response, stale bool, err error)
	StoreIdempotent(ctx context.Context, r *store.Repo, merchantID int64, mode domain.Mode, key, hash string, resp *payments.Response) error
	AppendEventTx(ctx context.Context, r *store.Repo, tx bun.Tx, sess *store.Session, typ domain.DomainEvent, data []byte, at time.Time) error
	SettleRefundTx(ctx context.Context, r *store.Repo, tx bun.Tx, sess *store.Session, providerID, refundID string, amount int64, at time.Time) error
	PaymentData(ctx context.Context, r *store.Repo, sessionID, providerID string) (map[string]string, error)
	ApplyRefundEventTx(ctx context.Context, r *store.Repo, tx bun.Tx, providerID, eventID string, ev provider.Event) error
}

var _ Sessions = (*payments.Service)(nil)

// Deps are the service's collaborators.
type Deps struct {
	Store     *store.Store
	Jobs      Enqueuer
	Providers Providers
	Sessions  Sessions
	// Meter records switchyard.refunds (by outcome); nil means none.
	Meter  metric.Meter
	Clock  func() time.Time
	Logger *slog.Logger
}

// Service creates refunds, runs their provider calls as durable jobs and
// matches the providers' refund webhooks to them. It is safe for
// concurrent use.
type Service struct {
	store     *store.Store
	jobs      Enqueuer
	providers Providers
	sessions  Sessions
	clock     func() time.Time
	log       *slog.Logger
	refunds   metric.Int64Counter
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
	if d.Providers == nil {
		missing = append(missing, "Providers")
	}
	if d.Sessions == nil {
		missing = append(missing, "Sessions")
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("refunds: missing %s", strings.Join(missing, ", "))
	}
	s := &Service{store: d.Store, jobs: d.Jobs, providers: d.Providers, sessions: d.Sessions, clock: d.Clock, log: d.Logger}
	if s.clock == nil {
		s.clock = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	meter := d.Meter
	if meter == nil {
		meter = noop.NewMeterProvider().Meter("switchyard/refunds")
	}
	var err error
	s.refunds, err = meter.Int64Counter("switchyard.refunds",
		metric.WithDescription("Refunds by outcome: created, succeeded, failed (and by source)"), metric.WithUnit("{refund}"))
	if err != nil {
		return nil, fmt.Errorf("refunds: metric: %w", err)
	}
	return s, nil
}

// now is the service clock in UTC at PostgreSQL's microsecond precision.
func (s *Service) now() time.Time { return s.clock().UTC().Truncate(time.Microsecond) }

// maxTxRetries bounds the retries of a transaction that lost a uniqueness
// race (two requests with one Idempotency-Key); the retry replays the
// winner's response.
const maxTxRetries = 5

func (s *Service) inTx(ctx context.Context, fn func(ctx context.Context, r *store.Repo, tx bun.Tx) error) error {
	var err error
	for range maxTxRetries {
		err = s.store.RunInTx(ctx, func(ctx context.Context, tx bun.Tx) error {
			return fn(ctx, store.NewRepo(tx), tx)
		})
		if err == nil || !store.IsUniqueViolation(err) {
			return err
		}
	}
	return fmt.Errorf("refunds: transaction kept conflicting: %w", err)
}

// sessionFor loads a session the caller may see: another merchant's, or one
// of the other mode, is not found. merchantID 0 (an operator) sees all.
func sessionFor(ctx context.Context, r *store.Repo, merchantID int64, mode domain.Mode, id string, lock bool) (*store.Session, error) {
	if !domain.ValidSessionID(id) {
		return nil, domain.NotFound("session")
	}
	var (
		sess *store.Session
		err  error
	)
	if lock {
		sess, err = r.LockSession(ctx, id)
	} else {
		sess, err = r.GetSession(ctx, id)
	}
	if err != nil {
		return nil, err
	}
	if merchantID != 0 && (sess.MerchantID != merchantID || domain.Mode(sess.Mode) != mode) {
		return nil, domain.NotFound("session")
	}
	return sess, nil
}

// refundedAttempt is the payment attempt whose money a refund returns: the
// session's latest succeeded attempt.
func refundedAttempt(ctx context.Context, r *store.Repo, sessionID string) (*store.PaymentAttempt, error) {
	atts, err := r.SessionAttempts(ctx, sessionID)
	if err != nil {
		return nil, err
	}
	for i := len(atts) - 1; i >= 0; i-- {
		if atts[i].Status == store.AttemptSucceeded && atts[i].ProviderRef != "" {
			return atts[i], nil
		}
	}
	return nil, errors.New("no succeeded payment attempt")
}

// appendRefundEvent emits a refund.* event for rf in the session's
// sequence, with the refund object as data. The caller saves sess.
func (s *Service) appendRefundEvent(ctx context.Context, r *store.Repo, tx bun.Tx, sess *store.Session, rf *store.Refund, typ domain.DomainEvent, at time.Time) error {
	data, err := Render(View(rf))
	if err != nil {
		return err
	}
	return s.sessions.AppendEventTx(ctx, r, tx, sess, typ, data, at)
}
