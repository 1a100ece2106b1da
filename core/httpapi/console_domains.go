package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unicode"

	"github.com/labstack/echo/v4"

	"github.com/switchyard/switchyard/core/console"
	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/domains"
)

// DomainLookup is what the console's domains pages need from the domains
// service: the admin API's list and show, and the operations an operator
// starts from a domain's page (renew, transfer lock, nameservers);
// *domains.Service implements it.
type DomainLookup interface {
	List(ctx context.Context, p domains.ListParams) ([]domains.View, error)
	Show(ctx context.Context, ref string) (*domains.Detail, error)
	Renew(ctx context.Context, ref string, years int, by string) (*domains.OperationView, error)
	SetLock(ctx context.Context, ref string, locked bool, by string) (*domains.OperationView, error)
	SetNameservers(ctx context.Context, ref string, nameservers []string, by string) (*domains.OperationView, error)
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

// The domain operations below start a registrar operation as the admin
// API's POST /admin/v1/domains/:ref/… does: a job makes the registrar
// call, so the notice says what was queued and the page's operations
// table shows how it ends.

func (h *consoleHandlers) renewDomain(c echo.Context) error {
	years := 1
	if v := strings.TrimSpace(c.Request().PostFormValue("years")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return h.domainDone(c, nil, domain.Invalid("invalid_years", "years", "years must be between 1 and 10"), "")
		}
		years = n
	}
	op, err := h.svc.Domains.Renew(c.Request().Context(), c.Param("id"), years, consoleOperator(c))
	return h.domainDone(c, op, err, fmt.Sprintf("renewal for %d year%s queued", years, plural(years)))
}

func (h *consoleHandlers) setDomainLock(c echo.Context) error {
	var locked bool
	switch c.Request().PostFormValue("locked") {
	case "true":
		locked = true
	case "false":
	default:
		return h.domainDone(c, nil, domain.Invalid("invalid_locked", "locked", "locked must be true or false"), "")
	}
	op, err := h.svc.Domains.SetLock(c.Request().Context(), c.Param("id"), locked, consoleOperator(c))
	what := "unlocking queued"
	if locked {
		what = "transfer lock queued"
	}
	return h.domainDone(c, op, err, what)
}

// setDomainNameservers takes the nameservers one a line (or separated by
// spaces or commas), as an operator pastes them from a hosting panel.
func (h *consoleHandlers) setDomainNameservers(c echo.Context) error {
	ns := strings.FieldsFunc(c.Request().PostFormValue("nameservers"), func(r rune) bool {
		return r == ',' || unicode.IsSpace(r)
	})
	op, err := h.svc.Domains.SetNameservers(c.Request().Context(), c.Param("id"), ns, consoleOperator(c))
	return h.domainDone(c, op, err, "nameservers "+strings.Join(ns, ", ")+" queued")
}

// domainDone goes back to the domain's page with the outcome as the
// notice; the audit entry names the operation.
func (h *consoleHandlers) domainDone(c echo.Context, op *domains.OperationView, err error, queued string) error {
	back := "/console/domains/" + c.Param("id")
	if err != nil {
		return h.done(c, err, "", back)
	}
	return h.done(c, nil, "Domain: "+queued+" (operation "+op.OperationID+").", back)
}

// consoleOperator is who asked, as a service records it.
func consoleOperator(c echo.Context) string {
	return "console:" + sessionOf(c).Operator.Name
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
