package httpapi

import (
	"context"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/switchyard/switchyard/core/console"
	"github.com/switchyard/switchyard/core/domains"
)

// DomainLookup is what the console's domains pages need from the domains
// service (the admin API's list and show); *domains.Service implements it.
type DomainLookup interface {
	List(ctx context.Context, p domains.ListParams) ([]domains.View, error)
	Show(ctx context.Context, ref string) (*domains.Detail, error)
}

var _ DomainLookup = (*domains.Service)(nil)

// domainsData is the domains page.
type domainsData struct {
	Status, Merchant, Session string
	Statuses                  []string
	Domains                   []domains.View
	NextURL                   string
	Error                     string
}

// domainPage is how many domains one page lists.
const domainPage = 50

func (h *consoleHandlers) listDomains(c echo.Context) error {
	d := domainsData{Status: c.QueryParam("status"), Merchant: c.QueryParam("merchant"), Session: strings.TrimSpace(c.QueryParam("session")),
		Statuses: []string{domains.StatusPending, domains.StatusActive, domains.StatusFailed, domains.StatusExpired, domains.StatusAttention}}
	mid, err := formInt(d.Merchant, "merchant")
	if err == nil {
		var list []domains.View
		list, err = h.svc.Domains.List(c.Request().Context(), domains.ListParams{MerchantID: mid, Status: d.Status, SessionID: d.Session,
			After: c.QueryParam("after"), Limit: domainPage + 1})
		if err == nil {
			if len(list) > domainPage {
				list = list[:domainPage]
				d.NextURL = withQuery(c.Request().URL, "after", list[len(list)-1].DomainID)
			}
			d.Domains = list
		}
	}
	status := http.StatusOK
	if err != nil {
		if statusFor(err) >= 500 {
			return h.fail(c, err)
		}
		status, d.Error = statusFor(err), publicMessage(err)
	}
	return h.render(c, status, "domains", &console.Page{Title: "Domains", Nav: "domains", Data: d})
}

func (h *consoleHandlers) showDomain(c echo.Context) error {
	d, err := h.svc.Domains.Show(c.Request().Context(), c.Param("id"))
	if err != nil {
		return h.fail(c, err)
	}
	return h.render(c, http.StatusOK, "domain", &console.Page{Title: "Domain " + d.DisplayName, Nav: "domains", Data: d})
}
