package stripeprovider

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/plugins/stripe/stripefake"
	"github.com/switchyard/switchyard/sdk"
	"github.com/switchyard/switchyard/sdk/provider"
)

var webhookNow = time.Date(2026, 11, 22, 2, 0, 0, 0, time.UTC)

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// lookupStripe answers the checkout-session-by-payment-intent lookup the
// way Stripe does for the fixtures' payment.
func lookupStripe(t *testing.T) *Provider {
	t.Helper()
	srv, _ := recordingStripe(t, func(w http.ResponseWriter, r recorded) {
		if r.method != http.MethodGet || r.path != "/v1/checkout/sessions" {
			stripefake.WriteError(w, 404, "invalid_request_error", "", "unexpected "+r.method+" "+r.path)
			return
		}
		data := []any{}
		switch r.form.Get("payment_intent") {
		case "pi_3ForeignIntegration01":
			// A list that ignores the filter must not attach the event.
			data = append(data, map[string]any{"id": "cs_test_unrelated", "object": "checkout.session",
				"client_reference_id": "cs_01JDSWITCHYARD0001", "payment_intent": "pi_somethingelse"})
		case "pi_3PgafyB7WZ01zgkW0001":
			data = append(data, map[string]any{
				"id": "cs_test_a1B2c3D4e5F6g7H8i9J0", "object": "checkout.session",
				"client_reference_id": "cs_01JDSWITCHYARD0001",
				"metadata":            map[string]string{MetaSessionID: "cs_01JDSWITCHYARD0001"},
				"payment_intent":      "pi_3PgafyB7WZ01zgkW0001",
			})
		}
		stripefake.WriteJSON(w, 200, map[string]any{"object": "list", "data": data, "has_more": false, "url": "/v1/checkout/sessions"})
	})
	settings := baseSettings(srv.URL)
	settings[SettingWebhookSecrets] = testWhsec + "," + testWhsecOld
	return configured(t, settings, WithClock(func() time.Time { return webhookNow }))
}

func sigAt(secret string, ts int64, body []byte) string {
	return SignPayload(secret, time.Unix(ts, 0), body)
}

func TestWebhookSignature(t *testing.T) {
	p := lookupStripe(t)
	body := fixture(t, "checkout_session_completed_paid.json")
	now := webhookNow.Unix()
	good := sigAt(testWhsec, now, body)
	goodV1 := strings.SplitN(good, ",v1=", 2)[1]
	wrongV1 := strings.SplitN(sigAt("whsec_not_the_configured_secret", now, body), ",v1=", 2)[1]
	ts := strconv.FormatInt(now, 10)

	cases := []struct {
		name   string
		header string
		body   []byte
		status int // 0: accepted with events
	}{
		{"valid", good, body, 0},
		{"valid with v0 alongside", good + ",v0=" + wrongV1, body, 0},
		{"rotated secret", sigAt(testWhsecOld, now, body), body, 0},
		{"two v1 values, second matches", "t=" + ts + ",v1=" + wrongV1 + ",v1=" + goodV1, body, 0},
		{"two v1 values, first matches", "t=" + ts + ",v1=" + goodV1 + ",v1=" + wrongV1, body, 0},
		{"299 s old", sigAt(testWhsec, now-299, body), body, 0},
		{"299 s ahead", sigAt(testWhsec, now+299, body), body, 0},
		{"tampered body", good, bytes.Replace(body, []byte(`"amount_total": 4995`), []byte(`"amount_total": 1`), 1), http.StatusUnauthorized},
		{"unknown secret", sigAt("whsec_some_other_endpoint_secret", now, body), body, http.StatusUnauthorized},
		{"two v1 values, none matches", "t=" + ts + ",v1=" + wrongV1 + ",v1=" + wrongV1, body, http.StatusUnauthorized},
		{"old", sigAt(testWhsec, now-301, body), body, http.StatusUnauthorized},
		{"future", sigAt(testWhsec, now+301, body), body, http.StatusUnauthorized},
		{"signature of another timestamp", "t=" + strconv.FormatInt(now+1, 10) + ",v1=" + goodV1, body, http.StatusUnauthorized},
		{"missing header", "", body, http.StatusBadRequest},
		{"garbage", "garbage", body, http.StatusBadRequest},
		{"missing t", "v1=" + goodV1, body, http.StatusBadRequest},
		{"non-numeric t", "t=yesterday,v1=" + goodV1, body, http.StatusBadRequest},
		{"negative t", "t=-1,v1=" + goodV1, body, http.StatusBadRequest},
		{"t twice", "t=" + ts + ",t=" + ts + ",v1=" + goodV1, body, http.StatusBadRequest},
		{"no v1", "t=" + ts, body, http.StatusBadRequest},
		{"only v0", "t=" + ts + ",v0=" + goodV1, body, http.StatusBadRequest},
		{"v1 not hex", "t=" + ts + ",v1=not-hex", body, http.StatusBadRequest},
		{"v1 truncated", "t=" + ts + ",v1=" + goodV1[:32], body, http.StatusBadRequest},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, err := p.HandleWebhook(ctx(t), signedRequest(c.body, c.header))
			if err != nil {
				t.Fatalf("HandleWebhook: %v", err)
			}
			if c.status == 0 {
				if resp.Response.Status != http.StatusOK || len(resp.Events) != 1 {
					t.Errorf("status %d, %d events; want 200 with 1 event (%s)", resp.Response.Status, len(resp.Events), resp.Response.Body)
				}
				return
			}
			if resp.Response.Status != c.status || len(resp.Events) != 0 {
				t.Errorf("status %d with %d events, want %d and none (%s)", resp.Response.Status, len(resp.Events), c.status, resp.Response.Body)
			}
			var msg struct {
				Error struct{ Code, Message string }
			}
			if json.Unmarshal(resp.Response.Body, &msg) != nil || msg.Error.Code == "" || msg.Error.Message == "" {
				t.Errorf("rejection body is not a clear error: %s", resp.Response.Body)
			}
			for _, s := range []string{testWhsec, testWhsecOld} {
				if bytes.Contains(resp.Response.Body, []byte(s)) {
					t.Errorf("rejection leaks a secret: %s", resp.Response.Body)
				}
			}
		})
	}
}

func TestWebhookEventMapping(t *testing.T) {
	p := lookupStripe(t)
	const (
		csRef   = "cs_test_a1B2c3D4e5F6g7H8i9J0"
		session = "cs_01JDSWITCHYARD0001"
	)
	type want struct {
		typ     provider.EventType
		ref     string
		session string
		amount  int64
		cur     string
		data    map[string]string
	}
	cases := []struct {
		file string
		want *want // nil: acknowledged, no events
	}{
		{"checkout_session_completed_paid.json", &want{provider.PaymentSucceeded, csRef, session, 4995, "USD",
			map[string]string{"payment_intent_id": "pi_3PgafyB7WZ01zgkW0001"}}},
		{"checkout_session_completed_unpaid.json", &want{provider.PaymentProcessing, csRef, session, 10000, "EUR", nil}},
		{"checkout_session_async_payment_succeeded.json", &want{provider.PaymentSucceeded, csRef, session, 4995, "USD", nil}},
		{"checkout_session_async_payment_failed.json", &want{provider.PaymentFailed, csRef, session, 4995, "USD", nil}},
		{"checkout_session_completed_connected.json", &want{provider.PaymentSucceeded, "acct_1Merchant42/" + csRef, session, 500, "JPY",
			map[string]string{"account": "acct_1Merchant42"}}},
		{"payment_intent_succeeded.json", &want{provider.PaymentSucceeded, csRef, session, 4995, "USD",
			map[string]string{"payment_intent_id": "pi_3PgafyB7WZ01zgkW0001"}}},
		{"payment_intent_payment_failed.json", &want{provider.PaymentFailed, csRef, session, 4995, "USD",
			map[string]string{"failure_code": "insufficient_funds", "failure_message": "Your card has insufficient funds."}}},
		{"charge_refunded_full.json", &want{provider.PaymentRefunded, csRef, session, 4995, "USD",
			map[string]string{"refund_id": "re_3PgafyB7WZ01zgkW0001", "amount_refunded": "4995", "charge_id": "ch_3PgafyB7WZ01zgkW0001"}}},
		{"charge_refunded_partial.json", &want{provider.PaymentPartiallyRefunded, csRef, session, 1500, "USD",
			map[string]string{"refund_id": "re_3PgafyB7WZ01zgkW0002", "amount_refunded": "2000"}}},
		{"charge_dispute_created.json", &want{provider.PaymentDisputed, csRef, session, 4995, "USD",
			map[string]string{"dispute_id": "dp_1PgafyB7WZ01zgkW0001", "reason": "fraudulent", "charge_id": "ch_3PgafyB7WZ01zgkW0001"}}},
		{"charge_dispute_closed_won.json", &want{provider.PaymentDisputeWon, csRef, session, 0, "USD",
			map[string]string{"dispute_id": "dp_1PgafyB7WZ01zgkW0001", "status": "won"}}},
		{"charge_dispute_closed_lost.json", &want{provider.PaymentDisputeLost, csRef, session, 4995, "USD",
			map[string]string{"dispute_id": "dp_1PgafyB7WZ01zgkW0001", "status": "lost"}}},
		{"customer_subscription_created.json", &want{provider.SubscriptionCreated, "", "", 0, "",
			map[string]string{"subscription_id": "sub_1PgafyB7WZ01zgkW0001", "plan": "price_1PgafyHosting",
				"next_billing_at": time.Unix(1766368900, 0).UTC().Format(time.RFC3339), "customer_id": "cus_Q7pkl3d1wFz0001"}}},
		{"customer_subscription_updated.json", &want{provider.SubscriptionUpdated, "", "", 0, "",
			map[string]string{"subscription_id": "sub_1PgafyB7WZ01zgkW0001", "changed": "cancel_at_period_end,cancellation_details", "cancel_at_period_end": "true"}}},
		{"customer_subscription_deleted.json", &want{provider.SubscriptionCanceled, "", "", 0, "",
			map[string]string{"subscription_id": "sub_1PgafyB7WZ01zgkW0001", "canceled_by": "cancellation_requested", "status": "canceled"}}},
		{"invoice_paid_renewal.json", &want{provider.SubscriptionRenewed, "", "", 4995, "USD",
			map[string]string{"subscription_id": "sub_1PgafyB7WZ01zgkW0001", "invoice_id": "in_1PgafyB7WZ01zgkW0002", "customer_id": "cus_Q7pkl3d1wFz0001"}}},
		{"invoice_payment_failed_renewal.json", &want{provider.SubscriptionPaymentFailed, "", "", 0, "USD",
			map[string]string{"subscription_id": "sub_1PgafyB7WZ01zgkW0001", "invoice_id": "in_1PgafyB7WZ01zgkW0002",
				"failure_code": "invoice_payment_failed", "failed_attempts": "2"}}},
		{"invoice_paid_first.json", nil},
		{"account_application_deauthorized.json", &want{provider.AccountDisconnected, "", "", 0, "",
			map[string]string{"account_id": "acct_1Merchant42", "application_id": "ca_switchyardTestClient0001"}}},
		{"customer_created.json", nil},
		{"charge_refunded_foreign.json", nil},
	}
	for _, c := range cases {
		t.Run(strings.TrimSuffix(c.file, ".json"), func(t *testing.T) {
			body := fixture(t, c.file)
			var raw struct {
				ID      string `json:"id"`
				Type    string `json:"type"`
				Created int64  `json:"created"`
			}
			if err := json.Unmarshal(body, &raw); err != nil {
				t.Fatal(err)
			}
			resp, err := p.HandleWebhook(ctx(t), signedRequest(body, sigAt(testWhsec, webhookNow.Unix(), body)))
			if err != nil {
				t.Fatalf("HandleWebhook: %v", err)
			}
			if resp.Response.Status != http.StatusOK {
				t.Errorf("status %d: %s", resp.Response.Status, resp.Response.Body)
			}
			if c.want == nil {
				if len(resp.Events) != 0 {
					t.Errorf("got events %+v, want none", resp.Events)
				}
				return
			}
			if len(resp.Events) != 1 {
				t.Fatalf("got %d events, want 1: %+v", len(resp.Events), resp.Events)
			}
			e := resp.Events[0]
			w := c.want
			if e.Type != w.typ || e.ProviderRef != w.ref || e.SessionID != w.session || e.Amount != w.amount || e.Currency != w.cur {
				t.Errorf("event %s ref=%q session=%q %d %q; want %s ref=%q session=%q %d %q",
					e.Type, e.ProviderRef, e.SessionID, e.Amount, e.Currency, w.typ, w.ref, w.session, w.amount, w.cur)
			}
			if e.ProviderEventID != raw.ID || e.RawType != raw.Type || !e.OccurredAt.Equal(time.Unix(raw.Created, 0)) {
				t.Errorf("event id %q type %q at %v; want %q %q %v", e.ProviderEventID, e.RawType, e.OccurredAt, raw.ID, raw.Type, time.Unix(raw.Created, 0))
			}
			for k, v := range w.data {
				if e.Data[k] != v {
					t.Errorf("Data[%s] = %q, want %q", k, e.Data[k], v)
				}
			}
			if !e.Type.Valid() {
				t.Errorf("type %q is not normalized", e.Type)
			}
		})
	}
}

func TestWebhookPolicies(t *testing.T) {
	p := lookupStripe(t)
	send := func(t *testing.T, body []byte) provider.WebhookResponse {
		t.Helper()
		resp, err := p.HandleWebhook(ctx(t), signedRequest(body, sigAt(testWhsec, webhookNow.Unix(), body)))
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	t.Run("other api version is still mapped", func(t *testing.T) {
		body := bytes.Replace(fixture(t, "checkout_session_completed_paid.json"), []byte(`"2023-10-16"`), []byte(`"2025-03-31.basil"`), 1)
		resp := send(t, body)
		if len(resp.Events) != 1 || resp.Events[0].Type != provider.PaymentSucceeded {
			t.Errorf("events %+v", resp.Events)
		}
	})
	t.Run("livemode mismatch is acknowledged, not applied", func(t *testing.T) {
		body := bytes.Replace(fixture(t, "checkout_session_completed_paid.json"), []byte(`"livemode": false,`), []byte(`"livemode": true,`), 1)
		resp := send(t, body)
		if resp.Response.Status != http.StatusOK || len(resp.Events) != 0 {
			t.Errorf("status %d, events %+v", resp.Response.Status, resp.Events)
		}
	})
	t.Run("deauthorization of another platform's application is ignored", func(t *testing.T) {
		settings := baseSettings("http://127.0.0.1:1")
		settings[SettingConnectClientID] = "ca_someOtherPlatform0001"
		settings[SettingConnectStartSecret] = testStartToken
		other := configured(t, settings, WithClock(func() time.Time { return webhookNow }))
		body := fixture(t, "account_application_deauthorized.json")
		resp, err := other.HandleWebhook(ctx(t), signedRequest(body, sigAt(testWhsec, webhookNow.Unix(), body)))
		if err != nil || resp.Response.Status != http.StatusOK || len(resp.Events) != 0 {
			t.Errorf("status %d, events %+v, err %v", resp.Response.Status, resp.Events, err)
		}
	})
	t.Run("deauthorization without an account is ignored", func(t *testing.T) {
		body := bytes.Replace(fixture(t, "account_application_deauthorized.json"), []byte(`"account": "acct_1Merchant42",`), nil, 1)
		if resp := send(t, body); resp.Response.Status != http.StatusOK || len(resp.Events) != 0 {
			t.Errorf("status %d, events %+v", resp.Response.Status, resp.Events)
		}
	})
	t.Run("signed non-event", func(t *testing.T) {
		resp := send(t, []byte(`{"hello":"world"}`))
		if resp.Response.Status != http.StatusBadRequest || len(resp.Events) != 0 {
			t.Errorf("status %d, events %+v", resp.Response.Status, resp.Events)
		}
	})
	t.Run("GET", func(t *testing.T) {
		req := signedRequest(nil, "")
		req.Method = http.MethodGet
		resp, err := p.HandleWebhook(ctx(t), req)
		if err != nil || resp.Response.Status != http.StatusMethodNotAllowed {
			t.Errorf("status %d, %v", resp.Response.Status, err)
		}
	})
	t.Run("lookup failure is retried by Stripe", func(t *testing.T) {
		srv, _ := recordingStripe(t, func(w http.ResponseWriter, r recorded) {
			w.Header().Set("Stripe-Should-Retry", "false")
			stripefake.WriteError(w, 500, "api_error", "", "down")
		})
		broken := configured(t, baseSettings(srv.URL), WithClock(func() time.Time { return webhookNow }))
		body := fixture(t, "charge_refunded_full.json")
		_, err := broken.HandleWebhook(ctx(t), signedRequest(body, sigAt(testWhsec, webhookNow.Unix(), body)))
		if sdk.CategoryOf(err) != sdk.CategoryUnavailable {
			t.Errorf("got %v, want unavailable (host answers 5xx, Stripe redelivers)", err)
		}
	})
}
