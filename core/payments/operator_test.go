package payments_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/payments"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/core/store/storetest"
	"github.com/switchyard/switchyard/plugins/sandbox/sandbox"
)

// TestOperatorSessionViews: the console's and admin API's view of
// sessions — search and filters across merchants, the detail with
// attempts, routing reasons and provider events with their redacted
// requests, and today's volume per provider and method.
func TestOperatorSessionViews(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		env := newEnv(t, st)
		ctx := ctxT(t)
		a := env.Merchant(t, domain.PlanFree, "shop.test")
		b := env.Merchant(t, domain.PlanFree, "shop.test")
		_, pa := env.Key(t, a.ID, domain.ModeTest)
		_, pb := env.Key(t, b.ID, domain.ModeLive)

		paid := started(t, env, pa, "ORDER-PAID")
		req := sandboxCallback(t, env, paid.SessionID, sandbox.ChoiceSucceed)
		req.Query = "token=query-secret&ref=1"
		req.Headers.Set("X-Api-Key", "header-secret")
		if _, err := env.Service.ApplyWebhook(ctx, "sbx", "sandbox", req); err != nil {
			t.Fatal(err)
		}
		declined := started(t, env, pa, "ORDER-DECLINED")
		if _, err := env.Service.ApplyWebhook(ctx, "sbx", "sandbox", sandboxCallback(t, env, declined.SessionID, sandbox.ChoiceDecline)); err != nil {
			t.Fatal(err)
		}
		open := mustCreate(t, env, pb, createReq("ORDER-OPEN"))

		find := func(q payments.SessionQuery) []string {
			t.Helper()
			page, err := env.Service.FindSessions(ctx, q)
			if err != nil {
				t.Fatalf("FindSessions(%+v): %v", q, err)
			}
			var orders []string
			for _, s := range page.Sessions {
				orders = append(orders, s.OrderID)
			}
			return orders
		}
		for _, tc := range []struct {
			name string
			q    payments.SessionQuery
			want string
		}{
			{"all, newest first", payments.SessionQuery{}, "ORDER-OPEN ORDER-DECLINED ORDER-PAID"},
			{"merchant", payments.SessionQuery{MerchantID: a.ID}, "ORDER-DECLINED ORDER-PAID"},
			{"status", payments.SessionQuery{Status: "paid"}, "ORDER-PAID"},
			{"provider", payments.SessionQuery{ProviderID: "sbx"}, "ORDER-DECLINED ORDER-PAID"},
			{"method", payments.SessionQuery{Method: "card"}, "ORDER-DECLINED ORDER-PAID"},
			{"mode", payments.SessionQuery{Mode: "live"}, "ORDER-OPEN"},
			{"order id", payments.SessionQuery{Search: "ORDER-DECLINED"}, "ORDER-DECLINED"},
			{"session id", payments.SessionQuery{Search: " " + open.SessionID + " "}, "ORDER-OPEN"},
			{"created today", payments.SessionQuery{From: time.Now().Add(-time.Hour), To: time.Now().Add(time.Hour)}, "ORDER-OPEN ORDER-DECLINED ORDER-PAID"},
			{"created before", payments.SessionQuery{To: time.Now().Add(-time.Hour)}, ""},
		} {
			if got := strings.Join(find(tc.q), " "); got != tc.want {
				t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
			}
		}
		// Pages follow the cursor.
		page, err := env.Service.FindSessions(ctx, payments.SessionQuery{Limit: 2})
		if err != nil || len(page.Sessions) != 2 || page.Next == "" {
			t.Fatalf("first page: %+v, %v", page, err)
		}
		if got := strings.Join(find(payments.SessionQuery{Limit: 2, Before: page.Next}), " "); got != "ORDER-PAID" {
			t.Errorf("second page: %q", got)
		}
		if page.Sessions[0].MerchantID != b.ID {
			t.Errorf("merchant of the newest session: %d", page.Sessions[0].MerchantID)
		}
		for _, bad := range []payments.SessionQuery{{Status: "nope"}, {Mode: "prod"}, {From: time.Now(), To: time.Now().Add(-time.Hour)}} {
			if _, err := env.Service.FindSessions(ctx, bad); !errorsIsInvalid(err) {
				t.Errorf("FindSessions(%+v) = %v, want invalid", bad, err)
			}
		}

		d, err := env.Service.AdminSession(ctx, paid.SessionID)
		if err != nil {
			t.Fatal(err)
		}
		if d.MerchantID != a.ID || len(d.Attempts) != 1 || d.Attempts[0].ProviderID != "sbx" || d.Attempts[0].Reason == "" {
			t.Fatalf("detail: merchant %d attempts %+v", d.MerchantID, d.Attempts)
		}
		if len(d.ProviderEvents) != 1 || d.ProviderEvents[0].Outcome != "applied" || d.ProviderEvents[0].Request == nil {
			t.Fatalf("provider events: %+v", d.ProviderEvents)
		}
		r := d.ProviderEvents[0].Request
		if r.Query != "ref=1&token=%5Bredacted%5D" || r.Headers.Get("X-Api-Key") != "[redacted]" || !r.Verified || r.Body == "" {
			t.Errorf("raw request not redacted as expected: query %q headers %v", r.Query, r.Headers)
		}
		for _, secret := range []string{"query-secret", "header-secret"} {
			if strings.Contains(r.Query+r.Body+strings.Join(r.Headers.Values("X-Api-Key"), ""), secret) {
				t.Errorf("%s shown", secret)
			}
		}

		vol, err := env.Service.AttemptVolume(ctx, time.Now().Add(-time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if len(vol) != 1 || vol[0].ProviderID != "sbx" || vol[0].Method != "card" || vol[0].Attempts != 2 ||
			vol[0].Succeeded != 1 || vol[0].Failed != 1 || strings.Join(vol[0].Volume, ",") != "USD 49.95" {
			t.Errorf("volume: %+v", vol)
		}
		if vol, _ := env.Service.AttemptVolume(ctx, time.Now().Add(time.Hour)); len(vol) != 0 {
			t.Errorf("volume since later: %+v", vol)
		}
	})
}

func errorsIsInvalid(err error) bool {
	de, ok := domain.AsError(err)
	return ok && de.Kind == domain.ErrInvalid
}

func TestRedaction(t *testing.T) {
	body := payments.RedactBody("application/json", []byte(`{"id":"evt_1","data":{"client_secret":"pi_secret","card":{"cvc":"123","last4":"4242"},"list":[{"api_key":"k"}],"credentials":{"user":"u"}},"signature":"keep"}`))
	for _, gone := range []string{"pi_secret", `"123"`, `"k"`, `"u"`} {
		if strings.Contains(body, gone) {
			t.Errorf("%s kept in %s", gone, body)
		}
	}
	for _, kept := range []string{"4242", "keep", "evt_1"} {
		if !strings.Contains(body, kept) {
			t.Errorf("%s lost from %s", kept, body)
		}
	}
	if got := payments.RedactBody("application/x-www-form-urlencoded", []byte("ORDER_ID=1&PASSWORD=x&HASH=abc")); got != "HASH=abc&ORDER_ID=1&PASSWORD=%5Bredacted%5D" {
		t.Errorf("form: %s", got)
	}
	if got := payments.RedactBody("text/plain", []byte("plain")); got != "plain" {
		t.Errorf("text: %s", got)
	}
	h := payments.RedactHeaders(http.Header{"Authorization": {"Basic x"}, "Stripe-Signature": {"t=1,v1=abc"}, "X-Auth-Token": {"t"}})
	if h.Get("Authorization") != "[redacted]" || h.Get("X-Auth-Token") != "[redacted]" || h.Get("Stripe-Signature") != "t=1,v1=abc" {
		t.Errorf("headers: %v", h)
	}
}
