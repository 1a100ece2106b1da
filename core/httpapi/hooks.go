package httpapi

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"sort"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/payments"
	"github.com/switchyard/switchyard/core/ratelimit"
	"github.com/switchyard/switchyard/sdk/provider"
)

// WebhookService applies inbound provider webhooks; *payments.Service
// implements it.
type WebhookService interface {
	ApplyWebhook(ctx context.Context, providerID, typ string, req provider.WebhookRequest) (provider.HTTPResponse, error)
	// CountWebhookRejection counts a request refused before it reached
	// ApplyWebhook (the per-source rate limit).
	CountWebhookRejection(ctx context.Context, providerID, reason string)
}

var _ WebhookService = (*payments.Service)(nil)

// ProviderHooksOptions configure the webhook intake.
type ProviderHooksOptions struct {
	// Aliases maps legacy paths (public.webhook_aliases) to provider
	// instance ids, e.g. /api/webhook.php → "paypro".
	Aliases map[string]string
	// Limiter limits each source address (hooks.rate_limit); nil means a
	// per-instance ratelimit.Local of RequestsPerSecond and Burst.
	Limiter ratelimit.Limiter
	// RequestsPerSecond and Burst are the bucket per source used when
	// Limiter is nil. RequestsPerSecond <= 0 disables the limit.
	RequestsPerSecond float64
	Burst             int
	// TrustedProxies (hooks.trusted_proxies): a request whose peer is in
	// one of them is attributed to the address its X-Forwarded-For names.
	TrustedProxies []netip.Prefix
	// Now is the rate limiter's clock; nil means time.Now.
	Now func() time.Time
}

// ProviderHooks mounts the inbound provider webhook intake: POST
// /hooks/:type/:provider_id, plus one POST route per configured alias. No
// bearer auth: the plugin verifies each request from its raw bytes. The
// request is handed over exactly as received (method, path, query, every
// header, raw body, peer address) and the plugin's response is written back
// as it is, after the service has stored the request and applied its
// events. Each source address is rate limited before its body is read, so
// a flood costs neither disk nor plugin calls.
func ProviderHooks(svc WebhookService, opts ProviderHooksOptions) Mount {
	h := &hookHandlers{svc: svc, source: sourceAddress(opts.TrustedProxies)}
	limiter := opts.Limiter
	if limiter == nil {
		limiter = ratelimit.NewLocal(ratelimit.Rate{PerSecond: opts.RequestsPerSecond, Burst: opts.Burst}, opts.Now)
	}
	// Sorted, so route registration does not depend on map order.
	paths := make([]string, 0, len(opts.Aliases))
	for p := range opts.Aliases {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	return func(e *echo.Echo) {
		// One limiter for all routes: a source has one bucket, whichever
		// path it posts to.
		e.POST("/hooks/:type/:provider_id", h.hook, limitBy(limiter, h.sourceKey, h.rateLimited("")))
		for _, path := range paths {
			id := opts.Aliases[path]
			e.POST(path, h.alias(id), limitBy(limiter, h.sourceKey, h.rateLimited(id)))
		}
	}
}

type hookHandlers struct {
	svc    WebhookService
	source echo.IPExtractor
}

func (h *hookHandlers) hook(c echo.Context) error {
	id := c.Param("provider_id")
	if !providerIDPattern.MatchString(id) {
		return domain.NotFound("provider")
	}
	return h.handle(c, id, c.Param("type"))
}

func (h *hookHandlers) alias(providerID string) echo.HandlerFunc {
	return func(c echo.Context) error { return h.handle(c, providerID, "") }
}

// sourceAddress returns how a request's source is found: the peer
// address, or, from a trusted proxy, the right-most X-Forwarded-For entry
// that is not itself a trusted proxy (echo's extractor, with only the
// configured ranges trusted).
func sourceAddress(proxies []netip.Prefix) echo.IPExtractor {
	if len(proxies) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, p := range proxies {
		opts = append(opts, echo.TrustIPRange(&net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}

// sourceKey is the rate limit key of a hook request: its source address,
// an IPv6 source by its /64 (one host commonly holds the whole /64).
func (h *hookHandlers) sourceKey(c echo.Context) (string, bool) {
	ip, err := netip.ParseAddr(h.source(c.Request()))
	if err != nil {
		return "hook:unparsed", true
	}
	ip = ip.Unmap().WithZone("")
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return "hook:" + p.String(), true
	}
	return "hook:" + ip.String(), true
}

// rateLimited answers a request over its source's limit with 429 and
// counts it against the route's provider instance (providerID, or the
// path's for /hooks/…).
func (h *hookHandlers) rateLimited(providerID string) func(echo.Context, time.Duration) error {
	return func(c echo.Context, wait time.Duration) error {
		id := providerID
		if id == "" {
			id = c.Param("provider_id")
		}
		h.svc.CountWebhookRejection(c.Request().Context(), id, payments.RejectRateLimited)
		return &retryAfterError{
			err: &domain.Error{Kind: domain.ErrRateLimited, Code: "rate_limited",
				Message: "too many webhook requests from this address; retry after the Retry-After delay"},
			after: wait,
		}
	}
}

func (h *hookHandlers) handle(c echo.Context, providerID, typ string) error {
	body, err := readBody(c)
	if err != nil {
		return err
	}
	r := c.Request()
	// RemoteAddr, not a forwarded-for header: a plugin that allowlists the
	// provider's addresses must not be fooled by a header anyone can send
	// (the headers are passed too, for deployments behind a trusted proxy).
	resp, err := h.svc.ApplyWebhook(r.Context(), providerID, typ, provider.WebhookRequest{
		Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Headers: r.Header.Clone(),
		Body: body, RemoteAddr: r.RemoteAddr,
	})
	if err != nil {
		return err
	}
	return writePluginResponse(c, resp)
}

// writePluginResponse sends a plugin's HTTP response. Hop-by-hop headers
// are the server's business and are not copied.
func writePluginResponse(c echo.Context, resp provider.HTTPResponse) error {
	status := resp.Status
	if status == 0 {
		status = http.StatusOK
	}
	if status < 200 || status > 599 {
		return fmt.Errorf("provider webhook response has invalid status %d", status)
	}
	hdr := c.Response().Header()
	for k, vs := range resp.Headers {
		for _, v := range vs {
			hdr.Add(k, v)
		}
	}
	for _, k := range hopHeaders {
		hdr.Del(k)
	}
	c.Response().WriteHeader(status)
	if c.Request().Method == http.MethodHead || len(resp.Body) == 0 || !bodyAllowed(status) {
		return nil
	}
	_, err := c.Response().Write(resp.Body)
	return err
}
