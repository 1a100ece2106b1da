package httpapi

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/switchyard/switchyard/core/domains"
	"github.com/switchyard/switchyard/sdk/registrar"
)

// DomainAdmin is what the admin API needs from the domain lifecycle;
// *domains.Service implements it.
type DomainAdmin interface {
	List(ctx context.Context, p domains.ListParams) ([]domains.View, error)
	Show(ctx context.Context, ref string) (*domains.Detail, error)
	Check(ctx context.Context, registrarID string, names []string) ([]domains.AvailabilityView, error)
	Renew(ctx context.Context, ref string, years int, by string) (*domains.OperationView, error)
	SetLock(ctx context.Context, ref string, locked bool, by string) (*domains.OperationView, error)
	AuthCode(ctx context.Context, ref string) (string, error)
	SetNameservers(ctx context.Context, ref string, nameservers []string, by string) (*domains.OperationView, error)
	Records(ctx context.Context, ref string) ([]registrar.Record, error)
	MailRecords(ctx context.Context, ref, dkim, by string) (*domains.OperationView, error)
}

var _ DomainAdmin = (*domains.Service)(nil)

// AdminDomains mounts the domain operator routes, the HTTP twin of the
// service calls `switchyard domains` is meant to make:
//
//	GET  /admin/v1/domains?merchant=&status=&session=&after=&limit=
//	GET  /admin/v1/domains/:ref                 (dom_… or the name)
//	POST /admin/v1/domains/check                {"registrar": "route53", "domains": ["a.com"]}
//	POST /admin/v1/domains/:ref/renew           {"years": 1}
//	POST /admin/v1/domains/:ref/transfer-lock   {"locked": true}
//	POST /admin/v1/domains/:ref/auth-code       the code, once; never logged
//	POST /admin/v1/domains/:ref/nameservers     {"nameservers": ["ns1…", "ns2…"]}
//	GET  /admin/v1/domains/:ref/records
//	POST /admin/v1/domains/:ref/records/mail    {"dkim": "…"} (optional)
func AdminDomains(svc DomainAdmin, tokens []string) Mount {
	h := &domainHandlers{svc: svc}
	return func(e *echo.Echo) {
		g := e.Group("/admin/v1", AdminAuth(tokens))
		g.GET("/domains", h.list)
		g.POST("/domains/check", h.check)
		g.GET("/domains/:ref", h.show)
		g.POST("/domains/:ref/renew", h.renew)
		g.POST("/domains/:ref/transfer-lock", h.lock)
		g.POST("/domains/:ref/auth-code", h.authCode)
		g.POST("/domains/:ref/nameservers", h.nameservers)
		g.GET("/domains/:ref/records", h.records)
		g.POST("/domains/:ref/records/mail", h.mailRecords)
	}
}

type domainHandlers struct{ svc DomainAdmin }

func (h *domainHandlers) list(c echo.Context) error {
	mid, err := queryInt(c, "merchant")
	if err != nil {
		return err
	}
	limit, err := queryInt(c, "limit")
	if err != nil {
		return err
	}
	ds, err := h.svc.List(c.Request().Context(), domains.ListParams{MerchantID: mid, Status: c.QueryParam("status"),
		SessionID: c.QueryParam("session"), After: c.QueryParam("after"), Limit: int(min(limit, domains.MaxListLimit))})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, listOf(ds))
}

func (h *domainHandlers) show(c echo.Context) error {
	d, err := h.svc.Show(c.Request().Context(), c.Param("ref"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, d)
}

func (h *domainHandlers) check(c echo.Context) error {
	var in struct {
		Registrar string   `json:"registrar"`
		Domains   []string `json:"domains"`
	}
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	av, err := h.svc.Check(c.Request().Context(), in.Registrar, in.Domains)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, listOf(av))
}

func (h *domainHandlers) renew(c echo.Context) error {
	var in struct {
		Years int `json:"years"`
	}
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	return opResult(c)(h.svc.Renew(c.Request().Context(), c.Param("ref"), in.Years, apiOperator(c)))
}

func (h *domainHandlers) lock(c echo.Context) error {
	var in struct {
		Locked bool `json:"locked"`
	}
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	return opResult(c)(h.svc.SetLock(c.Request().Context(), c.Param("ref"), in.Locked, apiOperator(c)))
}

// authCode answers the code once, uncached; nothing records it.
func (h *domainHandlers) authCode(c echo.Context) error {
	code, err := h.svc.AuthCode(c.Request().Context(), c.Param("ref"))
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, map[string]string{"auth_code": code})
}

func (h *domainHandlers) nameservers(c echo.Context) error {
	var in struct {
		Nameservers []string `json:"nameservers"`
	}
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	return opResult(c)(h.svc.SetNameservers(c.Request().Context(), c.Param("ref"), in.Nameservers, apiOperator(c)))
}

func (h *domainHandlers) records(c echo.Context) error {
	recs, err := h.svc.Records(c.Request().Context(), c.Param("ref"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, listOf(domains.RecordViews(recs)))
}

func (h *domainHandlers) mailRecords(c echo.Context) error {
	var in struct {
		DKIM string `json:"dkim"`
	}
	if c.Request().ContentLength != 0 {
		if err := bindJSON(c, &in); err != nil {
			return err
		}
	}
	return opResult(c)(h.svc.MailRecords(c.Request().Context(), c.Param("ref"), in.DKIM, apiOperator(c)))
}

// opResult answers an accepted operation with 202: a server's job makes
// the registrar call.
func opResult(c echo.Context) func(*domains.OperationView, error) error {
	return func(op *domains.OperationView, err error) error {
		if err != nil {
			return err
		}
		return c.JSON(http.StatusAccepted, op)
	}
}
