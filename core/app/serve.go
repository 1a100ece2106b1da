package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/switchyard/switchyard/config"
	"github.com/switchyard/switchyard/core/checkout"
	"github.com/switchyard/switchyard/core/httpapi"
	"github.com/switchyard/switchyard/sdk/meta"
)

// Listening reports the bound addresses, so callers that asked for port 0
// (tests, `make run` output) learn the real ones.
type Listening struct {
	Public string
	Admin  string
}

// Serve migrates, starts the background parts and both listeners, calls
// onListen once they accept connections, and blocks until ctx is done. It
// then shuts down gracefully: listeners stop accepting and drain in-flight
// requests, then workers and plugins stop.
func (a *App) Serve(ctx context.Context, onListen func(Listening)) error {
	if _, err := a.Migrate(ctx); err != nil {
		return err
	}

	pubLn, err := net.Listen("tcp", a.Config.Public.Addr)
	if err != nil {
		return fmt.Errorf("public listener %s: %w", a.Config.Public.Addr, err)
	}
	admLn, err := net.Listen("tcp", a.Config.Admin.Addr)
	if err != nil {
		_ = pubLn.Close()
		return fmt.Errorf("admin listener %s: %w", a.Config.Admin.Addr, err)
	}

	// Checkout and webhook URLs carry the port actually bound (public.addr
	// on port 0 without public.base_url), before anything serves or runs.
	err = a.useListenAddr(pubLn.Addr())
	var pubMounts, opsMounts []httpapi.Mount
	if err == nil {
		pubMounts, err = a.publicMounts()
	}
	if err == nil {
		opsMounts, err = a.operatorMounts()
	}
	if err == nil {
		err = a.Jobs.Start(ctx)
	}
	if err != nil {
		_ = pubLn.Close()
		_ = admLn.Close()
		return err
	}
	a.listenForChanges(ctx)
	a.publishBreakers(ctx)
	// A plugin that fails to start does not stop the server: it is retried
	// in the background and routing skips it until it is healthy.
	if err := a.Plugins.Start(ctx); err != nil {
		a.Logger.Error("some plugins did not start", "err", err)
	}
	// A product of the file whose package the panel does not list fails
	// the start: the configuration is wrong, not the first paid order.
	if err := a.Fulfillment.CheckFileProducts(ctx); err != nil {
		_ = pubLn.Close()
		_ = admLn.Close()
		_ = a.Close(context.WithoutCancel(ctx))
		return err
	}
	public := a.newServer("public", a.Config.Public.HTTPConfig, a.hstsMaxAge(), pubMounts...)
	admin := a.newServer("admin", a.Config.Admin.HTTPConfig, 0, append(a.adminMounts(), opsMounts...)...)

	errc := make(chan error, 2)
	go func() { errc <- serveOn(public, pubLn) }()
	go func() { errc <- serveOn(admin, admLn) }()
	a.Logger.Info("switchyard serving", "version", Version,
		"public", pubLn.Addr().String(), "admin", admLn.Addr().String(), "public_base_url", a.PublicBaseURL(), "store", a.Store.String())
	if onListen != nil {
		onListen(Listening{Public: pubLn.Addr().String(), Admin: admLn.Addr().String()})
	}

	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
	}

	a.Logger.Info("shutting down")
	shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	errs := []error{serveErr}
	errs = append(errs, public.Shutdown(shutCtx), admin.Shutdown(shutCtx))
	errs = append(errs, a.Close(shutCtx))
	return errors.Join(errs...)
}

// listenForChanges keeps the authentication cache in step with the other
// instances (PostgreSQL LISTEN, store.listen) until shutdown, which waits
// for it: the store's pool closes only once its connection is back.
func (a *App) listenForChanges(ctx context.Context) {
	if !a.Config.Store.Listen {
		return
	}
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = a.Merchants.ListenForChanges(ctx)
	}()
	a.onClose(func(context.Context) error {
		cancel()
		<-done
		return nil
	})
}

func serveOn(srv *http.Server, ln net.Listener) error {
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func (a *App) newServer(name string, hc config.HTTPConfig, hsts time.Duration, mounts ...httpapi.Mount) *http.Server {
	e := httpapi.New(httpapi.Options{
		Logger:     a.Logger,
		Middleware: a.Telemetry.Middleware(name),
		BodyLimit:  hc.BodyLimit,
		Ready:      a.Ready,
		HSTSMaxAge: hsts,
	}, mounts...)
	return &http.Server{
		Handler:           e,
		ReadTimeout:       hc.ReadTimeout,
		ReadHeaderTimeout: hc.ReadTimeout,
		WriteTimeout:      hc.WriteTimeout,
		IdleTimeout:       hc.IdleTimeout,
	}
}

// publicMounts are the merchant-, shopper- and provider-facing routes.
func (a *App) publicMounts() ([]httpapi.Mount, error) {
	pages, err := checkout.NewRenderer()
	if err != nil {
		return nil, err
	}
	return []httpapi.Mount{
		httpapi.MerchantAPI(a.Payments, a.Merchants, httpapi.MerchantAPIOptions{Limiter: a.RateLimiter, Refunds: a.Refunds}),
		httpapi.ProviderHooks(a.Payments, a.hooksOptions()),
		httpapi.Checkout(a.Payments, pages, httpapi.CheckoutOptions{Logger: a.Logger, PublicBaseURL: a.PublicBaseURL(),
			FormActionOrigins: a.providerPageOrigins(), PageOrigins: a.describedPageOrigins}),
		httpapi.ProviderHTTP(a.Plugins, pages, httpapi.ProviderHTTPOptions{Events: a.Accounts, Logger: a.Logger, PublicBaseURL: a.PublicBaseURL()}),
	}, nil
}

// hstsMaxAge is the public listener's Strict-Transport-Security max-age:
// public.hsts_max_age when shoppers and providers reach it over HTTPS
// (public.base_url is https), else none.
func (a *App) hstsMaxAge() time.Duration {
	if !strings.HasPrefix(strings.ToLower(a.Config.Public.BaseURL), "https://") {
		return 0
	}
	return a.Config.Public.HSTSMaxAge
}

// hooksOptions are the webhook intake's settings (public.webhook_aliases,
// hooks.rate_limit, hooks.trusted_proxies; Validate checked the proxies).
func (a *App) hooksOptions() httpapi.ProviderHooksOptions {
	h := a.Config.Hooks
	opts := httpapi.ProviderHooksOptions{Aliases: a.Config.Public.WebhookAliases,
		RequestsPerSecond: h.RateLimit.RequestsPerSecond, Burst: h.RateLimit.Burst}
	for _, p := range h.TrustedProxies {
		if prefix, err := config.ParseTrustedProxy(p); err == nil {
			opts.TrustedProxies = append(opts.TrustedProxies, prefix)
		}
	}
	return opts
}

// providerPageOrigins are the page origins operators configured for the
// enabled provider instances (plugins.instances[].page_origins), in
// configuration order without repeats; a disabled instance takes no
// payments, so its pages need no place in the checkout's policy. The
// origins plugins describe themselves come from describedPageOrigins.
func (a *App) providerPageOrigins() []string {
	var out []string
	for _, in := range a.Config.Plugins.Instances {
		if in.Kind != string(meta.KindProvider) || !in.IsEnabled() {
			continue
		}
		for _, o := range in.PageOrigins {
			if !slices.Contains(out, o) {
				out = append(out, o)
			}
		}
	}
	return out
}

// describedPageOrigins are the page origins the running provider plugins
// report in Describe, read on every checkout request because a plugin
// describes itself only once it has started (and again after a restart).
// Disabled instances never start, so they add nothing.
func (a *App) describedPageOrigins() []string {
	var out []string
	for _, in := range a.Plugins.Instances() {
		if in.Kind == meta.KindProvider {
			out = append(out, in.PageOrigins...)
		}
	}
	return out
}

// adminMounts are the operator route groups.
func (a *App) adminMounts() []httpapi.Mount {
	tokens := make([]string, 0, len(a.Config.Admin.Tokens))
	for _, t := range a.Config.Admin.Tokens {
		tokens = append(tokens, t.Value())
	}
	return []httpapi.Mount{func(e *echo.Echo) {
		e.GET("/metrics", echo.WrapHandler(a.Telemetry.MetricsHandler()))
	}, httpapi.AdminMerchants(a.Merchants, tokens), httpapi.AdminWebhooks(a.Webhooks, tokens), httpapi.AdminConnect(a.Accounts, tokens),
		httpapi.AdminReviews(a.Payments, tokens), httpapi.AdminRefunds(a.Refunds, tokens), httpapi.AdminMail(a.Mail, tokens),
		httpapi.AdminDomains(a.Domains, tokens), httpapi.AdminFulfillment(a.Fulfillment, tokens)}
}
