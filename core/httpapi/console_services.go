package httpapi

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/switchyard/switchyard/core/console"
	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/fulfillment"
	"github.com/switchyard/switchyard/sdk/provisioner"
)

// ServiceAdmin is what the console's services pages need from fulfillment:
// the admin API's service operations; *fulfillment.Service implements it.
type ServiceAdmin interface {
	ListServices(ctx context.Context, in fulfillment.ServiceListRequest) ([]*fulfillment.ServiceView, error)
	GetService(ctx context.Context, id string) (*fulfillment.ServiceDetail, error)
	Suspend(ctx context.Context, id string, in fulfillment.OperatorRequest) (*fulfillment.ServiceDetail, error)
	Unsuspend(ctx context.Context, id string, in fulfillment.OperatorRequest) (*fulfillment.ServiceDetail, error)
	Terminate(ctx context.Context, id string, in fulfillment.OperatorRequest) (*fulfillment.ServiceDetail, error)
	Retry(ctx context.Context, id string, in fulfillment.OperatorRequest) (*fulfillment.ServiceDetail, error)
	Resume(ctx context.Context, id string, in fulfillment.OperatorRequest) (*fulfillment.ServiceDetail, error)
	// ChangePackage checks the package against the provisioner's package
	// list (listpkgs on WHM) before it queues the change.
	ChangePackage(ctx context.Context, id string, in fulfillment.OperatorRequest) (*fulfillment.ServiceDetail, error)
	LoginURL(ctx context.Context, id, service string) (provisioner.LoginURL, error)
}

var _ ServiceAdmin = (*fulfillment.Service)(nil)

// servicesData is the services page.
type servicesData struct {
	Status, Merchant, Session string
	Statuses                  []domain.ServiceStatus
	Services                  []*fulfillment.ServiceView
	NextURL                   string
	Error                     string
}

// servicePage is how many services one page lists.
const servicePage = 50

func (h *consoleHandlers) listServices(c echo.Context) error {
	d := servicesData{Status: c.QueryParam("status"), Merchant: c.QueryParam("merchant"),
		Session: strings.TrimSpace(c.QueryParam("session")), Statuses: domain.ServiceStatuses()}
	mid, err := formInt(d.Merchant, "merchant")
	if err == nil {
		var list []*fulfillment.ServiceView
		list, err = h.svc.Services.ListServices(c.Request().Context(), fulfillment.ServiceListRequest{MerchantID: mid,
			Status: d.Status, SessionID: d.Session, After: c.QueryParam("after"), Limit: servicePage + 1})
		if err == nil {
			if len(list) > servicePage {
				list = list[:servicePage]
				d.NextURL = withQuery(c.Request().URL, "after", list[len(list)-1].ID)
			}
			d.Services = list
		}
	}
	status := http.StatusOK
	if err != nil {
		if statusFor(err) >= 500 {
			return h.fail(c, err)
		}
		status, d.Error = statusFor(err), publicMessage(err)
	}
	return h.render(c, status, "services", &console.Page{Title: "Services", Nav: "services", Data: d})
}

// serviceData is a service's page; Login is set only on the page that
// answers the login link form, the one place the link is shown.
type serviceData struct {
	Service *fulfillment.ServiceDetail
	Login   *provisioner.LoginURL
}

func (h *consoleHandlers) showService(c echo.Context) error {
	d, err := h.svc.Services.GetService(c.Request().Context(), c.Param("id"))
	if err != nil {
		return h.fail(c, err)
	}
	return h.render(c, http.StatusOK, "service", &console.Page{Title: "Service " + d.ID, Nav: "services", Data: serviceData{Service: d}})
}

// serviceOp is one of the operator actions on a service, as a method
// expression of ServiceAdmin (ServiceAdmin.Suspend, …).
type serviceOp func(ServiceAdmin, context.Context, string, fulfillment.OperatorRequest) (*fulfillment.ServiceDetail, error)

// serviceAction queues one operator action (suspend, unsuspend, terminate,
// retry, resume) for the signed-in operator, as the admin API's
// POST /admin/v1/services/:id/<action> does; a job makes the panel call,
// so the notice says what was queued.
func (h *consoleHandlers) serviceAction(op serviceOp, queued string) echo.HandlerFunc {
	return func(c echo.Context) error {
		return h.operateService(c, op, h.operatorRequest(c, ""), queued)
	}
}

// changeServicePackage queues moving the account to the package the form
// names, as `switchyard services change-package` does: fulfillment checks
// it against the panel's package list first, and a package the panel
// does not list comes back as the notice, naming the ones it does.
func (h *consoleHandlers) changeServicePackage(c echo.Context) error {
	in := h.operatorRequest(c, strings.TrimSpace(c.Request().PostFormValue("package")))
	return h.operateService(c, ServiceAdmin.ChangePackage, in, "change to package "+in.Package+" queued.")
}

// operatorRequest is the form's reason (and package) from the signed-in
// operator.
func (h *consoleHandlers) operatorRequest(c echo.Context, pkg string) fulfillment.OperatorRequest {
	return fulfillment.OperatorRequest{Reason: strings.TrimSpace(c.Request().PostFormValue("reason")), Package: pkg,
		Operator: consoleOperator(c)}
}

// operateService runs op and goes back to the service's page with its
// outcome as the notice.
func (h *consoleHandlers) operateService(c echo.Context, op serviceOp, in fulfillment.OperatorRequest, queued string) error {
	id := c.Param("id")
	back := "/console/services/" + id
	d, err := op(h.svc.Services, c.Request().Context(), id, in)
	if err != nil {
		return h.done(c, err, "", back)
	}
	return h.done(c, nil, "Service "+d.ID+": "+queued, back)
}

// serviceLoginLink asks the provisioner for a one-time login link and
// shows it on this response only (no-store). The link is a credential:
// the audit entry says that one was made, never what it is, and it is not
// logged or kept in the session.
func (h *consoleHandlers) serviceLoginLink(c echo.Context) error {
	id := c.Param("id")
	back := "/console/services/" + id
	ctx := c.Request().Context()
	service := c.Request().PostFormValue("service")
	if err := checkLoginService(service); err != nil {
		return h.done(c, err, "", back)
	}
	link, err := h.svc.Services.LoginURL(ctx, id, service)
	if err != nil {
		return h.done(c, err, "", back)
	}
	d, err := h.svc.Services.GetService(ctx, id)
	if err != nil {
		return h.fail(c, err)
	}
	if service == "" {
		service = provisioner.LoginServicePanel
	}
	detail := "one-time " + service + " login link made"
	if !link.ExpiresAt.IsZero() {
		detail += ", valid until " + link.ExpiresAt.UTC().Format(time.RFC3339)
	}
	actionOf(c).ok(detail)
	noStore(c)
	return h.render(c, http.StatusOK, "service", &console.Page{Title: "Service " + d.ID, Nav: "services",
		Data: serviceData{Service: d, Login: &link}})
}
