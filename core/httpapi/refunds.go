package httpapi

import (
	"bytes"
	"context"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/payments"
	"github.com/switchyard/switchyard/core/refunds"
)

// RefundService is what the refund handlers call; *refunds.Service
// implements it.
type RefundService interface {
	Create(ctx context.Context, c refunds.Caller, sessionID string, req *refunds.CreateRequest, idemKey string) (*payments.Response, error)
	Get(ctx context.Context, c refunds.Caller, refundID string) (*refunds.RefundView, error)
	ListSession(ctx context.Context, c refunds.Caller, sessionID string, p refunds.ListParams) (*refunds.ListView, error)
	List(ctx context.Context, p refunds.ListParams) (*refunds.ListView, error)
}

var _ RefundService = (*refunds.Service)(nil)

// refundHandlers serve the refund endpoints for a caller taken from the
// request: the API key's merchant on the merchant API, an operator on the
// admin API.
type refundHandlers struct {
	svc    RefundService
	caller func(echo.Context) refunds.Caller
}

func merchantCaller(c echo.Context) refunds.Caller {
	p := principal(c)
	return refunds.Merchant(p.Merchant.ID, domain.Mode(p.Key.Mode))
}

func operatorCaller(echo.Context) refunds.Caller { return refunds.Operator() }

// sessionParam is the session of a refund route: the :id path parameter,
// or session_id in the query of the /gateway/refund.php alias.
func sessionParam(c echo.Context) (string, error) {
	if id := c.Param("id"); id != "" {
		return id, nil
	}
	id := c.QueryParam("session_id")
	if id == "" {
		return "", domain.Invalid("missing_field", "session_id", "session_id is required")
	}
	return id, nil
}

func (h *refundHandlers) create(c echo.Context) error {
	sessionID, err := sessionParam(c)
	if err != nil {
		return err
	}
	if err := requireJSON(c); err != nil {
		return err
	}
	body, err := readBody(c)
	if err != nil {
		return err
	}
	var req refunds.CreateRequest
	// No body at all refunds everything left, like an empty object.
	if len(bytes.TrimSpace(body)) > 0 {
		if err := decodeStrict(body, &req); err != nil {
			return err
		}
	}
	resp, err := h.svc.Create(c.Request().Context(), h.caller(c), sessionID, &req, c.Request().Header.Get(IdempotencyKeyHeader))
	if err != nil {
		return err
	}
	if resp.Replayed {
		c.Response().Header().Set("Idempotent-Replayed", "true")
	}
	return c.Blob(resp.Status, echo.MIMEApplicationJSON, resp.Body)
}

func (h *refundHandlers) get(c echo.Context) error {
	v, err := h.svc.Get(c.Request().Context(), h.caller(c), c.Param("refund_id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

func (h *refundHandlers) listSession(c echo.Context) error {
	p, err := listParams(c)
	if err != nil {
		return err
	}
	v, err := h.svc.ListSession(c.Request().Context(), h.caller(c), c.Param("id"), p)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

func (h *refundHandlers) list(c echo.Context) error {
	p, err := listParams(c)
	if err != nil {
		return err
	}
	if raw := c.QueryParam("merchant"); raw != "" {
		if p.MerchantID, err = strconv.ParseInt(raw, 10, 64); err != nil || p.MerchantID <= 0 {
			return domain.Invalid("invalid_id", "merchant", "merchant must be a positive integer")
		}
	}
	v, err := h.svc.List(c.Request().Context(), p)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

// listParams reads starting_after, limit and status.
func listParams(c echo.Context) (refunds.ListParams, error) {
	p := refunds.ListParams{StartingAfter: c.QueryParam("starting_after"), Status: domain.RefundStatus(c.QueryParam("status"))}
	if raw := c.QueryParam("limit"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil {
			return p, domain.Invalid("invalid_limit", "limit", "limit must be an integer between 1 and %d", refunds.MaxListLimit)
		}
		p.Limit = n
		if n == 0 {
			p.Limit = -1 // an explicit 0 is out of range, not "default"
		}
	}
	return p, nil
}

// AdminRefunds mounts the operator's refund routes behind operator token
// auth, the HTTP twin of `switchyard refunds create|list|show`:
//
//	POST /admin/v1/sessions/:id/refunds   refund any merchant's session
//	GET  /admin/v1/refunds                ?merchant=&status=&starting_after=&limit=
//	GET  /admin/v1/refunds/:refund_id
func AdminRefunds(svc RefundService, tokens []string) Mount {
	h := &refundHandlers{svc: svc, caller: operatorCaller}
	return func(e *echo.Echo) {
		g := e.Group("/admin/v1", AdminAuth(tokens))
		g.POST("/sessions/:id/refunds", h.create)
		g.GET("/refunds", h.list)
		g.GET("/refunds/:refund_id", h.get)
	}
}
