package httpapi

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/core/store/storetest"
)

// TestDuplicateAuthorization: two Authorization headers are ambiguous (the
// first would win here, another reader may take the second), so every
// route answers 400 before looking at either credential.
func TestDuplicateAuthorization(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		a := newAPIEnv(t, st, MerchantAPIOptions{})
		m := a.Merchant(t, domain.PlanFree, "shop.test")
		key, _ := a.Key(t, m.ID, domain.ModeTest)
		admin := New(Options{}, AdminMerchants(a.Merchants, []string{"operator-token-0123456789"}))
		for _, tc := range []struct {
			name    string
			e       *echo.Echo
			method  string
			path    string
			auth    []string
			status  int
			errCode string
		}{
			{"merchant API, one key", a.e, http.MethodGet, "/v1/me", []string{"Bearer " + key}, 200, ""},
			{"merchant API, valid key then junk", a.e, http.MethodGet, "/v1/me", []string{"Bearer " + key, "Bearer sk_test_other"}, 400, "duplicate_header"},
			{"merchant API, junk then valid key", a.e, http.MethodGet, "/v1/me", []string{"Bearer sk_test_other", "Bearer " + key}, 400, "duplicate_header"},
			{"merchant API, the same key twice", a.e, http.MethodPost, "/v1/sessions", []string{"Bearer " + key, "Bearer " + key}, 400, "duplicate_header"},
			{"seed alias", a.e, http.MethodGet, "/gateway/me.php", []string{"Bearer " + key, "Bearer " + key}, 400, "duplicate_header"},
			{"webhook intake", a.e, http.MethodPost, "/hooks/sandbox/sbx", []string{"Basic YTpi", "Basic Yzpk"}, 400, "duplicate_header"},
			{"admin API", admin, http.MethodGet, "/admin/v1/merchants", []string{"Bearer operator-token-0123456789", "Bearer x"}, 400, "duplicate_header"},
			{"admin API, one token", admin, http.MethodGet, "/admin/v1/merchants", []string{"Bearer operator-token-0123456789"}, 200, ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := httptest.NewRequest(tc.method, tc.path, nil)
				for _, v := range tc.auth {
					r.Header.Add("Authorization", v)
				}
				rec := httptest.NewRecorder()
				tc.e.ServeHTTP(rec, r)
				if rec.Code != tc.status {
					t.Fatalf("%d %s, want %d", rec.Code, rec.Body, tc.status)
				}
				if tc.errCode != "" {
					if d := decodeErr(t, rec); d.Code != tc.errCode {
						t.Fatalf("error = %+v", d)
					}
				}
			})
		}
		if n := a.count(t, m.ID); n != 0 {
			t.Fatalf("%d sessions created by refused requests", n)
		}
	})
}

// TestHSTS: with a max-age every response carries Strict-Transport-Security
// (errors and unknown routes too); without one, none does.
func TestHSTS(t *testing.T) {
	route := func(e *echo.Echo) {
		e.GET("/ok", func(c echo.Context) error { return c.String(200, "ok") })
		e.GET("/fail", func(echo.Context) error { return domain.NotFound("thing") })
	}
	for _, tc := range []struct {
		name   string
		maxAge time.Duration
		want   string
	}{
		{"one year", 365 * 24 * time.Hour, "max-age=31536000"},
		{"an hour", time.Hour, "max-age=3600"},
		{"off", 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := New(Options{HSTSMaxAge: tc.maxAge}, route)
			for _, path := range []string{"/ok", "/fail", "/missing", "/healthz"} {
				rec := httptest.NewRecorder()
				e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
				if got := rec.Header().Get("Strict-Transport-Security"); got != tc.want {
					t.Errorf("%s: Strict-Transport-Security = %q, want %q", path, got, tc.want)
				}
			}
		})
	}
}
