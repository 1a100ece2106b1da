package httpapi

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/fulfillment"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/sdk/provisioner"
)

// FulfillmentAdmin is what the admin API needs from fulfillment;
// *fulfillment.Service implements it.
type FulfillmentAdmin interface {
	ListProducts(ctx context.Context, merchantID int64) ([]fulfillment.Product, error)
	GetProduct(ctx context.Context, id string) (fulfillment.Product, error)
	CreateProduct(ctx context.Context, in fulfillment.ProductInput) (fulfillment.Product, error)
	UpdateProduct(ctx context.Context, id string, in fulfillment.ProductInput) (fulfillment.Product, error)
	DeleteProduct(ctx context.Context, id string) error
	ListClients(ctx context.Context, f store.ClientFilter) ([]fulfillment.ClientView, error)
	// ServiceAdmin: list, show, suspend, unsuspend, terminate,
	// change-package, retry, resume and login links, as the console has
	// them too.
	ServiceAdmin
}

var _ FulfillmentAdmin = (*fulfillment.Service)(nil)

// AdminFulfillment mounts products, clients and services behind operator
// token auth, the HTTP twin of `switchyard services`:
//
//	GET    /admin/v1/products?merchant=      POST /admin/v1/products
//	GET    /admin/v1/products/:id            PUT  /admin/v1/products/:id   DELETE /admin/v1/products/:id
//	GET    /admin/v1/clients?merchant=&after=&limit=
//	GET    /admin/v1/services?status=&merchant=&session=&after=&limit=
//	GET    /admin/v1/services/:id
//	POST   /admin/v1/services/:id/{suspend,unsuspend,terminate,change-package,retry,resume}
//	POST   /admin/v1/services/:id/login-url
func AdminFulfillment(svc FulfillmentAdmin, tokens []string) Mount {
	h := &fulfillmentHandlers{svc: svc}
	return func(e *echo.Echo) {
		g := e.Group("/admin/v1", AdminAuth(tokens))
		g.GET("/products", h.listProducts)
		g.POST("/products", h.createProduct)
		g.GET("/products/:id", h.getProduct)
		g.PUT("/products/:id", h.updateProduct)
		g.DELETE("/products/:id", h.deleteProduct)
		g.GET("/clients", h.listClients)
		g.GET("/services", h.listServices)
		g.GET("/services/:id", h.getService)
		g.POST("/services/:id/suspend", h.operate(svc.Suspend))
		g.POST("/services/:id/unsuspend", h.operate(svc.Unsuspend))
		g.POST("/services/:id/terminate", h.operate(svc.Terminate))
		g.POST("/services/:id/change-package", h.operate(svc.ChangePackage))
		g.POST("/services/:id/retry", h.operate(svc.Retry))
		g.POST("/services/:id/resume", h.operate(svc.Resume))
		g.POST("/services/:id/login-url", h.loginURL)
	}
}

type fulfillmentHandlers struct {
	svc FulfillmentAdmin
}

func (h *fulfillmentHandlers) listProducts(c echo.Context) error {
	mid, err := queryInt(c, "merchant")
	if err != nil {
		return err
	}
	ps, err := h.svc.ListProducts(c.Request().Context(), mid)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, listOf(ps))
}

func (h *fulfillmentHandlers) createProduct(c echo.Context) error {
	var in fulfillment.ProductInput
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	p, err := h.svc.CreateProduct(c.Request().Context(), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, p)
}

func (h *fulfillmentHandlers) getProduct(c echo.Context) error {
	p, err := h.svc.GetProduct(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}

func (h *fulfillmentHandlers) updateProduct(c echo.Context) error {
	var in fulfillment.ProductInput
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	p, err := h.svc.UpdateProduct(c.Request().Context(), c.Param("id"), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}

func (h *fulfillmentHandlers) deleteProduct(c echo.Context) error {
	if err := h.svc.DeleteProduct(c.Request().Context(), c.Param("id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (h *fulfillmentHandlers) listClients(c echo.Context) error {
	p, err := queryPage(c)
	if err != nil {
		return err
	}
	cs, err := h.svc.ListClients(c.Request().Context(), store.ClientFilter{MerchantID: p.merchantID, AfterID: p.after, Limit: p.limit})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, listOf(cs))
}

func (h *fulfillmentHandlers) listServices(c echo.Context) error {
	p, err := queryPage(c)
	if err != nil {
		return err
	}
	ss, err := h.svc.ListServices(c.Request().Context(), fulfillment.ServiceListRequest{MerchantID: p.merchantID, Status: c.QueryParam("status"),
		SessionID: c.QueryParam("session"), After: p.after, Limit: p.limit})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, listOf(ss))
}

func (h *fulfillmentHandlers) getService(c echo.Context) error {
	d, err := h.svc.GetService(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, d)
}

// operate is every POST /services/:id/<action>: an optional body with a
// reason (and a package for change-package); 202 with the service and its
// queued action (a job makes the panel call).
func (h *fulfillmentHandlers) operate(fn func(ctx context.Context, id string, in fulfillment.OperatorRequest) (*fulfillment.ServiceDetail, error)) echo.HandlerFunc {
	return func(c echo.Context) error {
		var in struct {
			Reason  string `json:"reason"`
			Package string `json:"package"`
		}
		if c.Request().ContentLength != 0 {
			if err := bindJSON(c, &in); err != nil {
				return err
			}
		}
		d, err := fn(c.Request().Context(), c.Param("id"), fulfillment.OperatorRequest{Reason: in.Reason, Package: in.Package, Operator: apiOperator(c)})
		if err != nil {
			return err
		}
		return c.JSON(http.StatusAccepted, d)
	}
}

// loginURL answers {"url": …, "expires_at": …}: a one-time credential,
// sent with Cache-Control: no-store and never logged.
func (h *fulfillmentHandlers) loginURL(c echo.Context) error {
	service := c.QueryParam("service")
	if err := checkLoginService(service); err != nil {
		return err
	}
	u, err := h.svc.LoginURL(c.Request().Context(), c.Param("id"), service)
	if err != nil {
		return err
	}
	out := struct {
		URL       string  `json:"url"`
		ExpiresAt *string `json:"expires_at"`
	}{URL: u.URL}
	if !u.ExpiresAt.IsZero() {
		t := u.ExpiresAt.UTC().Format("2006-01-02T15:04:05Z")
		out.ExpiresAt = &t
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, out)
}

// checkLoginService checks which login a link is asked for: "" (the
// panel), panel or webmail. The admin API and the console both take it.
func checkLoginService(service string) error {
	if service != "" && service != provisioner.LoginServicePanel && service != provisioner.LoginServiceWebmail {
		return domain.Invalid("invalid_service", "service", "service must be panel or webmail")
	}
	return nil
}
