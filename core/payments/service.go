package payments

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/uptrace/bun"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"

	"github.com/switchyard/switchyard/config"
	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/routing"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/sdk/provider"
)

// Providers is what the service needs from the plugin host.
type Providers interface {
	// Provider returns a callable handle for a configured provider
	// instance: domain.ErrNotFound for an unknown id, domain.ErrUnavailable
	// while its plugin is down.
	Provider(id string) (provider.Client, error)
	// Describe returns the instance's last known Description (kept while
	// the plugin restarts): domain.ErrNotFound for an unknown id, a
	// *domain.Error of kind ErrUnavailable saying why for an instance that
	// is disabled or has not started.
	Describe(id string) (provider.Description, error)
	// IDs lists the configured provider instance ids.
	IDs() []string
	// Healthy reports whether the instance's plugin is up; cheap.
	Healthy(id string) bool
}

// Enqueuer schedules durable jobs inside a store transaction, so a job
// exists exactly when the change that needs it committed. *jobs.Runner
// implements it (an insert-only runner is enough).
type Enqueuer interface {
	EnqueueTx(ctx context.Context, tx bun.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
}

// EventSink is told about domain events inside the transaction that
// inserted them; the outbound webhooks service creates their deliveries
// there (*webhooks.Service implements it). sess is the events' session as
// the transaction leaves it, so the sink need not read it again.
type EventSink interface {
	EventsInserted(ctx context.Context, tx bun.Tx, sess *store.Session, events ...*store.Event) error
}

// EventSinks hands every event to each sink in order, in the same
// transaction; the first error aborts it. It is the hook for whatever
// must happen exactly when a session event commits (webhook deliveries,
// receipt mail jobs, fulfillment jobs): core/app lists the sinks.
type EventSinks []EventSink

var _ EventSink = EventSinks(nil)

// EventsInserted implements EventSink.
func (ss EventSinks) EventsInserted(ctx context.Context, tx bun.Tx, sess *store.Session, events ...*store.Event) error {
	for _, s := range ss {
		if err := s.EventsInserted(ctx, tx, sess, events...); err != nil {
			return err
		}
	}
	return nil
}

// Accounts are the upstream accounts merchants connected on provider
// instances (Stripe Connect); *accounts.Service implements it.
type Accounts interface {
	// Account returns the account merchantID connected on providerID, or
	// "" when none is connected.
	Account(ctx context.Context, merchantID int64, providerID string) (string, error)
	// ApplyEventTx applies an account.connected / account.disconnected
	// event that arrived by webhook, inside the event's transaction. It
	// refuses malformed events and unknown merchants with domain.ErrInvalid
	// / domain.ErrNotFound.
	ApplyEventTx(ctx context.Context, tx bun.IDB, providerID string, ev provider.Event) error
}

// Items validates a create request's items against the merchant's
// products; *fulfillment.Service implements it. It returns the rows to
// store with the session and the items as the session object shows them.
type Items interface {
	PrepareItems(ctx context.Context, merchantID int64, in []domain.ItemInput) ([]*store.SessionItem, string, error)
}

// URLChecker vets a merchant-supplied callback URL at save time (the
// webhooks service's SSRF guard: no private, loopback or link-local
// targets). It returns a *domain.Error.
type URLChecker func(ctx context.Context, raw string) error

// Router is the routing the service uses; *routing.Router implements it.
type Router interface {
	Route(ctx context.Context, req routing.Request) ([]routing.Candidate, error)
	Methods(merchantID int64, plan domain.Plan, mode domain.Mode) []string
	Currencies(merchantID int64, plan domain.Plan, mode domain.Mode, method string) ([]domain.Currency, bool)
	RecordResult(providerID string, err error)
	// Mode is a provider instance's mode (test unless configured live).
	Mode(providerID string) domain.Mode
}

var _ Router = (*routing.Router)(nil)

// Deps are the service's collaborators and settings.
type Deps struct {
	Store     *store.Store
	Jobs      Enqueuer
	Router    Router
	Providers Providers
	Sessions  config.SessionsConfig
	// Events, optional, receives every domain event in its transaction.
	Events EventSink
	// CheckIPNURL, optional, vets a session's ipn_url beyond syntax.
	CheckIPNURL URLChecker
	// Items, optional, validates session items; without it a session
	// with items is refused.
	Items Items
	// Subscriptions, optional, reacts to a linked subscription's renewals
	// and failed renewal charges; without it they are only recorded.
	Subscriptions Subscriptions
	// Accounts, optional, supplies CreatePaymentRequest.MerchantAccount and
	// applies account events from webhooks.
	Accounts Accounts
	// ReviewRefunds, optional, carries out an operator's decision to send
	// reviewed money back (the refunds service); without it the decision is
	// recorded for a refund made in the provider's dashboard.
	ReviewRefunds ReviewRefunder
	// PublicBaseURL is how shoppers and providers reach the public listener
	// (scheme://host[:port], no trailing slash); checkout and webhook URLs
	// are built from it.
	PublicBaseURL string
	// WebhookRetention are the windows of the stored webhook request
	// retention job (hooks.retention); zero values get the defaults.
	WebhookRetention config.HooksRetentionConfig
	// Meter makes the service's metrics; nil means none are exported.
	Meter metric.Meter
	// ReconcileAfter is how long a session may stay processing before the
	// reconciliation job asks the provider. Default 10 minutes.
	ReconcileAfter time.Duration
	// Clock returns the current time; nil means time.Now.
	Clock  func() time.Time
	Logger *slog.Logger
}

// Defaults for zero config values.
const (
	DefaultSessionTTL     = 24 * time.Hour
	DefaultIdempotencyTTL = 24 * time.Hour
	DefaultReconcileAfter = 10 * time.Minute
)

// Service is the checkout session service. It is safe for concurrent use
// and keeps no state of its own besides its dependencies.
type Service struct {
	store          *store.Store
	jobs           Enqueuer
	router         Router
	providers      Providers
	events         EventSink
	checkIPNURL    URLChecker
	items          Items
	accounts       Accounts
	subscriptions  Subscriptions
	reviewRefunds  ReviewRefunder
	refunds        RefundMatcher // set by SetRefunds
	baseURL        string
	ttl            time.Duration
	idemTTL        time.Duration
	reconcileAfter time.Duration
	maxAmount      domain.AmountLimit
	retention      config.HooksRetentionConfig
	metrics        *metrics
	clock          func() time.Time
	log            *slog.Logger
}

// metrics are the service's instruments.
type metrics struct {
	rejected metric.Int64Counter
	payments metric.Int64Counter
}

func newMetrics(m metric.Meter) (*metrics, error) {
	if m == nil {
		m = noop.NewMeterProvider().Meter("payments")
	}
	rejected, err := m.Int64Counter("switchyard.webhook.intake.rejected",
		metric.WithDescription("Inbound provider webhooks not accepted, by provider instance and reason (unverified, invalid, not_found, too_large, rate_limited, unavailable, unknown_provider, error)."),
		metric.WithUnit("{request}"))
	if err != nil {
		return nil, fmt.Errorf("payments: metrics: %w", err)
	}
	payments, err := m.Int64Counter("switchyard.payments",
		metric.WithDescription("Payment attempts by provider instance, method and outcome: started (the provider created the payment), declined or error (it did not), succeeded or failed (a verified provider event settled it)."),
		metric.WithUnit("{attempt}"))
	if err != nil {
		return nil, fmt.Errorf("payments: metrics: %w", err)
	}
	return &metrics{rejected: rejected, payments: payments}, nil
}

// New builds the service. It fails on a missing dependency or an invalid
// sessions.max_amount.
func New(d Deps) (*Service, error) {
	var missing []string
	if d.Store == nil {
		missing = append(missing, "Store")
	}
	if d.Jobs == nil {
		missing = append(missing, "Jobs")
	}
	if d.Router == nil {
		missing = append(missing, "Router")
	}
	if d.Providers == nil {
		missing = append(missing, "Providers")
	}
	if d.PublicBaseURL == "" {
		missing = append(missing, "PublicBaseURL")
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("payments: missing %s", strings.Join(missing, ", "))
	}
	limit, err := domain.ParseAmountLimit(d.Sessions.MaxAmount)
	if err != nil {
		return nil, fmt.Errorf("payments: sessions.max_amount: %w", err)
	}
	mx, err := newMetrics(d.Meter)
	if err != nil {
		return nil, err
	}
	s := &Service{
		store:          d.Store,
		jobs:           d.Jobs,
		router:         d.Router,
		providers:      d.Providers,
		events:         d.Events,
		checkIPNURL:    d.CheckIPNURL,
		items:          d.Items,
		accounts:       d.Accounts,
		subscriptions:  d.Subscriptions,
		reviewRefunds:  d.ReviewRefunds,
		baseURL:        strings.TrimRight(d.PublicBaseURL, "/"),
		ttl:            d.Sessions.TTL,
		idemTTL:        d.Sessions.IdempotencyTTL,
		reconcileAfter: d.ReconcileAfter,
		maxAmount:      limit,
		retention:      d.WebhookRetention,
		metrics:        mx,
		clock:          d.Clock,
		log:            d.Logger,
	}
	if s.ttl <= 0 {
		s.ttl = DefaultSessionTTL
	}
	if s.idemTTL <= 0 {
		s.idemTTL = DefaultIdempotencyTTL
	}
	if s.reconcileAfter <= 0 {
		s.reconcileAfter = DefaultReconcileAfter
	}
	if s.retention.Unverified <= 0 {
		s.retention.Unverified = DefaultUnverifiedRetention
	}
	if s.retention.Verified <= 0 {
		s.retention.Verified = DefaultVerifiedRetention
	}
	if s.clock == nil {
		s.clock = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s, nil
}

// now is the service clock in UTC at the microsecond precision PostgreSQL
// keeps, so values read back equal on both dialects.
func (s *Service) now() time.Time { return s.clock().UTC().Truncate(time.Microsecond) }

func (s *Service) checkoutURL(sessionID string) string { return s.baseURL + "/checkout/" + sessionID }

// maxTxRetries bounds the retries of a transaction that lost a uniqueness
// race; the retry reads the winner's row, so one retry almost always ends it.
const maxTxRetries = 5

// inTx runs fn in a transaction and retries it when it lost a race on a
// unique constraint (the retry sees the winner's committed row).
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
	return fmt.Errorf("payments: transaction kept conflicting: %w", err)
}

// appendEvent emits a domain event for sess in the current transaction:
// it bumps the session's sequence, renders the session as the status
// endpoint would, and stores both. The caller saves sess afterwards.
func (s *Service) appendEvent(ctx context.Context, r *store.Repo, tx bun.Tx, sess *store.Session, typ domain.DomainEvent, at time.Time) error {
	sess.EventSeq++
	data, err := s.renderSession(sess)
	if err != nil {
		return err
	}
	return s.insertEvent(ctx, r, tx, sess, typ, data, at)
}

// insertEvent stores an event with the session's current sequence and
// hands it to the EventSink in the same transaction, so the outbound
// deliveries exist exactly when the event does.
func (s *Service) insertEvent(ctx context.Context, r *store.Repo, tx bun.Tx, sess *store.Session, typ domain.DomainEvent, data []byte, at time.Time) error {
	ev := newEvent(sess, typ, data, at)
	if err := r.InsertEvent(ctx, ev); err != nil {
		return err
	}
	return s.eventsInserted(ctx, tx, sess, ev)
}

// newEvent is sess's next event (its current sequence number).
func newEvent(sess *store.Session, typ domain.DomainEvent, data []byte, at time.Time) *store.Event {
	return &store.Event{
		ID: domain.NewEventID(), MerchantID: sess.MerchantID, Mode: sess.Mode, SessionID: sess.ID,
		Type: string(typ), Seq: sess.EventSeq, Data: string(data), CreatedAt: at,
	}
}

// eventsInserted hands ev, just inserted in tx, to the EventSink.
func (s *Service) eventsInserted(ctx context.Context, tx bun.Tx, sess *store.Session, ev *store.Event) error {
	if s.events == nil {
		return nil
	}
	if err := s.events.EventsInserted(ctx, tx, sess, ev); err != nil {
		return fmt.Errorf("event %s: %w", ev.Type, err)
	}
	return nil
}

// sessionForMerchant loads a session the principal may see: another
// merchant's session, or one of the other mode, is simply not found.
func sessionForMerchant(ctx context.Context, r *store.Repo, merchantID int64, mode domain.Mode, id string) (*store.Session, error) {
	if !domain.ValidSessionID(id) {
		return nil, domain.NotFound("session")
	}
	sess, err := r.GetSession(ctx, id)
	if err != nil {
		return nil, err
	}
	if sess.MerchantID != merchantID || domain.Mode(sess.Mode) != mode {
		return nil, domain.NotFound("session")
	}
	return sess, nil
}
