package httpapi

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/switchyard/switchyard/core/mail"
)

// MailAdmin is what the admin API needs for merchants' mail settings and
// template overrides; *mail.Service implements it.
type MailAdmin interface {
	Settings(ctx context.Context, merchantID int64) (*mail.Settings, error)
	UpdateSettings(ctx context.Context, merchantID int64, in mail.SettingsUpdate) (*mail.Settings, error)
	ListTemplates(ctx context.Context, merchantID int64) ([]*mail.TemplateView, error)
	Template(ctx context.Context, merchantID int64, name mail.Name) (*mail.TemplateView, error)
	PutTemplate(ctx context.Context, merchantID int64, name mail.Name, src mail.Source) (*mail.TemplateView, error)
	DeleteTemplate(ctx context.Context, merchantID int64, name mail.Name) error
	Preview(ctx context.Context, merchantID int64, name mail.Name, src mail.Source) (mail.Message, error)
}

var _ MailAdmin = (*mail.Service)(nil)

// AdminMail mounts a merchant's mail settings and template overrides
// behind operator token auth (the HTTP twin of `switchyard merchants mail`
// and `switchyard merchants templates`):
//
//	GET    /admin/v1/merchants/:id/mail                          → settings
//	PATCH  /admin/v1/merchants/:id/mail                          → settings (fields given are changed)
//	GET    /admin/v1/merchants/:id/mail/templates                → {data: [template…]}
//	GET    /admin/v1/merchants/:id/mail/templates/:name          → template (source that applies, overridden parts, variables)
//	PUT    /admin/v1/merchants/:id/mail/templates/:name          → template; body {subject, text, html}, empty parts = built-in
//	DELETE /admin/v1/merchants/:id/mail/templates/:name          → 204; the built-in template applies again
//	POST   /admin/v1/merchants/:id/mail/templates/:name/preview  → {subject, text, html} rendered on sample data
func AdminMail(svc MailAdmin, tokens []string) Mount {
	h := mailHandlers{svc: svc}
	return func(e *echo.Echo) {
		g := e.Group("/admin/v1/merchants/:id/mail", AdminAuth(tokens))
		g.GET("", h.settings)
		g.PATCH("", h.updateSettings)
		g.GET("/templates", h.listTemplates)
		g.GET("/templates/:name", h.template)
		g.PUT("/templates/:name", h.putTemplate)
		g.DELETE("/templates/:name", h.deleteTemplate)
		g.POST("/templates/:name/preview", h.preview)
	}
}

type mailHandlers struct{ svc MailAdmin }

func (h mailHandlers) settings(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	s, err := h.svc.Settings(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s)
}

func (h mailHandlers) updateSettings(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var in mail.SettingsUpdate
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	s, err := h.svc.UpdateSettings(c.Request().Context(), id, in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s)
}

func (h mailHandlers) listTemplates(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	ts, err := h.svc.ListTemplates(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, listOf(ts))
}

func (h mailHandlers) template(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	v, err := h.svc.Template(c.Request().Context(), id, mail.Name(c.Param("name")))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

func (h mailHandlers) putTemplate(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var src mail.Source
	if err := bindJSON(c, &src); err != nil {
		return err
	}
	v, err := h.svc.PutTemplate(c.Request().Context(), id, mail.Name(c.Param("name")), src)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

func (h mailHandlers) deleteTemplate(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	if err := h.svc.DeleteTemplate(c.Request().Context(), id, mail.Name(c.Param("name"))); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (h mailHandlers) preview(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var src mail.Source
	if c.Request().ContentLength != 0 {
		if err := bindJSON(c, &src); err != nil {
			return err
		}
	}
	m, err := h.svc.Preview(c.Request().Context(), id, mail.Name(c.Param("name")), src)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, m)
}
