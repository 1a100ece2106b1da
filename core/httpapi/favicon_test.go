package httpapi_test

import (
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/switchyard/switchyard/core/httpapi"
)

// TestFavicon: /favicon.ico, which browsers fetch for every page, is an
// icon on every listener, not a 404.
func TestFavicon(t *testing.T) {
	e := httpapi.New(httpapi.Options{})
	for _, method := range []string{http.MethodGet, http.MethodHead} {
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, httptest.NewRequest(method, "/favicon.ico", nil))
		if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "image/svg+xml" {
			t.Fatalf("%s /favicon.ico: %d %q", method, rec.Code, rec.Header().Get("Content-Type"))
		}
		if method == http.MethodGet {
			var svg struct {
				XMLName xml.Name `xml:"svg"`
				ViewBox string   `xml:"viewBox,attr"`
			}
			if err := xml.Unmarshal(rec.Body.Bytes(), &svg); err != nil || svg.ViewBox == "" {
				t.Fatalf("favicon is not an SVG image: %v %q", err, rec.Body.String())
			}
		}
	}
}
