package domains_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/core/domains"
	"github.com/switchyard/switchyard/core/httpapi"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/core/store/storetest"
)

// TestAdminAPI drives /admin/v1/domains over HTTP against the real service,
// plugin binary and database.
func TestAdminAPI(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		_, _ = e.order(t, domains.ItemInput{Domain: "admin-api.com"}, false)
		e.run(t, e.detail(t, "admin-api.com").Operations[0].OperationID)
		srv := httptest.NewServer(httpapi.New(httpapi.Options{}, httpapi.AdminDomains(e.svc, []string{"tok"})))
		defer srv.Close()
		call := func(method, path, token, body string) (int, http.Header, string) {
			t.Helper()
			req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
			if token != "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			if body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			return resp.StatusCode, resp.Header, string(b)
		}
		tests := []struct {
			name, method, path, token, body string
			status                          int
			contains                        string
		}{
			{"no token", "GET", "/admin/v1/domains", "", "", 401, ""},
			{"list", "GET", "/admin/v1/domains?status=active", "tok", "", 200, `"domain":"admin-api.com"`},
			{"bad status", "GET", "/admin/v1/domains?status=gone", "tok", "", 400, `"invalid_status"`},
			{"show", "GET", "/admin/v1/domains/admin-api.com", "tok", "", 200, `"operations":[`},
			{"unknown", "GET", "/admin/v1/domains/nobody-here.com", "tok", "", 404, ""},
			{"check", "POST", "/admin/v1/domains/check", "tok", `{"registrar":"route53","domains":["free-admin.com"]}`, 200, `"available":true`},
			{"check unknown field", "POST", "/admin/v1/domains/check", "tok", `{"registrar":"route53","domains":["a.com"],"x":1}`, 400, ""},
			{"renew", "POST", "/admin/v1/domains/admin-api.com/renew", "tok", `{"years":1}`, 202, `"type":"renew"`},
			{"renew bad years", "POST", "/admin/v1/domains/admin-api.com/renew", "tok", `{"years":11}`, 400, `"invalid_years"`},
			{"nameservers", "POST", "/admin/v1/domains/admin-api.com/nameservers", "tok", `{"nameservers":["ns1.x.example","ns2.x.example"]}`, 202, `"set_nameservers"`},
			{"lock", "POST", "/admin/v1/domains/admin-api.com/transfer-lock", "tok", `{"locked":false}`, 202, `"set_lock"`},
			{"records", "GET", "/admin/v1/domains/admin-api.com/records", "tok", "", 200, `"type":"NS"`},
			{"mail records", "POST", "/admin/v1/domains/admin-api.com/records/mail", "tok", "", 202, `"change_records"`},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				status, _, body := call(tc.method, tc.path, tc.token, tc.body)
				if status != tc.status || !strings.Contains(body, tc.contains) {
					t.Errorf("%s %s = %d %s; want %d with %s", tc.method, tc.path, status, body, tc.status, tc.contains)
				}
			})
		}
		status, hdr, body := call("POST", "/admin/v1/domains/admin-api.com/auth-code", "tok", "")
		d, _ := e.fake.Domain("admin-api.com")
		if status != 200 || !strings.Contains(body, d.AuthCode) || hdr.Get("Cache-Control") != "no-store" {
			t.Errorf("auth code: %d %s %v", status, body, hdr)
		}
	})
}
