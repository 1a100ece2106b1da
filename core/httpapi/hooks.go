package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"sort"

	"github.com/labstack/echo/v4"

	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/payments"
	"github.com/switchyard/switchyard/sdk/provider"
)

// WebhookService applies inbound provider webhooks; *payments.Service
// implements it.
type WebhookService interface {
	ApplyWebhook(ctx context.Context, providerID, typ string, req provider.WebhookRequest) (provider.HTTPResponse, error)
}

var _ WebhookService = (*payments.Service)(nil)

// ProviderHooks mounts the inbound provider webhook intake: POST
// /hooks/:type/:provider_id, plus one POST route per configured alias
// (public.webhook_aliases: legacy path → provider instance id, e.g.
// /api/webhook.php → "paypro"). No bearer auth: the plugin verifies each
// request from its raw bytes. The request is handed over exactly as received
// (method, path, query, every header, raw body, peer address) and the
// plugin's response is written back as it is, after the service has stored
// the request and applied its events.
func ProviderHooks(svc WebhookService, aliases map[string]string) Mount {
	h := &hookHandlers{svc: svc}
	// Sorted, so route registration does not depend on map order.
	paths := make([]string, 0, len(aliases))
	for p := range aliases {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	return func(e *echo.Echo) {
		e.POST("/hooks/:type/:provider_id", func(c echo.Context) error {
			id := c.Param("provider_id")
			if !providerIDPattern.MatchString(id) {
				return domain.NotFound("provider")
			}
			return h.handle(c, id, c.Param("type"))
		})
		for _, path := range paths {
			id := aliases[path]
			e.POST(path, func(c echo.Context) error { return h.handle(c, id, "") })
		}
	}
}

type hookHandlers struct {
	svc WebhookService
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
