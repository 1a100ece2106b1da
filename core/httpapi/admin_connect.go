package httpapi

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/switchyard/switchyard/core/accounts"
	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/sdk/provider"
)

// ConnectAdmin is what the admin API needs for merchants' connected
// upstream accounts.
type ConnectAdmin interface {
	StartLink(ctx context.Context, merchantID int64, providerID string) (provider.ConnectStartLink, error)
	Disconnect(ctx context.Context, merchantID int64, providerID string) error
	List(ctx context.Context, merchantID int64) ([]accounts.Connection, error)
}

var _ ConnectAdmin = (*accounts.Service)(nil)

// AdminConnect mounts the operator's side of account onboarding behind
// operator token auth:
//
//	POST   /admin/v1/merchants/:id/connect/:provider_id → 201 {merchant_id, provider_id, url, expires_at}
//	DELETE /admin/v1/merchants/:id/connect/:provider_id → 200 {merchant_id, provider_id, status: "disconnected"}
//	GET    /admin/v1/merchants/:id/accounts             → 200 {data: [connection…]} (ids masked)
//
// The link is minted and signed by the provider plugin; the operator hands
// it to the merchant, whose browser completes the flow on /p/{provider_id}/….
func AdminConnect(svc ConnectAdmin, tokens []string) Mount {
	return func(e *echo.Echo) {
		g := e.Group("/admin/v1", AdminAuth(tokens))
		g.POST("/merchants/:id/connect/:provider_id", func(c echo.Context) error {
			id, providerID, err := connectParams(c)
			if err != nil {
				return err
			}
			link, err := svc.StartLink(c.Request().Context(), id, providerID)
			if err != nil {
				return err
			}
			c.Response().Header().Set("Cache-Control", "no-store")
			return c.JSON(http.StatusCreated, map[string]any{
				"merchant_id": id, "provider_id": providerID, "url": link.URL, "expires_at": link.ExpiresAt.UTC(),
			})
		})
		g.DELETE("/merchants/:id/connect/:provider_id", func(c echo.Context) error {
			id, providerID, err := connectParams(c)
			if err != nil {
				return err
			}
			if err := svc.Disconnect(c.Request().Context(), id, providerID); err != nil {
				return err
			}
			return c.JSON(http.StatusOK, map[string]any{"merchant_id": id, "provider_id": providerID, "status": accounts.StatusDisconnected})
		})
		g.GET("/merchants/:id/accounts", func(c echo.Context) error {
			id, err := pathID(c, "id")
			if err != nil {
				return err
			}
			list, err := svc.List(c.Request().Context(), id)
			if err != nil {
				return err
			}
			return c.JSON(http.StatusOK, listOf(list))
		})
	}
}

func connectParams(c echo.Context) (int64, string, error) {
	id, err := pathID(c, "id")
	if err != nil {
		return 0, "", err
	}
	providerID := c.Param("provider_id")
	if !providerIDPattern.MatchString(providerID) {
		return 0, "", domain.NotFound("provider")
	}
	return id, providerID, nil
}
