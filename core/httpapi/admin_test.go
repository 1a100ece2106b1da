package httpapi_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/core/httpapi"
	"github.com/switchyard/switchyard/core/merchants"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/core/store/storetest"
)

func TestAdminMerchants(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, s *store.Store) {
		const token = "operator-token-0123456789"
		e := httpapi.New(httpapi.Options{BodyLimit: 1 << 16}, httpapi.AdminMerchants(merchants.New(s), []string{token}))
		do := func(method, path, body string) *httptest.ResponseRecorder {
			t.Helper()
			req := httptest.NewRequest(method, path, strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			return rec
		}
		rec := do("POST", "/admin/v1/merchants", `{"name":"Acme","plan":"starter","contact_email":"ops@acme.test","domains":["acme.test"]}`)
		if rec.Code != http.StatusCreated {
			t.Fatalf("create: %d %s", rec.Code, rec.Body)
		}
		var m struct{ ID int64 }
		_ = json.Unmarshal(rec.Body.Bytes(), &m)

		cases := []struct {
			name, method, path, body string
			status                   int
			contains                 string
		}{
			{"unknown field", "POST", "/admin/v1/merchants", `{"name":"B","plan":"pro","contact_email":"b@b.test","domains":["b.test"],"tier":1}`, 400, "unknown_field"},
			{"duplicate domain", "POST", "/admin/v1/merchants/" + itoa(m.ID) + "/sites", `{"domain":"acme.test"}`, 409, "duplicate_domain"},
			{"add site", "POST", "/admin/v1/merchants/" + itoa(m.ID) + "/sites", `{"domain":"shop.acme.test"}`, 201, "shop.acme.test"},
			{"missing merchant", "GET", "/admin/v1/merchants/999999", ``, 404, "resource_missing"},
			{"bad id", "GET", "/admin/v1/merchants/abc", ``, 400, "invalid_id"},
			{"create key", "POST", "/admin/v1/merchants/" + itoa(m.ID) + "/keys", `{"mode":"live"}`, 201, "sk_live_"},
			{"suspend", "POST", "/admin/v1/merchants/" + itoa(m.ID) + "/suspend", ``, 200, `"status":"suspended"`},
			{"reactivate", "POST", "/admin/v1/merchants/" + itoa(m.ID) + "/reactivate", ``, 200, `"status":"active"`},
			{"suspend missing", "POST", "/admin/v1/merchants/999999/suspend", ``, 404, "resource_missing"},
			{"list", "GET", "/admin/v1/merchants", ``, 200, `"data"`},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				rec := do(tc.method, tc.path, tc.body)
				if rec.Code != tc.status || !strings.Contains(rec.Body.String(), tc.contains) {
					t.Fatalf("%d %s, want %d containing %q", rec.Code, rec.Body, tc.status, tc.contains)
				}
			})
		}
		rec = do("GET", "/admin/v1/merchants/"+itoa(m.ID)+"/keys", "")
		if strings.Contains(rec.Body.String(), "sk_live_") && strings.Contains(rec.Body.String(), `"key"`) {
			t.Fatalf("key listing exposes secrets: %s", rec.Body)
		}
		t.Run("strict JSON creates nothing", func(t *testing.T) {
			count := func() int {
				t.Helper()
				var out struct{ Data []json.RawMessage }
				rec := do("GET", "/admin/v1/merchants?limit=100", "")
				if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
					t.Fatal(err)
				}
				return len(out.Data)
			}
			before := count()
			for _, tc := range []struct{ name, body, code, field string }{
				{"duplicate plan", `{"name":"C","plan":"free","plan":"unlimited","contact_email":"c@c.test","domains":["c.test"]}`, "duplicate_field", "plan"},
				{"duplicate name", `{"name":"C","name":"D","plan":"free","contact_email":"c@c.test","domains":["c.test"]}`, "duplicate_field", "name"},
				{"case variant Plan", `{"name":"C","Plan":"unlimited","contact_email":"c@c.test","domains":["c.test"]}`, "field_case_mismatch", "Plan"},
				{"case variant beside the field", `{"name":"C","plan":"free","PLAN":"unlimited","contact_email":"c@c.test","domains":["c.test"]}`, "field_case_mismatch", "PLAN"},
			} {
				rec := do("POST", "/admin/v1/merchants", tc.body)
				var e struct {
					Error struct{ Code, Field string }
				}
				_ = json.Unmarshal(rec.Body.Bytes(), &e)
				if rec.Code != 400 || e.Error.Code != tc.code || e.Error.Field != tc.field {
					t.Errorf("%s: %d %s, want 400 %s field %s", tc.name, rec.Code, rec.Body, tc.code, tc.field)
				}
			}
			if after := count(); after != before {
				t.Fatalf("merchants %d -> %d after rejected bodies", before, after)
			}
		})
		req := httptest.NewRequest("GET", "/admin/v1/merchants", nil)
		rec = httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		if rec.Code != 401 {
			t.Fatalf("no token: %d", rec.Code)
		}
	})
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }
