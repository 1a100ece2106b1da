package httpapi

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/core/webhooks"
)

// WebhookAdmin is what the admin API needs from outbound webhooks.
type WebhookAdmin interface {
	CreateEndpoint(ctx context.Context, in webhooks.NewEndpoint) (*webhooks.EndpointWithSecret, error)
	GetEndpoint(ctx context.Context, id string) (*webhooks.Endpoint, error)
	ListEndpoints(ctx context.Context, merchantID int64) ([]*webhooks.Endpoint, error)
	RotateSecret(ctx context.Context, id string, overlap time.Duration) (*webhooks.EndpointWithSecret, error)
	SetEnabled(ctx context.Context, id string, enabled bool, reason string) (*webhooks.Endpoint, error)
	DeleteEndpoint(ctx context.Context, id string) error
	TestEndpoint(ctx context.Context, id string) (*webhooks.TestResult, error)
	ListEvents(ctx context.Context, f store.EventFilter) ([]*webhooks.Event, error)
	GetEvent(ctx context.Context, id string) (*webhooks.EventDetail, error)
	ListDeliveries(ctx context.Context, f store.DeliveryFilter) ([]*webhooks.Delivery, error)
	GetDelivery(ctx context.Context, id string) (*webhooks.Delivery, error)
	Resend(ctx context.Context, id string) (*webhooks.Delivery, error)
	Recover(ctx context.Context, req webhooks.RecoverRequest) (*webhooks.RecoverResult, error)
}

var _ WebhookAdmin = (*webhooks.Service)(nil)

// AdminWebhooks mounts /admin/v1/endpoints, /events and /deliveries behind
// operator token auth: the HTTP twin of the CLI's endpoints, events and
// deliveries commands, and what `switchyard listen` talks to.
func AdminWebhooks(svc WebhookAdmin, tokens []string) Mount {
	return func(e *echo.Echo) {
		g := e.Group("/admin/v1", AdminAuth(tokens))

		g.GET("/endpoints", func(c echo.Context) error {
			mid, err := queryInt(c, "merchant")
			if err != nil {
				return err
			}
			eps, err := svc.ListEndpoints(c.Request().Context(), mid)
			if err != nil {
				return err
			}
			return c.JSON(http.StatusOK, listOf(eps))
		})
		g.POST("/endpoints", func(c echo.Context) error {
			var in struct {
				MerchantID  int64    `json:"merchant_id"`
				Site        string   `json:"site"`
				URL         string   `json:"url"`
				Description string   `json:"description"`
				EventTypes  []string `json:"event_types"`
				Mode        string   `json:"mode"`
				Profile     string   `json:"profile"`
				Schedule    string   `json:"schedule"`
				IPN         bool     `json:"ipn"`
			}
			if err := bindJSON(c, &in); err != nil {
				return err
			}
			ep, err := svc.CreateEndpoint(c.Request().Context(), webhooks.NewEndpoint(in))
			if err != nil {
				return err
			}
			return c.JSON(http.StatusCreated, ep)
		})
		g.GET("/endpoints/:id", func(c echo.Context) error {
			ep, err := svc.GetEndpoint(c.Request().Context(), c.Param("id"))
			if err != nil {
				return err
			}
			return c.JSON(http.StatusOK, ep)
		})
		g.DELETE("/endpoints/:id", func(c echo.Context) error {
			if err := svc.DeleteEndpoint(c.Request().Context(), c.Param("id")); err != nil {
				return err
			}
			return c.NoContent(http.StatusNoContent)
		})
		g.POST("/endpoints/:id/rotate-secret", func(c echo.Context) error {
			var in struct {
				// Overlap is a Go duration ("24h", "0s" for none); empty
				// means the default.
				Overlap string `json:"overlap"`
			}
			if err := bindOptionalJSON(c, &in); err != nil {
				return err
			}
			var overlap time.Duration
			if in.Overlap != "" {
				d, err := time.ParseDuration(in.Overlap)
				if err != nil || d < 0 {
					return domain.Invalid("invalid_overlap", "overlap", "overlap must be a duration such as 24h or 0s")
				}
				overlap = d
				if d == 0 {
					overlap = -1
				}
			}
			ep, err := svc.RotateSecret(c.Request().Context(), c.Param("id"), overlap)
			if err != nil {
				return err
			}
			return c.JSON(http.StatusOK, ep)
		})
		g.POST("/endpoints/:id/disable", func(c echo.Context) error {
			var in struct {
				Reason string `json:"reason"`
			}
			if err := bindOptionalJSON(c, &in); err != nil {
				return err
			}
			ep, err := svc.SetEnabled(c.Request().Context(), c.Param("id"), false, in.Reason)
			if err != nil {
				return err
			}
			return c.JSON(http.StatusOK, ep)
		})
		g.POST("/endpoints/:id/enable", func(c echo.Context) error {
			ep, err := svc.SetEnabled(c.Request().Context(), c.Param("id"), true, "")
			if err != nil {
				return err
			}
			return c.JSON(http.StatusOK, ep)
		})
		g.POST("/endpoints/:id/test", func(c echo.Context) error {
			res, err := svc.TestEndpoint(c.Request().Context(), c.Param("id"))
			if err != nil {
				return err
			}
			return c.JSON(http.StatusOK, res)
		})

		g.GET("/events", func(c echo.Context) error {
			var f store.EventFilter
			var err error
			if f.MerchantID, err = queryInt(c, "merchant"); err != nil {
				return err
			}
			if f.Since, err = queryTime(c, "since"); err != nil {
				return err
			}
			if f.Limit, err = queryLimit(c); err != nil {
				return err
			}
			f.Type, f.SessionID, f.Before = c.QueryParam("type"), c.QueryParam("session"), c.QueryParam("before")
			evs, err := svc.ListEvents(c.Request().Context(), f)
			if err != nil {
				return err
			}
			return c.JSON(http.StatusOK, listOf(evs))
		})
		g.GET("/events/:id", func(c echo.Context) error {
			ev, err := svc.GetEvent(c.Request().Context(), c.Param("id"))
			if err != nil {
				return err
			}
			return c.JSON(http.StatusOK, ev)
		})

		g.GET("/deliveries", func(c echo.Context) error {
			var f store.DeliveryFilter
			var err error
			if f.MerchantID, err = queryInt(c, "merchant"); err != nil {
				return err
			}
			if f.Since, err = queryTime(c, "since"); err != nil {
				return err
			}
			if f.Limit, err = queryLimit(c); err != nil {
				return err
			}
			f.Status = c.QueryParam("status")
			switch f.Status {
			case "", store.DeliveryPending, store.DeliverySucceeded, store.DeliveryFailed, store.DeliveryDisabled:
			default:
				return domain.Invalid("invalid_status", "status", "status must be one of pending, succeeded, failed, disabled")
			}
			f.EndpointID, f.EventType, f.EventID, f.Before = c.QueryParam("endpoint"), c.QueryParam("event_type"), c.QueryParam("event"), c.QueryParam("before")
			ds, err := svc.ListDeliveries(c.Request().Context(), f)
			if err != nil {
				return err
			}
			return c.JSON(http.StatusOK, listOf(ds))
		})
		g.POST("/deliveries/recover", func(c echo.Context) error {
			var in struct {
				Since      time.Time `json:"since"`
				MerchantID int64     `json:"merchant_id"`
				EndpointID string    `json:"endpoint_id"`
			}
			if err := bindJSON(c, &in); err != nil {
				return err
			}
			res, err := svc.Recover(c.Request().Context(), webhooks.RecoverRequest(in))
			if err != nil {
				return err
			}
			return c.JSON(http.StatusOK, res)
		})
		g.GET("/deliveries/:id", func(c echo.Context) error {
			d, err := svc.GetDelivery(c.Request().Context(), c.Param("id"))
			if err != nil {
				return err
			}
			return c.JSON(http.StatusOK, d)
		})
		g.POST("/deliveries/:id/resend", func(c echo.Context) error {
			d, err := svc.Resend(c.Request().Context(), c.Param("id"))
			if err != nil {
				return err
			}
			return c.JSON(http.StatusAccepted, d)
		})
	}
}

// bindOptionalJSON is bindJSON for endpoints whose body may be empty.
func bindOptionalJSON(c echo.Context, v any) error {
	if err := requireJSON(c); err != nil {
		return err
	}
	body, err := readBody(c)
	if err != nil {
		return err
	}
	if len(body) == 0 {
		return nil
	}
	return decodeStrict(body, v)
}

func queryInt(c echo.Context, name string) (int64, error) {
	v := c.QueryParam(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return 0, domain.Invalid("invalid_"+name, name, "%s must be a positive integer", name)
	}
	return n, nil
}

func queryLimit(c echo.Context) (int, error) {
	n, err := queryInt(c, "limit")
	return int(min(n, webhooks.MaxListLimit)), err
}

// listPage is the paging of an admin list: ?merchant=&after=&limit=.
type listPage struct {
	merchantID int64
	after      string
	limit      int
}

// queryPage reads an admin list's merchant, after and limit (capped as
// queryLimit caps it).
func queryPage(c echo.Context) (listPage, error) {
	mid, err := queryInt(c, "merchant")
	if err != nil {
		return listPage{}, err
	}
	limit, err := queryLimit(c)
	if err != nil {
		return listPage{}, err
	}
	return listPage{merchantID: mid, after: c.QueryParam("after"), limit: limit}, nil
}

func queryTime(c echo.Context, name string) (time.Time, error) {
	v := c.QueryParam(name)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, domain.Invalid("invalid_"+name, name, "%s must be an RFC 3339 time such as 2026-04-18T14:22:11Z", name)
	}
	return t, nil
}
