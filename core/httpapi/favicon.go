package httpapi

import (
	_ "embed"
	"net/http"

	"github.com/labstack/echo/v4"
)

// faviconSVG is Switchyard's icon. Browsers ask every origin for
// /favicon.ico, including on pages a plugin serves under /p/…, and accept an
// SVG body there when the content type says so.
//
//go:embed favicon.svg
var faviconSVG []byte

func favicon(c echo.Context) error {
	h := c.Response().Header()
	h.Set("Cache-Control", "public, max-age=86400")
	h.Set("X-Content-Type-Options", "nosniff")
	return c.Blob(http.StatusOK, "image/svg+xml", faviconSVG)
}
