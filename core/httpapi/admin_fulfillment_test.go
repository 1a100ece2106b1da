package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/config"
	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/fulfillment"
	"github.com/switchyard/switchyard/core/fulfillment/fulfillmenttest"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/core/store/storetest"
	"github.com/switchyard/switchyard/plugins/whm/whmfake"
)

const fulfillmentToken = "operator-token-fulfillment-0123456789"

// fulfillmentAPI is the admin API's fulfillment routes over the real
// fulfillment service: three paid hosting sessions of one merchant (ann's
// service active, bob's failed with WHM's reason, cat's pending), each
// with its client.
type fulfillmentAPI struct {
	*fulfillmenttest.Env
	h                     http.Handler
	active, failed, other string // service ids: ann's, bob's, cat's
	sessions              []string
}

func newFulfillmentAPI(t *testing.T, st *store.Store) *fulfillmentAPI {
	t.Helper()
	e := fulfillmenttest.New(t, st, []config.ProductConfig{fulfillmenttest.HostingProduct("host-basic", "basic")})
	a := &fulfillmentAPI{Env: e, h: New(Options{BodyLimit: testBodyLimit}, AdminFulfillment(e.Ful, []string{fulfillmentToken}))}
	var ids []string
	for i, name := range []string{"ann", "bob", "cat"} {
		session, svc := e.PaidService(t, fmt.Sprintf("O-%d", i), name+"@customer.test",
			fmt.Sprintf(`[{"sku":"host-basic","domain":"%s.example","username":"%shost"}]`, name, name))
		a.sessions = append(a.sessions, session)
		ids = append(ids, svc)
	}
	a.active, a.failed, a.other = ids[0], ids[1], ids[2]
	e.RunPending(t, a.active, false)
	e.WHM.Inject("createacct", whmfake.Fault{Kind: whmfake.Reason, Reason: "Sorry, the disk is full."})
	e.RunPending(t, a.failed, true)
	return a
}

func (a *fulfillmentAPI) do(method, path, body string, hdr ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	r.Header.Set("Authorization", "Bearer "+fulfillmentToken)
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	a.h.ServeHTTP(rec, r)
	return rec
}

// ids lists the "id" of each element of a list answer's data.
func ids(t *testing.T, rec *httptest.ResponseRecorder) []string {
	t.Helper()
	var l struct {
		Data []struct {
			ID  string `json:"id"`
			SKU string `json:"sku"`
		}
	}
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &l) != nil {
		t.Fatalf("list: %d %s", rec.Code, rec.Body)
	}
	out := make([]string, 0, len(l.Data))
	for _, d := range l.Data {
		if d.ID == "" {
			d.ID = d.SKU // products of the file have no id
		}
		out = append(out, d.ID)
	}
	return out
}

// wantAPIError checks the error shape of DESIGN.md: status, code and
// field, and a message.
func wantAPIError(t *testing.T, rec *httptest.ResponseRecorder, status int, code, field string) {
	t.Helper()
	var e struct {
		Error struct{ Code, Message, Field string }
	}
	if rec.Code != status || json.Unmarshal(rec.Body.Bytes(), &e) != nil || e.Error.Code != code || e.Error.Field != field || e.Error.Message == "" {
		t.Fatalf("got %d %s, want %d %s (field %q)", rec.Code, rec.Body, status, code, field)
	}
}

// TestAdminServices: listing with filters and paging, a service with its
// actions, operator actions recorded with the API as their source, and
// refusals (bad input, wrong state, unknown ids) in the error shape with
// nothing queued.
func TestAdminServices(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		a := newFulfillmentAPI(t, st)
		all := []string{a.active, a.failed, a.other}
		mid := fmt.Sprint(a.Merchant)
		for _, tc := range []struct {
			name, query string
			want        []string
		}{
			{"all", "", all},
			{"failed", "?status=failed", []string{a.failed}},
			{"active", "?status=active", []string{a.active}},
			{"pending", "?status=pending", []string{a.other}},
			{"merchant", "?merchant=" + mid, all},
			{"another merchant", "?merchant=" + fmt.Sprint(a.Other), nil},
			{"session", "?session=" + a.sessions[1], []string{a.failed}},
			{"first page", "?limit=2", all[:2]},
			{"next page", "?limit=2&after=" + all[1], all[2:]},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if got := ids(t, a.do(http.MethodGet, "/admin/v1/services"+tc.query, "")); strings.Join(got, " ") != strings.Join(tc.want, " ") {
					t.Errorf("services%s: %v, want %v", tc.query, got, tc.want)
				}
			})
		}
		rec := a.do(http.MethodGet, "/admin/v1/services?status=failed", "")
		if !strings.Contains(rec.Body.String(), `"last_error":"create: `) || !strings.Contains(rec.Body.String(), "disk is full") {
			t.Errorf("a failed service's reason is not listed: %s", rec.Body)
		}

		var d fulfillment.ServiceDetail
		rec = a.do(http.MethodGet, "/admin/v1/services/"+a.active, "")
		if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &d) != nil || d.ServiceView == nil || d.Status != domain.ServiceActive ||
			len(d.Actions) == 0 || d.Actions[0].Action != domain.ActionCreate || d.Actions[0].Status != domain.ActionDone {
			t.Fatalf("show: %d %s", rec.Code, rec.Body)
		}
		if acct, _ := a.WHM.Account("annhost"); acct.Password == "" || strings.Contains(rec.Body.String(), acct.Password) ||
			strings.Contains(strings.ToLower(rec.Body.String()), "password") {
			t.Fatalf("a service shows a password: %s", rec.Body)
		}

		actions := func(id string) int {
			t.Helper()
			d, err := a.Ful.GetService(context.Background(), id)
			if err != nil {
				t.Fatal(err)
			}
			return len(d.Actions)
		}
		unknown := domain.NewServiceID()
		long := strings.Repeat("x", 501)
		for _, tc := range []struct {
			name, method, path, body string
			status                   int
			code, field              string
		}{
			{"bad status", "GET", "/admin/v1/services?status=broken", "", 400, "invalid_status", "status"},
			{"bad merchant", "GET", "/admin/v1/services?merchant=abc", "", 400, "invalid_merchant", "merchant"},
			{"bad limit", "GET", "/admin/v1/services?limit=0", "", 400, "invalid_limit", "limit"},
			{"unknown service", "GET", "/admin/v1/services/" + unknown, "", 404, "resource_missing", ""},
			{"malformed id", "GET", "/admin/v1/services/not-a-service", "", 404, "resource_missing", ""},
			{"suspend unknown", "POST", "/admin/v1/services/" + unknown + "/suspend", "", 404, "resource_missing", ""},
			{"unknown field", "POST", "/admin/v1/services/" + a.active + "/suspend", `{"reason":"x","why":"y"}`, 400, "unknown_field", "why"},
			{"malformed body", "POST", "/admin/v1/services/" + a.active + "/suspend", `{"reason":`, 400, "invalid_json", ""},
			{"long reason", "POST", "/admin/v1/services/" + a.active + "/suspend", `{"reason":"` + long + `"}`, 400, "invalid_reason", "reason"},
			{"suspend pending", "POST", "/admin/v1/services/" + a.other + "/suspend", "", 409, "invalid_service_state", ""},
			{"package missing", "POST", "/admin/v1/services/" + a.active + "/change-package", `{}`, 400, "missing_field", "package"},
			{"package unknown", "POST", "/admin/v1/services/" + a.active + "/change-package", `{"package":"Reseller_Gold"}`, 422, "unknown_package", "package"},
			{"retry active", "POST", "/admin/v1/services/" + a.active + "/retry", "", 409, "service_not_failed", ""},
			{"resume unpaused", "POST", "/admin/v1/services/" + a.active + "/resume", "", 409, "service_not_paused", ""},
			{"login link of failed", "POST", "/admin/v1/services/" + a.failed + "/login-url", "", 409, "invalid_service_state", ""},
			{"login link service", "POST", "/admin/v1/services/" + a.active + "/login-url?service=ftp", "", 400, "invalid_service", "service"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				before := [3]int{actions(a.active), actions(a.failed), actions(a.other)}
				wantAPIError(t, a.do(tc.method, tc.path, tc.body), tc.status, tc.code, tc.field)
				if after := [3]int{actions(a.active), actions(a.failed), actions(a.other)}; after != before {
					t.Errorf("a refused request queued actions: %v, before %v", after, before)
				}
			})
		}

		// Accepted actions are queued (202) with the operator and reason.
		for _, tc := range []struct {
			id, path, body string
			action         domain.ServiceAction
			reason, pkg    string
		}{
			{a.active, "suspend", `{"reason":"abuse report 41"}`, domain.ActionSuspend, "abuse report 41", ""},
			{a.active, "change-package", `{"package":"reseller_gold"}`, domain.ActionChangePackage, "by operator", "reseller_gold"},
			{a.failed, "retry", "", domain.ActionCreate, "", ""},
		} {
			rec := a.do(http.MethodPost, "/admin/v1/services/"+tc.id+"/"+tc.path, tc.body)
			var d fulfillment.ServiceDetail
			if rec.Code != http.StatusAccepted || json.Unmarshal(rec.Body.Bytes(), &d) != nil || len(d.Actions) == 0 {
				t.Fatalf("%s: %d %s", tc.path, rec.Code, rec.Body)
			}
			last := d.Actions[len(d.Actions)-1]
			if last.Action != tc.action || last.Status != domain.ActionPending || last.Source != "operator:"+AdminOperator ||
				(tc.reason != "" && last.Reason != tc.reason) || (tc.pkg != "" && (last.Package == nil || *last.Package != tc.pkg)) {
				t.Errorf("%s queued %+v", tc.path, last)
			}
			stored, err := st.ServiceActions(context.Background(), tc.id, domain.ActionPending)
			if err != nil || len(stored) == 0 || stored[len(stored)-1].ID != last.ID {
				t.Errorf("%s: the queued action is not stored: %+v %v", tc.path, stored, err)
			}
		}
		if d, _ := a.Ful.GetService(context.Background(), a.failed); d.Actions[0].Status != domain.ActionCanceled {
			t.Errorf("retry left the failed create %s, want canceled", d.Actions[0].Status)
		}

		rec = a.do(http.MethodPost, "/admin/v1/services/"+a.active+"/login-url?service=webmail", "")
		var link struct {
			URL       string  `json:"url"`
			ExpiresAt *string `json:"expires_at"`
		}
		sessions := a.WHM.Sessions()
		if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &link) != nil || len(sessions) != 1 || link.URL != sessions[0] ||
			rec.Header().Get("Cache-Control") != "no-store" {
			t.Fatalf("login-url: %d %v %s (WHM made %v)", rec.Code, rec.Header(), rec.Body, sessions)
		}
		if calls := a.WHM.Calls("create_user_session"); calls[0].Params.Get("service") != "webmaild" {
			t.Errorf("create_user_session for %q, want webmaild", calls[0].Params.Get("service"))
		}

		r := httptest.NewRequest(http.MethodGet, "/admin/v1/services", nil)
		rec = httptest.NewRecorder()
		a.h.ServeHTTP(rec, r)
		if rec.Code != http.StatusUnauthorized {
			t.Errorf("without a token: %d", rec.Code)
		}
	})
}

// TestAdminProducts: the file's product and saved ones listed per
// merchant, create/show/update/delete, and refusals in the error shape
// with nothing stored or changed.
func TestAdminProducts(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		a := newFulfillmentAPI(t, st)
		mid := fmt.Sprint(a.Merchant)
		body := func(sku, pkg string) string {
			return `{"sku":"` + sku + `","name":"Gold hosting","merchant_id":` + mid +
				`,"fulfillment":{"kind":"provision","provisioner":"whm","package":"` + pkg + `"}}`
		}
		rec := a.do(http.MethodPost, "/admin/v1/products", body("host-gold", "reseller_gold"))
		var p fulfillment.Product
		if rec.Code != http.StatusCreated || json.Unmarshal(rec.Body.Bytes(), &p) != nil || !domain.ValidProductID(p.ID) ||
			p.Source != fulfillment.SourceAPI || p.MerchantID == nil || *p.MerchantID != a.Merchant {
			t.Fatalf("create: %d %s", rec.Code, rec.Body)
		}
		for _, tc := range []struct {
			query string
			want  []string
		}{
			{"", []string{"host-basic", p.ID}},
			{"?merchant=" + mid, []string{"host-basic", p.ID}},
			{"?merchant=" + fmt.Sprint(a.Other), []string{"host-basic"}},
		} {
			if got := ids(t, a.do(http.MethodGet, "/admin/v1/products"+tc.query, "")); strings.Join(got, " ") != strings.Join(tc.want, " ") {
				t.Errorf("products%s: %v, want %v", tc.query, got, tc.want)
			}
		}
		if rec := a.do(http.MethodGet, "/admin/v1/products/"+p.ID, ""); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"package":"reseller_gold"`) {
			t.Fatalf("show: %d %s", rec.Code, rec.Body)
		}

		snapshot := func() string {
			t.Helper()
			ps, err := a.Ful.ListProducts(context.Background(), a.Merchant)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := json.Marshal(ps)
			return string(b)
		}
		unknown := domain.NewProductID()
		for _, tc := range []struct {
			name, method, path, body string
			status                   int
			code, field              string
		}{
			{"unknown package", "POST", "/admin/v1/products", body("host-x", "gold"), 422, "unknown_package", "fulfillment.package"},
			{"package case", "POST", "/admin/v1/products", body("host-x", "Reseller_Gold"), 422, "unknown_package", "fulfillment.package"},
			{"duplicate sku", "POST", "/admin/v1/products", body("host-gold", "basic"), 409, "duplicate_sku", ""},
			{"sku of the file", "POST", "/admin/v1/products", strings.Replace(body("host-basic", "basic"), `"merchant_id":`+mid+`,`, "", 1), 409, "duplicate_sku", ""},
			{"unknown field", "POST", "/admin/v1/products", `{"sku":"x","name":"X","price":"1.00","fulfillment":{"kind":"none"}}`, 400, "unknown_field", "price"},
			{"malformed", "POST", "/admin/v1/products", `{"sku":`, 400, "invalid_json", ""},
			{"not a provisioner", "POST", "/admin/v1/products", strings.Replace(body("host-x", "basic"), `"provisioner":"whm"`, `"provisioner":"sbx"`, 1), 400, "invalid_fulfillment", "fulfillment.provisioner"},
			{"unknown merchant", "POST", "/admin/v1/products", strings.Replace(body("host-x", "basic"), `"merchant_id":`+mid, `"merchant_id":999999`, 1), 400, "invalid_merchant", "merchant_id"},
			{"bad merchant filter", "GET", "/admin/v1/products?merchant=-1", "", 400, "invalid_merchant", "merchant"},
			{"update to unknown package", "PUT", "/admin/v1/products/" + p.ID, body("host-gold", "nope"), 422, "unknown_package", "fulfillment.package"},
			{"update unknown", "PUT", "/admin/v1/products/" + unknown, body("host-gold", "basic"), 404, "resource_missing", ""},
			{"show unknown", "GET", "/admin/v1/products/" + unknown, "", 404, "resource_missing", ""},
			{"show malformed id", "GET", "/admin/v1/products/x", "", 404, "resource_missing", ""},
			{"delete unknown", "DELETE", "/admin/v1/products/" + unknown, "", 404, "resource_missing", ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				before := snapshot()
				wantAPIError(t, a.do(tc.method, tc.path, tc.body), tc.status, tc.code, tc.field)
				if after := snapshot(); after != before {
					t.Errorf("a refused request changed the products:\n%s\nbefore:\n%s", after, before)
				}
			})
		}

		rec = a.do(http.MethodPut, "/admin/v1/products/"+p.ID, strings.Replace(body("host-gold", "basic"), "Gold hosting", "Gold hosting 2", 1))
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"name":"Gold hosting 2"`) || !strings.Contains(rec.Body.String(), `"package":"basic"`) {
			t.Fatalf("update: %d %s", rec.Code, rec.Body)
		}
		if rec := a.do(http.MethodDelete, "/admin/v1/products/"+p.ID, ""); rec.Code != http.StatusNoContent {
			t.Fatalf("delete: %d %s", rec.Code, rec.Body)
		}
		wantAPIError(t, a.do(http.MethodGet, "/admin/v1/products/"+p.ID, ""), 404, "resource_missing", "")
		if got := ids(t, a.do(http.MethodGet, "/admin/v1/products?merchant="+mid, "")); strings.Join(got, " ") != "host-basic" {
			t.Errorf("products after delete: %v", got)
		}
	})
}

// TestAdminClients: the clients paid sessions recorded, per merchant and
// paged, and refused filters in the error shape.
func TestAdminClients(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		a := newFulfillmentAPI(t, st)
		all, err := a.Ful.ListClients(context.Background(), store.ClientFilter{})
		if err != nil || len(all) != 3 {
			t.Fatalf("clients: %v %v", all, err)
		}
		var allIDs []string
		for _, c := range all {
			allIDs = append(allIDs, c.ID)
		}
		rec := a.do(http.MethodGet, "/admin/v1/clients", "")
		for _, email := range []string{"ann@customer.test", "bob@customer.test", "cat@customer.test"} {
			if !strings.Contains(rec.Body.String(), `"`+email+`"`) {
				t.Errorf("clients lack %s: %s", email, rec.Body)
			}
		}
		for _, tc := range []struct {
			name, query string
			want        []string
		}{
			{"all", "", allIDs},
			{"merchant", "?merchant=" + fmt.Sprint(a.Merchant), allIDs},
			{"another merchant", "?merchant=" + fmt.Sprint(a.Other), nil},
			{"first page", "?limit=2", allIDs[:2]},
			{"next page", "?limit=2&after=" + allIDs[1], allIDs[2:]},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if got := ids(t, a.do(http.MethodGet, "/admin/v1/clients"+tc.query, "")); strings.Join(got, " ") != strings.Join(tc.want, " ") {
					t.Errorf("clients%s: %v, want %v", tc.query, got, tc.want)
				}
			})
		}
		wantAPIError(t, a.do(http.MethodGet, "/admin/v1/clients?merchant=x", ""), 400, "invalid_merchant", "merchant")
		wantAPIError(t, a.do(http.MethodGet, "/admin/v1/clients?limit=-3", ""), 400, "invalid_limit", "limit")
	})
}
