package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/core/httpapi"
	"github.com/switchyard/switchyard/core/mail"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/core/store/storetest"
	"github.com/switchyard/switchyard/sdk/mailer"
)

type noMailers struct{}

func (noMailers) Mailer(string) (mailer.Mailer, error) { return nil, http.ErrNotSupported }

// TestAdminMail drives the mail settings and template override routes
// over HTTP on the real service and store (no mail is sent here; core/mail
// sends through the real smtp plugin).
func TestAdminMail(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, s *store.Store) {
		const token = "operator-token-0123456789"
		svc, err := mail.New(mail.Deps{Store: s, Mailers: noMailers{}, MailerIDs: []string{"smtp"}})
		if err != nil {
			t.Fatal(err)
		}
		m, err := s.CreateMerchant(t.Context(), store.NewMerchant{Name: "Acme", Plan: "pro", ContactEmail: "ops@acme.test", Domains: []string{"acme.test"}})
		if err != nil {
			t.Fatal(err)
		}
		e := httpapi.New(httpapi.Options{BodyLimit: 1 << 20}, httpapi.AdminMail(svc, []string{token}))
		base := "/admin/v1/merchants/" + itoa(m.ID) + "/mail"
		cases := []struct {
			name, method, path, body string
			status                   int
			contains                 []string
		}{
			{"settings default", "GET", base, ``, 200, []string{`"receipts_enabled":false`, `"updated_at":null`}},
			{"no token", "GET", base + "?no-token", ``, 401, []string{"missing_token"}},
			{"unknown field", "PATCH", base, `{"receipts":true}`, 400, []string{"unknown_field"}},
			{"receipts without mailer", "PATCH", base, `{"receipts_enabled":true}`, 400, []string{"mailer_required", `"field":"mailer"`}},
			{"unknown mailer", "PATCH", base, `{"mailer":"nope"}`, 400, []string{"unknown_mailer"}},
			{"bad from", "PATCH", base, `{"mailer":"smtp","from":"billing at acme"}`, 400, []string{"invalid_mailbox", `"field":"from"`}},
			{"nothing changed", "GET", base, ``, 200, []string{`"mailer":""`, `"updated_at":null`}},
			{"enable", "PATCH", base, `{"receipts_enabled":true,"mailer":"smtp","from":"Acme <billing@acme.test>"}`, 200,
				[]string{`"receipts_enabled":true`, `"effective_mailer":"smtp"`, `"from":"Acme \u003cbilling@acme.test\u003e"`}},
			{"partial", "PATCH", base, `{"reply_to":"help@acme.test"}`, 200, []string{`"receipts_enabled":true`, `"reply_to":"help@acme.test"`}},
			{"unknown merchant", "GET", "/admin/v1/merchants/99999/mail", ``, 404, []string{"resource_missing"}},
			{"list", "GET", base + "/templates", ``, 200, []string{`"name":"payment_receipt"`, `"name":"webhook_endpoint_disabled"`, `"overridden":[]`}},
			{"show", "GET", base + "/templates/service_ready", ``, 200, []string{`"name":".Password"`, "Control panel"}},
			{"unknown template", "GET", base + "/templates/nope", ``, 404, []string{"unknown_template"}},
			{"bad override", "PUT", base + "/templates/payment_receipt", `{"subject":"{{.Amount"}`, 400, []string{"invalid_template", `"field":"subject"`}},
			{"empty override", "PUT", base + "/templates/payment_receipt", `{}`, 400, []string{"empty_override"}},
			{"override unknown field", "PUT", base + "/templates/payment_receipt", `{"body":"x"}`, 400, []string{"unknown_field"}},
			{"still built-in", "GET", base + "/templates/payment_receipt", ``, 200, []string{`"overridden":[]`}},
			{"override", "PUT", base + "/templates/payment_receipt", `{"subject":"Danke {{.OrderID}}"}`, 200, []string{`"overridden":["subject"]`, `"subject":"Danke {{.OrderID}}"`}},
			{"preview stored", "POST", base + "/templates/payment_receipt/preview", ``, 200, []string{`"subject":"Danke A-1001"`, "49.95 USD"}},
			{"preview given", "POST", base + "/templates/payment_receipt/preview", `{"html":"<p>{{.Customer.Name}}</p>"}`, 200, []string{`\u003cp\u003eAnn Müller\u003c/p\u003e`}},
			{"preview bad", "POST", base + "/templates/payment_receipt/preview", `{"html":"<p>{{.Nope}}</p>"}`, 400, []string{"invalid_template"}},
			{"reset", "DELETE", base + "/templates/payment_receipt", ``, 204, nil},
			{"reset again", "DELETE", base + "/templates/payment_receipt", ``, 404, []string{"resource_missing"}},
		}
		for _, tc := range cases {
			req := httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body))
			if !strings.HasSuffix(tc.path, "?no-token") {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			if tc.body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			if rec.Code != tc.status {
				t.Fatalf("%s: %d %s", tc.name, rec.Code, rec.Body)
			}
			for _, c := range tc.contains {
				if !strings.Contains(rec.Body.String(), c) {
					t.Fatalf("%s: %s lacks %s", tc.name, rec.Body, c)
				}
			}
		}
	})
}
