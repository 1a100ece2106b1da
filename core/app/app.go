package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"time"

	"github.com/switchyard/switchyard/config"
	"github.com/switchyard/switchyard/core/accounts"
	"github.com/switchyard/switchyard/core/audit"
	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/domains"
	"github.com/switchyard/switchyard/core/fulfillment"
	"github.com/switchyard/switchyard/core/jobs"
	"github.com/switchyard/switchyard/core/licenses"
	"github.com/switchyard/switchyard/core/mail"
	"github.com/switchyard/switchyard/core/merchants"
	"github.com/switchyard/switchyard/core/payments"
	"github.com/switchyard/switchyard/core/pluginhost"
	"github.com/switchyard/switchyard/core/ratelimit"
	"github.com/switchyard/switchyard/core/refunds"
	"github.com/switchyard/switchyard/core/routing"
	"github.com/switchyard/switchyard/core/secrets"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/core/telemetry"
	"github.com/switchyard/switchyard/core/webhooks"
	"github.com/switchyard/switchyard/sdk/meta"
)

// Version is stamped at build time with -ldflags -X.
var Version = "dev"

// Options are the process-level inputs that are not configuration.
type Options struct {
	// LogOutput receives structured logs; nil means stderr.
	LogOutput io.Writer
}

// App holds every component, built from one Config. New builds them all
// without starting anything long-running, so management commands can use
// the same services as the server; Serve starts plugins, job workers and
// listeners.
type App struct {
	Config    *config.Config
	Logger    *slog.Logger
	Telemetry *telemetry.Telemetry
	Store     *store.Store
	Keyring   *secrets.Keyring
	Merchants *merchants.Service
	Plugins   *pluginhost.Host
	Router    *routing.Router
	Payments  *payments.Service
	Webhooks  *webhooks.Service
	// Licenses answers providers' license-key requests (PayPro) with the
	// merchant's key generator.
	Licenses *licenses.Keygen
	Accounts *accounts.Service
	// Refunds creates refunds and runs their provider calls as jobs.
	Refunds *refunds.Service
	// Fulfillment owns products, session items, clients and services.
	Fulfillment *fulfillment.Service
	Jobs        *jobs.Runner
	// RateLimiter limits each merchant API key: shared through Redis when
	// api.rate_limit.redis_url is set, per instance otherwise.
	RateLimiter ratelimit.Limiter
	// Audit is the operators' audit log (console and admin API actions).
	Audit *audit.Log
	// Mail renders and sends receipts, fulfillment mail and webhook
	// notices, and keeps merchants' mail settings and template overrides.
	Mail *mail.Service
	// Domains runs the domain lifecycle (registrations, renewals, DNS).
	Domains *domains.Service

	// enq is how the services enqueue jobs; it is bound to Jobs.
	enq *enqueuer
	// breakerChanged wakes the breaker publisher (breakers.go).
	breakerChanged chan struct{}
	// listenBaseURL is http:// + the public listener's bound address, set
	// by Serve when public.base_url is empty (see PublicBaseURL).
	listenBaseURL string

	closers []func(context.Context) error
}

// New builds every component. It opens the store but does not migrate,
// launch plugins, start workers or listen; Serve does.
func New(ctx context.Context, cfg *config.Config, opts Options) (*App, error) {
	if opts.LogOutput == nil {
		opts.LogOutput = os.Stderr
	}
	a := &App{Config: cfg}
	if err := a.build(ctx, opts); err != nil {
		_ = a.Close(context.WithoutCancel(ctx))
		return nil, err
	}
	return a, nil
}

// build constructs the components in dependency order, registering each
// one's cleanup as it goes so a failure part-way releases what was made.
func (a *App) build(ctx context.Context, opts Options) (err error) {
	cfg := a.Config

	tel, err := telemetry.New(ctx, cfg.Log, cfg.Telemetry, opts.LogOutput, Version)
	if err != nil {
		return err
	}
	a.Telemetry, a.Logger = tel, tel.Logger
	a.onClose(tel.Shutdown)

	st, err := store.Open(ctx, cfg.Store.DSN, store.Options{
		BusyTimeout:    cfg.Store.BusyTimeout,
		PGMaxOpenConns: cfg.Store.MaxOpenConns,
		Tracing:        true,
		TracerProvider: tel.TracerProvider,
		MeterProvider:  tel.MeterProvider,
	})
	if err != nil {
		return err
	}
	a.Store = st
	a.onClose(func(context.Context) error { return st.Close() })

	if a.Keyring, err = secrets.FromConfig(cfg.Secrets); err != nil {
		return err
	}
	if a.RateLimiter, err = a.buildRateLimiter(); err != nil {
		return err
	}
	a.Merchants = merchants.New(st, merchants.Options{AuthCacheTTL: authCacheTTL(cfg.API.AuthCacheTTL), Logger: a.Logger})
	a.Audit = audit.New(st, a.Logger)

	if a.Plugins, err = pluginhost.New(cfg.Plugins, pluginhost.Options{Logger: a.Logger, TracerProvider: tel.TracerProvider,
		Meter: tel.Meter("switchyard/pluginhost")}); err != nil {
		return err
	}
	a.onClose(a.Plugins.Close)
	a.breakerChanged = make(chan struct{}, 1)
	if a.Router, err = routing.New(cfg.Routing, routing.Options{Health: a.Plugins, Modes: providerModes(cfg.Plugins),
		Meter: tel.Meter("switchyard/routing"), OnBreakerChange: a.signalBreakerChange}); err != nil {
		return err
	}

	// Services enqueue jobs through the runner, and the runner is built from
	// the workers the services register: the enqueuer is bound once both exist.
	a.enq = &enqueuer{}
	wd := webhooks.Deps{
		Store:               st,
		Keyring:             a.Keyring,
		Jobs:                a.enq,
		AllowPrivateTargets: cfg.Webhooks.AllowPrivateTargets,
		Timeout:             cfg.Webhooks.Timeout,
		Meter:               tel.Meter("switchyard/webhooks"),
		Logger:              a.Logger,
	}
	if a.Mail, err = mail.New(mail.Deps{
		Store: st, Mailers: a.Plugins, Jobs: a.enq, MailerIDs: a.mailerIDs(),
		DefaultMailer: cfg.Mail.Mailer, DefaultFrom: cfg.Mail.From,
		NoticeMailer: cfg.Webhooks.NotifyMailer, NoticeFrom: cfg.Webhooks.NotifyFrom,
		Logger: a.Logger,
	}); err != nil {
		return err
	}
	if cfg.Webhooks.NotifyMailer != "" {
		wd.Notifier = a.Mail
	}
	a.Webhooks, err = webhooks.New(wd)
	if err != nil {
		return err
	}
	// License requests (PayPro's LicenseRequested) are answered
	// synchronously with the key from the merchant's key generator.
	a.Licenses, err = licenses.New(licenses.TargetsFunc(a.licenseTarget), licenses.Options{
		Timeout:             cfg.Licenses.Timeout,
		AllowPrivateTargets: cfg.Webhooks.AllowPrivateTargets,
		Log:                 a.Logger,
	})
	if err != nil {
		return err
	}
	if err := a.buildServices(); err != nil {
		return err
	}
	// Registered once: Serve may rebuild the runner, which shares the
	// queue table, so the callback asks whichever runner is current.
	if err := jobs.RegisterMetrics(tel.Meter("switchyard/jobs"), st.DB(), func() []string { return a.Jobs.Kinds() }); err != nil {
		return err
	}
	// Through the field: Serve may replace the runner (buildServices).
	a.onClose(func(ctx context.Context) error { return a.Jobs.Stop(ctx) })
	return nil
}

// buildServices builds what depends on the public base URL: the accounts
// and payments services (checkout, return and webhook URLs are built from
// it) and the job runner made from their workers, which it binds to the
// enqueuer. Serve builds them again when the base URL is only known once
// the public listener is bound; the runner they replace never started.
func (a *App) buildServices() error {
	cfg, st, base := a.Config, a.Store, a.PublicBaseURL()
	if err := a.buildFulfillment(); err != nil {
		return err
	}
	acc, err := accounts.New(accounts.Deps{Store: st, Keyring: a.Keyring, Providers: a.Plugins, PublicBaseURL: base, Logger: a.Logger})
	if err != nil {
		return err
	}
	hosting := &hostingReady{}
	pay, err := payments.New(payments.Deps{
		Store:            st,
		Jobs:             a.enq,
		Router:           a.Router,
		Providers:        &licenses.Providers{Providers: hostProviders{a.Plugins}, Keygen: a.Licenses},
		Sessions:         cfg.Sessions,
		Events:           payments.EventSinks{a.Webhooks, a.Mail, a.Fulfillment, hosting},
		CheckIPNURL:      a.Webhooks.Guard().CheckURL,
		Items:            a.Fulfillment,
		Subscriptions:    a.Fulfillment,
		Accounts:         acc,
		PublicBaseURL:    base,
		WebhookRetention: cfg.Hooks.Retention,
		Meter:            a.Telemetry.Meter("switchyard/payments"),
		Logger:           a.Logger,
	})
	if err != nil {
		return err
	}

	ref, err := refunds.New(refunds.Deps{
		Store:     st,
		Jobs:      a.enq,
		Providers: hostProviders{a.Plugins},
		Sessions:  pay,
		Meter:     a.Telemetry.Meter("switchyard/refunds"),
		Logger:    a.Logger,
	})
	if err != nil {
		return err
	}
	// Refund webhooks are matched to refunds inside the payments service's
	// event transactions.
	pay.SetRefunds(ref)
	a.Fulfillment.SetSessions(pay)

	dom, err := a.buildDomains(pay)
	if err != nil {
		return err
	}
	a.Fulfillment.RegisterKind(domain.KindRegisterDomain, dom.Kind())
	hosting.d = dom

	reg := jobs.NewRegistry()
	if err := pay.RegisterJobs(reg); err != nil {
		return err
	}
	if err := dom.RegisterJobs(reg); err != nil {
		return err
	}
	if err := ref.RegisterJobs(reg); err != nil {
		return err
	}
	if err := a.Fulfillment.RegisterJobs(reg); err != nil {
		return err
	}
	if err := a.Webhooks.Register(reg); err != nil {
		return err
	}
	if err := a.Mail.RegisterJobs(reg); err != nil {
		return err
	}
	runner, err := jobs.New(st, jobs.Options{
		Registry:     reg,
		Workers:      cfg.Jobs.Workers,
		PollInterval: cfg.Jobs.PollInterval,
		PollOnly:     !cfg.Store.Listen,
		Logger:       a.Logger,
		PeriodicJobs: append(pay.PeriodicJobs(), dom.PeriodicJobs()...),
		// A job whose process died mid-run (a webhook POST cut by kill -9)
		// is retried after this, not after River's default hour.
		RescueStuckJobsAfter: cfg.Webhooks.Timeout + 2*time.Minute,
	})
	if err != nil {
		return err
	}
	a.Accounts, a.Payments, a.Refunds, a.Domains, a.Jobs = acc, pay, ref, dom, runner
	a.enq.runner = runner
	return nil
}

// mailerIDs are the configured mailer plugin instances (enabled or not: a
// merchant may name one that is switched on later).
func (a *App) mailerIDs() []string {
	var out []string
	for _, in := range a.Config.Plugins.Instances {
		if in.Kind == string(meta.KindMailer) {
			out = append(out, in.ID)
		}
	}
	return out
}

// buildRateLimiter makes the merchant API's per-key limiter from
// api.rate_limit: Redis-backed when redis_url is set.
func (a *App) buildRateLimiter() (ratelimit.Limiter, error) {
	rl := a.Config.API.RateLimit
	rate := ratelimit.Rate{PerSecond: rl.RequestsPerSecond, Burst: rl.Burst}
	if rl.RedisURL.Value() == "" {
		return ratelimit.NewLocal(rate, nil), nil
	}
	client, err := ratelimit.NewRedisClient(rl.RedisURL.Value(), rl.RedisTimeout)
	if err != nil {
		return nil, fmt.Errorf("api.rate_limit.redis_url: %w", err)
	}
	a.onClose(func(context.Context) error { return client.Close() })
	return ratelimit.NewShared(client, ratelimit.SharedOptions{
		Name: "api", Rate: rate, FailClosed: rl.RedisFailure == "closed",
		Meter: a.Telemetry.Meter("switchyard/ratelimit"), Logger: a.Logger,
	})
}

func (a *App) onClose(fn func(context.Context) error) { a.closers = append(a.closers, fn) }

// Close releases everything New and Serve acquired, in reverse order.
func (a *App) Close(ctx context.Context) error {
	var errs []error
	for i := len(a.closers) - 1; i >= 0; i-- {
		if err := a.closers[i](ctx); err != nil {
			errs = append(errs, err)
		}
	}
	a.closers = nil
	return errors.Join(errs...)
}

// Migrate brings the database schema up to date and reports what it
// applied (nothing when the schema was current).
func (a *App) Migrate(ctx context.Context) (store.Applied, error) {
	applied, err := a.Store.MigrateApplied(ctx)
	if err != nil {
		return applied, fmt.Errorf("migrate: %w", err)
	}
	if !applied.Empty() {
		a.Logger.InfoContext(ctx, "database migrated", "store", a.Store.String(),
			"migrations", applied.Switchyard, "river_migrations", applied.River)
	}
	return applied, nil
}

// Ready reports whether this instance can take traffic: the database
// answers and its schema is current.
func (a *App) Ready(ctx context.Context) error {
	if err := a.Store.Ping(ctx); err != nil {
		return fmt.Errorf("database unreachable: %w", err)
	}
	ok, err := a.Store.MigrationsCurrent(ctx)
	if err != nil {
		return fmt.Errorf("check migrations: %w", err)
	}
	if !ok {
		return errors.New("database migrations are pending")
	}
	return nil
}

// PublicBaseURL is how shoppers and providers reach the public listener:
// public.base_url, or, when unset, http:// + public.addr with the port the
// listener actually got once Serve has bound it (public.addr may ask for
// port 0).
func (a *App) PublicBaseURL() string {
	switch {
	case a.Config.Public.BaseURL != "":
		return a.Config.Public.BaseURL
	case a.listenBaseURL != "":
		return a.listenBaseURL
	}
	return "http://" + a.Config.Public.Addr
}

// useListenAddr makes the public base URL follow the bound listener when
// public.base_url is unset: the configured host (what the operator wrote,
// as before) with the port the listener got, or the bound host too when
// public.addr names none (":0"). When that changes the base URL (port 0),
// the services that build URLs from it are built again.
func (a *App) useListenAddr(bound net.Addr) error {
	if a.Config.Public.BaseURL != "" {
		return nil
	}
	boundHost, port, err := net.SplitHostPort(bound.String())
	if err != nil {
		return fmt.Errorf("public listener address %s: %w", bound, err)
	}
	host, _, err := net.SplitHostPort(a.Config.Public.Addr)
	if err != nil || host == "" {
		host = boundHost
	}
	base := "http://" + net.JoinHostPort(host, port)
	if base == a.PublicBaseURL() {
		return nil
	}
	a.listenBaseURL = base
	return a.buildServices()
}

// EncryptedColumns lists every column holding keyring-encrypted values, for
// `switchyard secrets rewrap`.
func (a *App) EncryptedColumns() []secrets.Column {
	cols := append(append(webhooks.EncryptedColumns(), accounts.EncryptedColumns()...), domains.EncryptedColumns()...)
	return append(cols, fulfillment.EncryptedColumns()...)
}

// RewrapSecrets re-encrypts every stored credential under the primary key.
func (a *App) RewrapSecrets(ctx context.Context) (secrets.Report, error) {
	return secrets.RewrapColumns(ctx, a.Store.DB(), a.Keyring, a.EncryptedColumns())
}

// authCacheTTL maps api.auth_cache_ttl, where 0 means off, to
// merchants.Options, where 0 means the default and negative means off.
func authCacheTTL(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}

// providerModes is each provider instance's configured mode, for routing
// and for settling events (test unless the configuration says live).
func providerModes(cfg config.PluginsConfig) map[string]domain.Mode {
	out := make(map[string]domain.Mode, len(cfg.Instances))
	for _, in := range cfg.Instances {
		if in.Kind == "provider" {
			out[in.ID] = domain.Mode(in.ProviderMode())
		}
	}
	return out
}
