package httpapi

import (
	"context"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/merchants"
	"github.com/switchyard/switchyard/core/store"
)

// MerchantAdmin is what the admin API needs from merchant management.
type MerchantAdmin interface {
	CreateMerchant(ctx context.Context, in merchants.NewMerchant) (*store.Merchant, error)
	GetMerchant(ctx context.Context, id int64) (*store.Merchant, error)
	ListMerchants(ctx context.Context, page store.Page) ([]*store.Merchant, error)
	AddSite(ctx context.Context, merchantID int64, domainName string) (*store.Site, error)
	ListSites(ctx context.Context, merchantID int64) ([]*store.Site, error)
	CreateKey(ctx context.Context, in merchants.NewKey) (*merchants.CreatedKey, error)
	ListKeys(ctx context.Context, merchantID int64) ([]*store.APIKey, error)
	RevokeKey(ctx context.Context, id int64) (*store.APIKey, error)
	SetMerchantStatus(ctx context.Context, id int64, status store.MerchantStatus) (*store.Merchant, error)
}

var _ MerchantAdmin = (*merchants.Service)(nil)

// AdminMerchants mounts /admin/v1/merchants, sites and keys behind operator
// token auth. It is the HTTP twin of the CLI's merchants/sites/keys commands.
func AdminMerchants(svc MerchantAdmin, tokens []string) Mount {
	return func(e *echo.Echo) {
		g := e.Group("/admin/v1", AdminAuth(tokens))
		g.GET("/merchants", func(c echo.Context) error {
			after, _ := strconv.ParseInt(c.QueryParam("after"), 10, 64)
			limit, _ := strconv.Atoi(c.QueryParam("limit"))
			ms, err := svc.ListMerchants(c.Request().Context(), store.Page{AfterID: after, Limit: limit})
			if err != nil {
				return err
			}
			return c.JSON(http.StatusOK, listOf(ms))
		})
		g.POST("/merchants", func(c echo.Context) error {
			var in struct {
				Name         string   `json:"name"`
				Plan         string   `json:"plan"`
				ContactEmail string   `json:"contact_email"`
				Domains      []string `json:"domains"`
			}
			if err := bindJSON(c, &in); err != nil {
				return err
			}
			m, err := svc.CreateMerchant(c.Request().Context(), merchants.NewMerchant(in))
			if err != nil {
				return err
			}
			return c.JSON(http.StatusCreated, m)
		})
		g.GET("/merchants/:id", func(c echo.Context) error {
			id, err := pathID(c, "id")
			if err != nil {
				return err
			}
			m, err := svc.GetMerchant(c.Request().Context(), id)
			if err != nil {
				return err
			}
			return c.JSON(http.StatusOK, m)
		})
		g.POST("/merchants/:id/suspend", setMerchantStatus(svc, store.MerchantSuspended))
		g.POST("/merchants/:id/reactivate", setMerchantStatus(svc, store.MerchantActive))
		g.GET("/merchants/:id/sites", func(c echo.Context) error {
			id, err := pathID(c, "id")
			if err != nil {
				return err
			}
			sites, err := svc.ListSites(c.Request().Context(), id)
			if err != nil {
				return err
			}
			return c.JSON(http.StatusOK, listOf(sites))
		})
		g.POST("/merchants/:id/sites", func(c echo.Context) error {
			id, err := pathID(c, "id")
			if err != nil {
				return err
			}
			var in struct {
				Domain string `json:"domain"`
			}
			if err := bindJSON(c, &in); err != nil {
				return err
			}
			s, err := svc.AddSite(c.Request().Context(), id, in.Domain)
			if err != nil {
				return err
			}
			return c.JSON(http.StatusCreated, s)
		})
		g.GET("/merchants/:id/keys", func(c echo.Context) error {
			id, err := pathID(c, "id")
			if err != nil {
				return err
			}
			keys, err := svc.ListKeys(c.Request().Context(), id)
			if err != nil {
				return err
			}
			return c.JSON(http.StatusOK, listOf(keys))
		})
		g.POST("/merchants/:id/keys", func(c echo.Context) error {
			id, err := pathID(c, "id")
			if err != nil {
				return err
			}
			var in struct {
				Mode   string   `json:"mode"`
				Scopes []string `json:"scopes"`
				Name   string   `json:"name"`
			}
			if err := bindJSON(c, &in); err != nil {
				return err
			}
			k, err := svc.CreateKey(c.Request().Context(), merchants.NewKey{MerchantID: id, Mode: in.Mode, Scopes: in.Scopes, Name: in.Name})
			if err != nil {
				return err
			}
			return c.JSON(http.StatusCreated, k)
		})
		g.POST("/keys/:id/revoke", func(c echo.Context) error {
			id, err := pathID(c, "id")
			if err != nil {
				return err
			}
			k, err := svc.RevokeKey(c.Request().Context(), id)
			if err != nil {
				return err
			}
			return c.JSON(http.StatusOK, k)
		})
	}
}

// setMerchantStatus is POST /admin/v1/merchants/:id/suspend and
// /reactivate: the merchant as it is afterwards.
func setMerchantStatus(svc MerchantAdmin, status store.MerchantStatus) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := pathID(c, "id")
		if err != nil {
			return err
		}
		m, err := svc.SetMerchantStatus(c.Request().Context(), id, status)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, m)
	}
}

// list is the envelope of every listing, so it can grow pagination fields.
type list[T any] struct {
	Data []T `json:"data"`
}

func listOf[T any](items []T) list[T] {
	if items == nil {
		items = []T{}
	}
	return list[T]{Data: items}
}

// bindJSON is the one way handlers read a JSON body: media type, size
// limit, unknown fields and types all checked.
func bindJSON(c echo.Context, v any) error {
	if err := requireJSON(c); err != nil {
		return err
	}
	body, err := readBody(c)
	if err != nil {
		return err
	}
	return decodeStrict(body, v)
}

func pathID(c echo.Context, name string) (int64, error) {
	id, err := strconv.ParseInt(c.Param(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, domain.Invalid("invalid_id", name, "%s must be a positive integer", name)
	}
	return id, nil
}
