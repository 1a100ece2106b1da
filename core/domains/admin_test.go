package domains_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/switchyard/switchyard/config"
	"github.com/switchyard/switchyard/core/audit"
	"github.com/switchyard/switchyard/core/domains"
	"github.com/switchyard/switchyard/core/httpapi"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/core/store/storetest"
	"github.com/switchyard/switchyard/internal/testbin"
)

// adminPrefix is where docs/openapi.yaml documents the domain operator
// routes; TestAdminAPI must produce every response documented under it
// (core/httpapi's TestOpenAPIContract covers the rest of the document).
const adminPrefix = "/admin/v1/domains"

// adminContract validates exchanges against docs/openapi.yaml and records
// which documented (operation, status) pairs were seen.
type adminContract struct {
	doc    *openapi3.T
	router routers.Router
	seen   map[string]bool
}

func loadAdminContract(t *testing.T) *adminContract {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile(filepath.Join(testbin.RepoRoot(t), "docs", "openapi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		t.Fatalf("docs/openapi.yaml is not valid: %v", err)
	}
	doc.Servers = nil // match by path, whatever the test server's host
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return &adminContract{doc: doc, router: router, seen: map[string]bool{}}
}

// check validates one exchange against its documented operation.
func (c *adminContract) check(t *testing.T, req *http.Request, status int, hdr http.Header, body string) {
	t.Helper()
	route, params, err := c.router.FindRoute(req)
	if err != nil {
		t.Fatalf("%s %s is not in docs/openapi.yaml: %v", req.Method, req.URL.Path, err)
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: status, Header: hdr,
		Body: io.NopCloser(strings.NewReader(body)), Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true}}
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		t.Errorf("%s %s → %d %s\ndoes not match docs/openapi.yaml: %v", req.Method, req.URL, status, body, err)
	}
	c.seen[route.Operation.OperationID+" "+strconv.Itoa(status)] = true
}

// unexercised lists documented responses under adminPrefix that no
// exchange produced (5xx aside: a healthy server does not give them).
func (c *adminContract) unexercised() []string {
	var out []string
	for path, item := range c.doc.Paths.Map() {
		if !strings.HasPrefix(path, adminPrefix) {
			continue
		}
		for method, op := range item.Operations() {
			for status := range op.Responses.Map() {
				if !strings.HasPrefix(status, "5") && !c.seen[op.OperationID+" "+status] {
					out = append(out, fmt.Sprintf("%s %s %s (%s)", method, path, status, op.OperationID))
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

// TestAdminAPI drives /admin/v1/domains over HTTP against the real service,
// plugin binary and database, behind the admin listener's role check, and
// validates every answer against docs/openapi.yaml.
func TestAdminAPI(t *testing.T) {
	c := loadAdminContract(t)
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		_, _ = e.order(t, domains.ItemInput{Domain: "admin-api.com"}, false)
		e.run(t, e.detail(t, "admin-api.com").Operations[0].OperationID)
		e.fake.SetAvailability("admin-taken.com", "UNAVAILABLE")
		_, _ = e.order(t, domains.ItemInput{Domain: "admin-taken.com"}, false)
		e.run(t, e.detail(t, "admin-taken.com").Operations[0].OperationID)

		identify := func(tok string) (string, string, bool) {
			switch tok {
			case "tok":
				return "olga", config.RoleOperator, true
			case "view":
				return "victor", config.RoleViewer, true
			}
			return "", "", false
		}
		srv := httptest.NewServer(httpapi.New(httpapi.Options{}, httpapi.AdminAccess(identify, audit.New(st, nil)),
			httpapi.AdminDomains(e.svc, []string{"tok", "view"})))
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
			check, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
			check.Header = req.Header
			c.check(t, check, resp.StatusCode, resp.Header, string(b))
			return resp.StatusCode, resp.Header, string(b)
		}
		tests := []struct {
			name, method, path, token, body string
			status                          int
			contains                        string
		}{
			{"no token", "GET", "/admin/v1/domains", "", "", 401, `"missing_token"`},
			{"list", "GET", "/admin/v1/domains?status=active", "tok", "", 200, `"domain":"admin-api.com"`},
			{"list as viewer", "GET", "/admin/v1/domains", "view", "", 200, `"domain":"admin-taken.com"`},
			{"bad status", "GET", "/admin/v1/domains?status=gone", "tok", "", 400, `"invalid_status"`},
			{"show", "GET", "/admin/v1/domains/admin-api.com", "tok", "", 200, `"operations":[`},
			{"show by name in capitals", "GET", "/admin/v1/domains/ADMIN-API.com", "view", "", 200, `"status":"active"`},
			{"unknown", "GET", "/admin/v1/domains/nobody-here.com", "tok", "", 404, `"resource_missing"`},
			{"show bad token", "GET", "/admin/v1/domains/admin-api.com", "nope", "", 401, `"invalid_token"`},
			{"check", "POST", "/admin/v1/domains/check", "tok", `{"registrar":"route53","domains":["free-admin.com","admin-taken.com"]}`, 200, `"reason":"taken"`},
			{"check unknown field", "POST", "/admin/v1/domains/check", "tok", `{"registrar":"route53","domains":["a.com"],"x":1}`, 400, `"unknown_field"`},
			{"check unknown registrar", "POST", "/admin/v1/domains/check", "tok", `{"registrar":"nowhere","domains":["a.com"]}`, 400, `"unknown_registrar"`},
			{"check as viewer", "POST", "/admin/v1/domains/check", "view", `{"registrar":"route53","domains":["a.com"]}`, 403, `"read_only_token"`},
			{"check no token", "POST", "/admin/v1/domains/check", "", `{"registrar":"route53","domains":["a.com"]}`, 401, ""},
			{"renew", "POST", "/admin/v1/domains/admin-api.com/renew", "tok", `{"years":1}`, 202, `"type":"renew"`},
			{"renew bad years", "POST", "/admin/v1/domains/admin-api.com/renew", "tok", `{"years":11}`, 400, `"invalid_years"`},
			{"renew failed domain", "POST", "/admin/v1/domains/admin-taken.com/renew", "tok", `{"years":1}`, 409, `"domain_not_active"`},
			{"renew unknown", "POST", "/admin/v1/domains/nobody-here.com/renew", "tok", `{"years":1}`, 404, ""},
			{"renew as viewer", "POST", "/admin/v1/domains/admin-api.com/renew", "view", `{"years":1}`, 403, ""},
			{"renew no token", "POST", "/admin/v1/domains/admin-api.com/renew", "", `{"years":1}`, 401, ""},
			{"nameservers", "POST", "/admin/v1/domains/admin-api.com/nameservers", "tok", `{"nameservers":["ns1.x.example","ns2.x.example"]}`, 202, `"set_nameservers"`},
			{"nameservers one", "POST", "/admin/v1/domains/admin-api.com/nameservers", "tok", `{"nameservers":["ns1.x.example"]}`, 400, `"invalid_nameservers"`},
			{"nameservers failed domain", "POST", "/admin/v1/domains/admin-taken.com/nameservers", "tok", `{"nameservers":["ns1.x.example","ns2.x.example"]}`, 409, ""},
			{"nameservers unknown", "POST", "/admin/v1/domains/nobody-here.com/nameservers", "tok", `{"nameservers":["ns1.x.example","ns2.x.example"]}`, 404, ""},
			{"nameservers as viewer", "POST", "/admin/v1/domains/admin-api.com/nameservers", "view", `{"nameservers":["ns1.x.example","ns2.x.example"]}`, 403, ""},
			{"nameservers no token", "POST", "/admin/v1/domains/admin-api.com/nameservers", "", `{"nameservers":["ns1.x.example","ns2.x.example"]}`, 401, ""},
			{"lock", "POST", "/admin/v1/domains/admin-api.com/transfer-lock", "tok", `{"locked":false}`, 202, `"set_lock"`},
			{"lock bad type", "POST", "/admin/v1/domains/admin-api.com/transfer-lock", "tok", `{"locked":"no"}`, 400, ""},
			{"lock failed domain", "POST", "/admin/v1/domains/admin-taken.com/transfer-lock", "tok", `{"locked":true}`, 409, ""},
			{"lock unknown", "POST", "/admin/v1/domains/nobody-here.com/transfer-lock", "tok", `{"locked":true}`, 404, ""},
			{"lock as viewer", "POST", "/admin/v1/domains/admin-api.com/transfer-lock", "view", `{"locked":true}`, 403, ""},
			{"lock no token", "POST", "/admin/v1/domains/admin-api.com/transfer-lock", "", `{"locked":true}`, 401, ""},
			{"records", "GET", "/admin/v1/domains/admin-api.com/records", "tok", "", 200, `"type":"NS"`},
			{"records unknown", "GET", "/admin/v1/domains/nobody-here.com/records", "tok", "", 404, ""},
			{"records no token", "GET", "/admin/v1/domains/admin-api.com/records", "", "", 401, ""},
			{"mail records", "POST", "/admin/v1/domains/admin-api.com/records/mail", "tok", "", 202, `"change_records"`},
			{"mail records with dkim", "POST", "/admin/v1/domains/admin-api.com/records/mail", "tok", `{"dkim":"v=DKIM1; p=X"}`, 202, `"change_records"`},
			{"mail records unknown field", "POST", "/admin/v1/domains/admin-api.com/records/mail", "tok", `{"spf":"x"}`, 400, `"unknown_field"`},
			{"mail records failed domain", "POST", "/admin/v1/domains/admin-taken.com/records/mail", "tok", "", 409, ""},
			{"mail records unknown", "POST", "/admin/v1/domains/nobody-here.com/records/mail", "tok", "", 404, ""},
			{"mail records as viewer", "POST", "/admin/v1/domains/admin-api.com/records/mail", "view", "", 403, ""},
			{"mail records no token", "POST", "/admin/v1/domains/admin-api.com/records/mail", "", "", 401, ""},
			{"auth code failed domain", "POST", "/admin/v1/domains/admin-taken.com/auth-code", "tok", "", 409, `"domain_not_active"`},
			{"auth code unknown", "POST", "/admin/v1/domains/nobody-here.com/auth-code", "tok", "", 404, ""},
			{"auth code as viewer", "POST", "/admin/v1/domains/admin-api.com/auth-code", "view", "", 403, ""},
			{"auth code no token", "POST", "/admin/v1/domains/admin-api.com/auth-code", "", "", 401, ""},
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
	if missing := c.unexercised(); len(missing) > 0 {
		t.Errorf("documented responses no test produced:\n  %s", strings.Join(missing, "\n  "))
	}
}
