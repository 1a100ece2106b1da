package webhooks

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/uptrace/bun"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"

	"github.com/switchyard/switchyard/core/secrets"
	"github.com/switchyard/switchyard/core/store"
)

// Retry schedule presets: entry 0 is the first attempt (0 = at once),
// entry i the wait after attempt i fails, so the length is the number of
// automatic attempts.
const (
	ScheduleSvix   = "svix"
	SchedulePayPro = "paypro"
)

// DefaultSchedules returns the presets. svix is Svix's published schedule;
// paypro is PayPro Global's IPN policy: the first attempt, then a retry
// every 30 minutes, at most 3 retries.
func DefaultSchedules() map[string][]time.Duration {
	return map[string][]time.Duration{
		ScheduleSvix: {0, 5 * time.Second, 5 * time.Minute, 30 * time.Minute,
			2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour},
		SchedulePayPro: {0, 30 * time.Minute, 30 * time.Minute, 30 * time.Minute},
	}
}

// Defaults for zero Deps fields.
const (
	DefaultTimeout       = 10 * time.Second
	DefaultJitter        = 0.1
	DefaultRotateOverlap = 24 * time.Hour
	// MaxRetryAfter caps how long a Retry-After header may postpone the
	// next attempt.
	MaxRetryAfter = 24 * time.Hour
	// MaxResponseBody is how much of a receiver's answer is kept.
	MaxResponseBody = 4 << 10
)

// Enqueuer schedules jobs inside a store transaction; *jobs.Runner
// implements it.
type Enqueuer interface {
	EnqueueTx(ctx context.Context, tx bun.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
}

// Keyring seals endpoint secrets at rest; *secrets.Keyring implements it.
type Keyring interface {
	Encrypt(plaintext []byte, owner secrets.Owner) (string, error)
	Decrypt(ciphertext string, owner secrets.Owner) ([]byte, error)
}

var _ Keyring = (*secrets.Keyring)(nil)

// Deps are the service's collaborators and settings.
type Deps struct {
	Store *store.Store
	// Keyring is required to create or rotate endpoints and to send; nil
	// makes those fail with a clear error (secrets.keys is empty).
	Keyring Keyring
	// Jobs enqueues delivery attempts; required.
	Jobs Enqueuer
	// AllowPrivateTargets is webhooks.allow_private_targets: loopback
	// targets pass the SSRF guard (Guard.AllowLoopback).
	AllowPrivateTargets bool
	// Timeout bounds each POST (webhooks.timeout). Default 10s.
	Timeout time.Duration
	// Schedules replaces the presets (tests use millisecond schedules).
	Schedules map[string][]time.Duration
	// Jitter spreads retry delays by ±Jitter×delay. Default 0.1; negative
	// means none.
	Jitter float64
	// Notifier tells merchants about failed deliveries and disabled
	// endpoints; nil means a log line and a metric only.
	Notifier Notifier
	// HTTPClient overrides the guarded client (never in production: the
	// SSRF guard lives in the default one).
	HTTPClient *http.Client
	// Guard overrides the SSRF guard built from AllowPrivateTargets.
	Guard  *Guard
	Meter  metric.Meter
	Logger *slog.Logger
	Clock  func() time.Time
}

// Service manages endpoints, creates deliveries for new events, runs
// delivery attempts and answers history queries. It is safe for
// concurrent use.
type Service struct {
	store     *store.Store
	keyring   Keyring
	jobs      Enqueuer
	guard     *Guard
	client    *http.Client
	timeout   time.Duration
	schedules map[string][]time.Duration
	jitter    float64
	notifier  Notifier
	log       *slog.Logger
	clock     func() time.Time
	metrics   metrics
}

type metrics struct {
	attempts metric.Int64Counter
	failed   metric.Int64Counter
	disabled metric.Int64Counter
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
	if len(missing) > 0 {
		return nil, fmt.Errorf("webhooks: missing %s", strings.Join(missing, ", "))
	}
	if kr, ok := d.Keyring.(*secrets.Keyring); ok && kr == nil {
		// A nil *Keyring in the interface is not a nil interface; treat it
		// as "no keyring" so callers get errNoKeyring, not a panic.
		d.Keyring = nil
	}
	s := &Service{
		store:     d.Store,
		keyring:   d.Keyring,
		jobs:      d.Jobs,
		guard:     d.Guard,
		client:    d.HTTPClient,
		timeout:   d.Timeout,
		schedules: d.Schedules,
		jitter:    d.Jitter,
		notifier:  d.Notifier,
		log:       d.Logger,
		clock:     d.Clock,
	}
	if s.timeout <= 0 {
		s.timeout = DefaultTimeout
	}
	if s.schedules == nil {
		s.schedules = DefaultSchedules()
	}
	for name, sch := range s.schedules {
		if len(sch) == 0 {
			return nil, fmt.Errorf("webhooks: schedule %q is empty", name)
		}
	}
	switch {
	case s.jitter == 0:
		s.jitter = DefaultJitter
	case s.jitter < 0:
		s.jitter = 0
	case s.jitter > 1:
		return nil, fmt.Errorf("webhooks: jitter %v is above 1", s.jitter)
	}
	if s.guard == nil {
		s.guard = NewGuard(d.AllowPrivateTargets)
	}
	if s.client == nil {
		s.client = s.guard.NewHTTPClient(s.timeout)
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.clock == nil {
		s.clock = time.Now
	}
	meter := d.Meter
	if meter == nil {
		meter = noop.NewMeterProvider().Meter("webhooks")
	}
	var err error
	if s.metrics.attempts, err = meter.Int64Counter("switchyard.webhooks.attempts",
		metric.WithDescription("Webhook delivery attempts by outcome (succeeded, failed, canceled) and cause (auto: the retry schedule; resend; recover)"),
		metric.WithUnit("{attempt}")); err != nil {
		return nil, err
	}
	if s.metrics.failed, err = meter.Int64Counter("switchyard.webhooks.deliveries_failed",
		metric.WithDescription("Webhook deliveries that exhausted their retry schedule"),
		metric.WithUnit("{delivery}")); err != nil {
		return nil, err
	}
	if s.metrics.disabled, err = meter.Int64Counter("switchyard.webhooks.endpoints_disabled",
		metric.WithDescription("Endpoints disabled automatically (410 Gone)"),
		metric.WithUnit("{endpoint}")); err != nil {
		return nil, err
	}
	return s, nil
}

// Guard returns the SSRF guard, for other services that accept URLs
// (session ipn_url) to check them at save time.
func (s *Service) Guard() *Guard { return s.guard }

// EncryptedColumns lists the keyring-encrypted columns this package
// stores, for `switchyard secrets rewrap`.
func EncryptedColumns() []secrets.Column {
	return []secrets.Column{
		{Table: "webhook_endpoints", IDColumn: "id", Field: "secret"},
		{Table: "webhook_endpoints", IDColumn: "id", Field: "previous_secret"},
	}
}

func (s *Service) now() time.Time { return s.clock().UTC().Truncate(time.Microsecond) }

var errNoKeyring = errors.New("webhooks: secrets.keys is empty: configure a keyring to store webhook secrets")

func secretOwner(endpointID, field string) secrets.Owner {
	return secrets.Owner{Table: "webhook_endpoints", Row: endpointID, Field: field}
}

func (s *Service) seal(endpointID, field, secret string) (string, error) {
	if s.keyring == nil {
		return "", errNoKeyring
	}
	return s.keyring.Encrypt([]byte(secret), secretOwner(endpointID, field))
}

func (s *Service) open(endpointID, field, sealed string) (string, error) {
	if s.keyring == nil {
		return "", errNoKeyring
	}
	b, err := s.keyring.Decrypt(sealed, secretOwner(endpointID, field))
	if err != nil {
		return "", fmt.Errorf("webhooks: endpoint %s %s: %w", endpointID, field, err)
	}
	return string(b), nil
}
