package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/core/store/storetest"
	"github.com/switchyard/switchyard/plugins/sandbox/sandbox"
)

// An underpaid session is held, shows what was received on the status
// endpoint, and an operator accepts it through the admin API; the
// decision body is strict JSON like every other.
func TestAdminReviewsResolve(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		const token = "operator-token-0123456789"
		a := newAPIEnv(t, st, MerchantAPIOptions{})
		admin := New(Options{BodyLimit: testBodyLimit}, AdminReviews(a.Service, []string{token}))
		m := a.Merchant(t, domain.PlanFree, "shop.test")
		key, _ := a.Key(t, m.ID, domain.ModeTest)
		ctx := context.Background()

		rec := a.do(http.MethodPost, "/v1/sessions", key, validBody)
		var s struct {
			SessionID string `json:"session_id"`
		}
		if rec.Code != http.StatusCreated || json.Unmarshal(rec.Body.Bytes(), &s) != nil {
			t.Fatalf("create: %d %s", rec.Code, rec.Body)
		}
		if _, err := a.Service.StartPayment(ctx, s.SessionID, "card", ""); err != nil {
			t.Fatal(err)
		}
		atts, _ := st.SessionAttempts(ctx, s.SessionID)
		// The sandbox signs a confirmation for 10.00 of the 49.95.
		form := sandbox.SignCallback(testSandboxSecret, sandbox.Callback{Choice: sandbox.ChoiceSucceed, Ref: atts[0].ProviderRef,
			SessionID: s.SessionID, Amount: 1000, Currency: "USD", TS: time.Now()})
		hook := httptest.NewRequest(http.MethodPost, "/hooks/sandbox/sbx", strings.NewReader(form.Encode()))
		hook.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		a.e.ServeHTTP(httptest.NewRecorder(), hook)

		view := func() map[string]any {
			t.Helper()
			rec := a.do(http.MethodGet, "/gateway/status.php?session_id="+url.QueryEscape(s.SessionID), key, "")
			var v map[string]any
			if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &v) != nil {
				t.Fatalf("status: %d %s", rec.Code, rec.Body)
			}
			return v
		}
		v := view()
		if v["status"] != "requires_review" || v["amount"] != "49.95" || v["amount_received"] != "10.00" ||
			v["currency_received"] != "USD" || v["review_reason"] != "amount_mismatch" {
			t.Fatalf("status endpoint %v", v)
		}

		do := func(method, path, body string) *httptest.ResponseRecorder {
			t.Helper()
			r := httptest.NewRequest(method, path, strings.NewReader(body))
			r.Header.Set("Authorization", "Bearer "+token)
			if body != "" {
				r.Header.Set("Content-Type", "application/json")
			}
			rec := httptest.NewRecorder()
			admin.ServeHTTP(rec, r)
			return rec
		}
		rec = do(http.MethodGet, "/admin/v1/reviews", "")
		var queue struct {
			Data []struct {
				ID, SessionID, Reason, Status string
			}
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &queue); err != nil || rec.Code != http.StatusOK || len(queue.Data) != 1 ||
			queue.Data[0].Reason != "amount_mismatch" || queue.Data[0].Status != "open" {
			t.Fatalf("queue: %d %s", rec.Code, rec.Body)
		}
		id := queue.Data[0].ID
		rec = do(http.MethodGet, "/admin/v1/sessions/"+s.SessionID, "")
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"received_amount":"10.00"`) || !strings.Contains(rec.Body.String(), id) {
			t.Fatalf("admin session: %d %s", rec.Code, rec.Body)
		}

		for _, bad := range []struct{ body, code string }{
			{`{"action":"refund","action":"accept"}`, "duplicate_field"},
			{`{"Action":"accept"}`, "field_case_mismatch"},
			{`{"action":"ignore"}`, "invalid_action"},
		} {
			rec := do(http.MethodPost, "/admin/v1/reviews/"+id+"/resolve", bad.body)
			if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), bad.code) {
				t.Fatalf("%s: %d %s", bad.body, rec.Code, rec.Body)
			}
		}
		if v := view(); v["status"] != "requires_review" {
			t.Fatalf("a rejected decision changed the session: %v", v)
		}
		rec = do(http.MethodPost, "/admin/v1/reviews/"+id+"/resolve", `{"action":"accept","note":"shopper paid the rest by bank transfer"}`)
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"resolution":"accept"`) || !strings.Contains(rec.Body.String(), `"resolved_by":"admin-api"`) {
			t.Fatalf("resolve: %d %s", rec.Code, rec.Body)
		}
		if v := view(); v["status"] != "paid" || v["review_reason"] != nil || v["amount_received"] != "10.00" || v["paid_at"] == nil {
			t.Fatalf("after accept: %v", v)
		}
		if rec := do(http.MethodPost, "/admin/v1/reviews/"+id+"/resolve", `{"action":"accept"}`); rec.Code != http.StatusConflict {
			t.Fatalf("second decision: %d %s", rec.Code, rec.Body)
		}
		if rec := do(http.MethodGet, "/admin/v1/reviews/rev_01JD3F6Q0Q5D2W0V7Y3K9M1R2S", ""); rec.Code != http.StatusNotFound {
			t.Fatalf("unknown review: %d", rec.Code)
		}
		r := httptest.NewRequest(http.MethodGet, "/admin/v1/reviews", nil)
		rec = httptest.NewRecorder()
		admin.ServeHTTP(rec, r)
		if rec.Code != http.StatusUnauthorized {
			t.Fatalf("no token: %d", rec.Code)
		}
	})
}
