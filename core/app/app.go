package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/switchyard/switchyard/config"
	"github.com/switchyard/switchyard/core/merchants"
	"github.com/switchyard/switchyard/core/secrets"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/core/telemetry"
)

// Version is stamped at build time with -ldflags -X.
var Version = "dev"

// Options are the process-level inputs that are not configuration.
type Options struct {
	// LogOutput receives structured logs; nil means stderr.
	LogOutput io.Writer
}

// App holds the components every command needs: configuration, logging,
// the store and the management services. Serve adds the long-running parts.
type App struct {
	Config    *config.Config
	Logger    *slog.Logger
	Telemetry *telemetry.Telemetry
	Store     *store.Store
	Merchants *merchants.Service
	// Keyring encrypts credentials at rest; nil when secrets.keys is empty,
	// in which case anything that must store a credential refuses to.
	Keyring *secrets.Keyring

	closers []func(context.Context) error
}

// New opens the store and builds the services. It does not migrate, start
// workers, launch plugins or listen; Serve does.
func New(ctx context.Context, cfg *config.Config, opts Options) (*App, error) {
	if opts.LogOutput == nil {
		opts.LogOutput = os.Stderr
	}
	a := &App{Config: cfg}
	tel, err := telemetry.New(ctx, cfg.Log, cfg.Telemetry, opts.LogOutput, Version)
	if err != nil {
		return nil, err
	}
	a.Telemetry, a.Logger = tel, tel.Logger
	a.onClose(tel.Shutdown)
	if len(cfg.Secrets.Keys) > 0 {
		kr, err := secrets.FromConfig(cfg.Secrets)
		if err != nil {
			_ = a.Close(ctx)
			return nil, err
		}
		a.Keyring = kr
	}

	st, err := store.Open(ctx, cfg.Store.DSN, store.Options{
		BusyTimeout:    cfg.Store.BusyTimeout,
		PGMaxOpenConns: cfg.Store.MaxOpenConns,
		Tracing:        true,
		TracerProvider: tel.TracerProvider,
		MeterProvider:  tel.MeterProvider,
	})
	if err != nil {
		_ = a.Close(ctx)
		return nil, err
	}
	a.Store = st
	a.onClose(func(context.Context) error { return st.Close() })
	a.Merchants = merchants.New(st)
	return a, nil
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

// Migrate brings the database schema up to date.
func (a *App) Migrate(ctx context.Context) error {
	if err := a.Store.Migrate(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
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
// public.base_url, or http:// + public.addr when unset.
func (a *App) PublicBaseURL() string {
	if a.Config.Public.BaseURL != "" {
		return a.Config.Public.BaseURL
	}
	return "http://" + a.Config.Public.Addr
}

// EncryptedColumns lists every column holding keyring-encrypted values, for
// `switchyard secrets rewrap`. Features that store credentials add theirs.
func (a *App) EncryptedColumns() []secrets.Column { return nil }

// RewrapSecrets re-encrypts every stored credential under the primary key.
func (a *App) RewrapSecrets(ctx context.Context) (secrets.Report, error) {
	if a.Keyring == nil {
		return secrets.Report{}, errors.New("secrets.keys is empty: configure a keyring before rewrapping")
	}
	return secrets.RewrapColumns(ctx, a.Store.DB(), a.Keyring, a.EncryptedColumns())
}
