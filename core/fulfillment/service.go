package fulfillment

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/uptrace/bun"

	"github.com/switchyard/switchyard/config"
	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/secrets"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/sdk/provisioner"
)

// Kind fulfills the items of one fulfillment kind. The service runs
// provision itself; another package registers a Kind for register_domain
// (core/app wires it with RegisterKind).
type Kind interface {
	// CheckProduct vets a product of this kind when it is saved through
	// the admin API or loaded from the file (the spec's shape was checked
	// already): for example that the registrar offers its tlds. A
	// *domain.Error refuses the save.
	CheckProduct(ctx context.Context, p Product) error
	// Validate checks one item of a product of this kind at session
	// create, before anything is stored; it may normalize the item (fill a
	// derived username). A *domain.Error refuses the session; use
	// ItemField for its field.
	Validate(ctx context.Context, p Product, it *Item) error
	// Enqueue starts fulfilling a paid item inside the transaction that
	// marked its session paid: write the kind's rows and enqueue its jobs
	// in tx so they exist exactly when the payment does.
	Enqueue(ctx context.Context, tx bun.Tx, s Session, it Item) error
}

// Session is what a Kind learns about the paid session.
type Session struct {
	ID            string
	MerchantID    int64
	Mode          domain.Mode
	OrderID       string
	CustomerEmail string
	// ClientID is the session's client ("" without a customer email).
	ClientID string
}

// Mailer sends the customer mails of the service lifecycle. The mail
// package implements it (templates, per-merchant overrides, the mailer
// plugin); core/app wires it. Errors are retried by the action's job.
type Mailer interface {
	// ServiceReady tells the customer their account exists, with its
	// login details. m.Password is a credential: never log it.
	ServiceReady(ctx context.Context, m ServiceMail) error
	// ServiceSuspended tells the customer their service was suspended.
	ServiceSuspended(ctx context.Context, m ServiceMail) error
}

// ServiceMail is what a service mail says.
type ServiceMail struct {
	MerchantID int64
	Mode       domain.Mode
	SessionID  string
	OrderID    string
	ServiceID  string
	To         string
	SKU        string
	Product    string
	Domain     string
	Username   string
	// Password is the generated panel password (ServiceReady only).
	Password    string
	Package     string
	Server      string
	IP          string
	Nameservers []string
	// LoginURL is a one-time login link when the product asks for one in
	// the mail (login_link_in_email) and the provisioner can make one.
	LoginURL string
	// Reason says why a service was suspended.
	Reason string
	// SuspendedAt is when (ServiceSuspended only).
	SuspendedAt time.Time
	// CustomerName is the client's name when known.
	CustomerName string
	// IdempotencyKey is stable across retries of the same mail.
	IdempotencyKey string
}

// Provisioners is what the service needs from the plugin host.
type Provisioners interface {
	// Provisioner returns a callable handle: domain.ErrNotFound for an
	// unknown id, domain.ErrUnavailable while its plugin is down.
	Provisioner(id string) (provisioner.Provisioner, error)
}

// Enqueuer schedules durable jobs inside a store transaction;
// *jobs.Runner implements it.
type Enqueuer interface {
	EnqueueTx(ctx context.Context, tx bun.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
}

// Sessions emits events in a session's sequence; *payments.Service
// implements it. The caller saves sess.
type Sessions interface {
	AppendEventTx(ctx context.Context, r *store.Repo, tx bun.Tx, sess *store.Session, typ domain.DomainEvent, data []byte, at time.Time) error
}

// Deps are the service's collaborators.
type Deps struct {
	Store        *store.Store
	Jobs         Enqueuer
	Provisioners Provisioners
	Keyring      *secrets.Keyring
	// Products are the products of the configuration file.
	Products []config.ProductConfig
	Config   config.FulfillmentConfig
	// InstanceKind names the kind of a configured plugin instance ("" for
	// an unknown id), for product checks.
	InstanceKind func(id string) string
	Clock        func() time.Time
	Logger       *slog.Logger
}

// Service owns products, items, clients and services. It is safe for
// concurrent use.
type Service struct {
	store        *store.Store
	jobs         Enqueuer
	provisioners Provisioners
	keyring      *secrets.Keyring
	instanceKind func(string) string
	cfg          config.FulfillmentConfig
	// fileProducts are the configuration's products by merchant (0 =
	// global) and sku.
	fileProducts map[fileKey]Product
	kinds        map[domain.FulfillmentKind]Kind
	sessions     Sessions
	mailer       Mailer
	clock        func() time.Time
	log          *slog.Logger
}

type fileKey struct {
	merchantID int64
	sku        string
}

// New builds the service. It fails on a missing dependency or a product
// of the file whose spec is invalid (config.Validate reports those first).
func New(d Deps) (*Service, error) {
	var missing []string
	if d.Store == nil {
		missing = append(missing, "Store")
	}
	if d.Jobs == nil {
		missing = append(missing, "Jobs")
	}
	if d.Provisioners == nil {
		missing = append(missing, "Provisioners")
	}
	if d.Keyring == nil {
		missing = append(missing, "Keyring")
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("fulfillment: missing %s", strings.Join(missing, ", "))
	}
	s := &Service{
		store: d.Store, jobs: d.Jobs, provisioners: d.Provisioners, keyring: d.Keyring,
		instanceKind: d.InstanceKind, cfg: d.Config, clock: d.Clock, log: d.Logger,
		fileProducts: map[fileKey]Product{}, kinds: map[domain.FulfillmentKind]Kind{},
	}
	if s.instanceKind == nil {
		s.instanceKind = func(string) string { return "" }
	}
	if s.cfg.MaxAttempts <= 0 {
		s.cfg.MaxAttempts = 12
	}
	if s.cfg.RetryDelay <= 0 {
		s.cfg.RetryDelay = 30 * time.Second
	}
	if s.clock == nil {
		s.clock = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.kinds[domain.KindProvision] = provisionKind{s}
	s.kinds[domain.KindNone] = noneKind{}
	for i, pc := range d.Products {
		p := fileProduct(pc)
		if errs := p.Fulfillment.Check(s.instanceKind); len(errs) > 0 {
			return nil, fmt.Errorf("fulfillment: products[%d]: %w", i, errs[0])
		}
		s.fileProducts[fileKey{pc.MerchantID, pc.SKU}] = p
	}
	return s, nil
}

// RegisterKind makes k handle the items of kind (register_domain). It is
// called while the application is built, before anything runs.
func (s *Service) RegisterKind(kind domain.FulfillmentKind, k Kind) { s.kinds[kind] = k }

// SetSessions gives the service the session service it emits events
// through (the two are built around each other).
func (s *Service) SetSessions(sess Sessions) { s.sessions = sess }

// SetMailer wires the service mails; nil (the default) sends none.
func (s *Service) SetMailer(m Mailer) { s.mailer = m }

// now is the service clock in UTC at PostgreSQL's precision.
func (s *Service) now() time.Time { return s.clock().UTC().Truncate(time.Microsecond) }

// inTx runs fn in a transaction with a repository on it.
func (s *Service) inTx(ctx context.Context, fn func(ctx context.Context, r *store.Repo, tx bun.Tx) error) error {
	return s.store.RunInTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		return fn(ctx, store.NewRepo(tx), tx)
	})
}

// noneKind records items of kind none and does nothing else.
type noneKind struct{}

func (noneKind) CheckProduct(context.Context, Product) error          { return nil }
func (noneKind) Validate(context.Context, Product, *Item) error       { return nil }
func (noneKind) Enqueue(context.Context, bun.Tx, Session, Item) error { return nil }

var _ Kind = noneKind{}
