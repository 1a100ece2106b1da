package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"regexp"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/switchyard/switchyard/core/checkout"
	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/sdk/provider"
	"github.com/switchyard/switchyard/sdk/sdkerr"
)

// ProviderLookup finds a provider plugin by instance id. pluginhost.Host
// satisfies it: unknown ids are domain.ErrNotFound, and the handle's calls
// fail with sdk category unavailable while the plugin is down.
type ProviderLookup interface {
	Provider(id string) (provider.Client, error)
}

// AccountEvents applies the events a provider's HTTP route returned
// (HTTPResponse.Events: an onboarding callback connecting an account)
// before the plugin's page is written; *accounts.Service implements it.
// It refuses (a *domain.Error, nothing stored) events it cannot apply,
// such as a merchant that does not exist.
type AccountEvents interface {
	ApplyHTTPEvents(ctx context.Context, providerID string, events []provider.Event) error
}

// ProviderHTTPOptions configures the /p/{provider_id}/… passthrough.
type ProviderHTTPOptions struct {
	// Events applies HTTPResponse.Events. Without it a response carrying
	// events is refused with an error page, so a browser is never told an
	// account was connected when nothing was stored.
	Events AccountEvents
	Logger *slog.Logger
	// PublicBaseURL is how browsers reach this listener; the provider gets
	// PublicBaseURL + "/p/{provider_id}" to build its links.
	PublicBaseURL string
}

// providerIDPattern is the config's instance id syntax; anything else cannot
// name an instance, so it is answered without a lookup.
var providerIDPattern = regexp.MustCompile(`^[a-z0-9_-]{1,64}$`)

// hopHeaders are connection-level headers a plugin may not set on our
// response; Content-Length is ours to compute from the body.
var hopHeaders = []string{
	"Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Connection",
	"Te", "Trailer", "Transfer-Encoding", "Upgrade", "Content-Length",
}

type providerHTTP struct {
	lookup ProviderLookup
	events AccountEvents
	pages  *checkout.Renderer
	log    *slog.Logger
	base   string
}

// ProviderHTTP mounts /p/{provider_id}/…: requests are handed as they came
// (method, path below /p/{id}, query, headers, body, peer address) to the
// provider plugin's HandleHTTP, and its response is written back. Pages
// for shoppers (a sandbox pay page, a 3-D Secure return) live there, so
// failures are answered with HTML pages, not JSON.
func ProviderHTTP(lookup ProviderLookup, r *checkout.Renderer, opts ProviderHTTPOptions) Mount {
	h := &providerHTTP{lookup: lookup, events: opts.Events, pages: r, log: opts.Logger, base: strings.TrimSuffix(opts.PublicBaseURL, "/")}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	return func(e *echo.Echo) {
		e.Any("/p/:provider_id", h.serve)
		e.Any("/p/:provider_id/*", h.serve)
	}
}

// setDefaultHeaders are the host's protections, applied before the
// plugin's own headers, which may replace them (a provider page that must
// be framed by its upstream, say).
func setDefaultHeaders(h http.Header) {
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Content-Security-Policy", "frame-ancestors 'none'; base-uri 'none'")
	h.Set("Cache-Control", "no-store")
}

func (h *providerHTTP) page(c echo.Context, status int, kind checkout.Kind) error {
	setDefaultHeaders(c.Response().Header())
	c.Response().Header().Set("Content-Security-Policy", checkoutCSP(nil))
	var buf strings.Builder
	if err := h.pages.Render(&buf, checkout.Page{Kind: kind}); err != nil {
		return c.String(status, http.StatusText(status))
	}
	return c.HTML(status, buf.String())
}

func (h *providerHTTP) serve(c echo.Context) error {
	req := c.Request()
	ctx := req.Context()
	id := c.Param("provider_id")
	if !providerIDPattern.MatchString(id) {
		return h.page(c, http.StatusNotFound, checkout.KindNotFound)
	}
	p, err := h.lookup.Provider(id)
	if err != nil {
		if errors.Is(err, domain.ErrNotFound) || errors.Is(err, domain.ErrInvalid) {
			// Unknown, or an instance that is not a provider: both are
			// simply not here as far as a browser is concerned.
			return h.page(c, http.StatusNotFound, checkout.KindNotFound)
		}
		h.log.ErrorContext(ctx, "provider lookup failed", "provider_id", id, "err", err)
		return h.page(c, http.StatusServiceUnavailable, checkout.KindUnavailable)
	}
	body, err := readBody(c)
	if err != nil {
		return err
	}
	prefix := "/p/" + id
	path := strings.TrimPrefix(req.URL.Path, prefix)
	if path == "" {
		path = "/"
	}
	if strings.HasPrefix(path+"/", provider.AdminPathPrefix) {
		// Operator routes are called by the admin API only.
		return h.page(c, http.StatusNotFound, checkout.KindNotFound)
	}
	resp, err := p.HandleHTTP(ctx, provider.HTTPRequest{
		Method:     req.Method,
		Path:       path,
		Query:      req.URL.RawQuery,
		Headers:    req.Header.Clone(),
		Body:       body,
		RemoteAddr: req.RemoteAddr,
		BaseURL:    h.baseURL(c) + prefix,
	})
	if err != nil {
		switch sdkerr.CategoryOf(err) {
		case sdkerr.CategoryUnimplemented, sdkerr.CategoryNotFound:
			return h.page(c, http.StatusNotFound, checkout.KindNotFound)
		case sdkerr.CategoryUnavailable, sdkerr.CategoryRetryable:
			h.log.WarnContext(ctx, "provider http unavailable", "provider_id", id, "err", err)
			return h.page(c, http.StatusServiceUnavailable, checkout.KindUnavailable)
		}
		h.log.ErrorContext(ctx, "provider http failed", "provider_id", id, "err", err)
		return h.page(c, http.StatusBadGateway, checkout.KindError)
	}
	status := resp.Status
	if status == 0 {
		status = http.StatusOK
	}
	if status < 200 || status > 599 {
		h.log.ErrorContext(ctx, "provider http returned an invalid status", "provider_id", id, "status", status)
		return h.page(c, http.StatusBadGateway, checkout.KindError)
	}
	if len(resp.Events) > 0 {
		if err := h.applyEvents(ctx, id, resp.Events); err != nil {
			return h.page(c, statusFor(err), checkout.KindError)
		}
	}
	out := c.Response().Header()
	setDefaultHeaders(out)
	for k, vs := range resp.Headers {
		out.Del(k)
		for _, v := range vs {
			out.Add(k, v)
		}
	}
	for _, k := range hopHeaders {
		out.Del(k)
	}
	c.Response().WriteHeader(status)
	if req.Method == http.MethodHead || len(resp.Body) == 0 || !bodyAllowed(status) {
		return nil
	}
	_, err = c.Response().Write(resp.Body)
	return err
}

// applyEvents stores what the plugin's route reported before its page is
// written; a refusal is logged for the operator, who started the flow.
func (h *providerHTTP) applyEvents(ctx context.Context, id string, events []provider.Event) error {
	if h.events == nil {
		h.log.ErrorContext(ctx, "provider http returned events but none can be applied here", "provider_id", id, "events", len(events))
		return errors.New("provider http events: no applier configured")
	}
	if err := h.events.ApplyHTTPEvents(ctx, id, events); err != nil {
		h.log.ErrorContext(ctx, "provider http events refused", "provider_id", id, "type", events[0].Type, "err", err)
		return err
	}
	return nil
}

// bodyAllowed mirrors net/http, which refuses a body for these statuses.
func bodyAllowed(status int) bool {
	return status != http.StatusNoContent && status != http.StatusNotModified
}

func (h *providerHTTP) baseURL(c echo.Context) string {
	if h.base != "" {
		return h.base
	}
	return c.Scheme() + "://" + c.Request().Host
}
