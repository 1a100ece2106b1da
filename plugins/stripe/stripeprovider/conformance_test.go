package stripeprovider

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/plugins/stripe/stripefake"
	"github.com/switchyard/switchyard/sdk/provider"
	"github.com/switchyard/switchyard/sdk/sdktest"
)

// completedEvent is a checkout.session.completed event in Stripe's format.
func completedEvent(t testing.TB, evtID, ref, sessionID string, amount int64, cur string) []byte {
	t.Helper()
	account, id, _ := strings.Cut(ref, "/")
	if id == "" {
		account, id = "", ref
	}
	ev := map[string]any{
		"id": evtID, "object": "event", "type": "checkout.session.completed",
		"api_version": "2023-10-16", "created": time.Now().Unix(), "livemode": false,
		"data": map[string]any{"object": map[string]any{
			"id": id, "object": "checkout.session", "mode": "payment",
			"amount_total": amount, "currency": strings.ToLower(cur),
			"client_reference_id": sessionID, "metadata": map[string]string{MetaSessionID: sessionID},
			"payment_intent": "pi_" + evtID, "payment_status": "paid", "status": "complete",
		}},
	}
	if account != "" {
		ev["account"] = account
	}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func signedRequest(body []byte, header string) provider.WebhookRequest {
	return provider.WebhookRequest{
		Method: http.MethodPost, Path: "/hooks/stripe/prv_1",
		Headers:    http.Header{"Content-Type": {"application/json"}, "Stripe-Signature": {header}},
		Body:       body,
		RemoteAddr: "3.18.12.63:443",
	}
}

func TestProviderConformance(t *testing.T) {
	fake := stripefake.New(t)
	settings := baseSettings(fake.URL())
	settings[SettingConnectClientID] = testClientID
	settings[SettingConnectStartSecret] = testStartToken
	client := sdktest.ProviderClient(t, New())
	sdktest.RunProviderConformance(t, client, sdktest.ProviderConformanceConfig{
		Settings:         settings,
		RequiredSettings: []string{SettingSecretKey, SettingWebhookSecrets},
		// Connect onboarding is the plugin's HTTP route: minting a start
		// link must answer 200.
		HTTPRoute: func(_ testing.TB, req provider.CreatePaymentRequest, _ provider.CreatePaymentResponse) provider.HTTPRequest {
			return provider.HTTPRequest{Method: http.MethodGet, Path: provider.AdminConnectStartLinkPath, Query: "merchant=42", BaseURL: req.ProviderBaseURL}
		},
		SignedWebhook: func(t testing.TB, req provider.CreatePaymentRequest, resp provider.CreatePaymentResponse) provider.WebhookRequest {
			amount, err := toStripeAmount(req.Amount, req.Currency)
			if err != nil {
				t.Fatal(err)
			}
			body := completedEvent(t, "evt_conformance_1", resp.ProviderRef, req.SessionID, amount, req.Currency)
			return signedRequest(body, SignPayload(testWhsec, time.Now(), body))
		},
		// The shopper completes the Checkout Session in the stateful fake;
		// Refund reads the payment intent from there.
		PayUpstream: func(t testing.TB, _ provider.Client, _ provider.CreatePaymentRequest, resp provider.CreatePaymentResponse) map[string]string {
			account, id, err := parseRef(resp.ProviderRef)
			if err != nil {
				t.Fatal(err)
			}
			fake.Pay(account, id)
			return nil
		},
	})
}

func TestGetPaymentAndRefundFollowStripeState(t *testing.T) {
	fake := stripefake.New(t)
	p := configured(t, baseSettings(fake.URL()))
	for _, account := range []string{"", "acct_1Merchant42"} {
		t.Run("account="+account, func(t *testing.T) {
			req := paymentRequest("cs_sy_state"+account, "KWD", 12340)
			req.MerchantAccount = account
			created, err := p.CreatePayment(ctx(t), req)
			if err != nil {
				t.Fatal(err)
			}
			got, err := p.GetPayment(ctx(t), provider.GetPaymentRequest{ProviderRef: created.ProviderRef})
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != provider.StatusPending || got.Amount != 12340 || got.Currency != "KWD" {
				t.Errorf("open session: %+v", got)
			}
			if _, err := p.Refund(ctx(t), provider.RefundRequest{ProviderRef: created.ProviderRef, IdempotencyKey: "rf0"}); err == nil {
				t.Error("refund of an unpaid session succeeded")
			}

			_, id, _ := parseRef(created.ProviderRef)
			fake.Pay(account, id)
			got, err = p.GetPayment(ctx(t), provider.GetPaymentRequest{ProviderRef: created.ProviderRef})
			if err != nil || got.Status != provider.StatusSucceeded {
				t.Fatalf("paid session: %+v, %v", got, err)
			}

			part, err := p.Refund(ctx(t), provider.RefundRequest{ProviderRef: created.ProviderRef, Amount: 2340, Currency: "KWD", IdempotencyKey: "rf1"})
			if err != nil || part.Amount != 2340 || part.Status != provider.RefundSucceeded {
				t.Fatalf("partial refund: %+v, %v", part, err)
			}
			again, err := p.Refund(ctx(t), provider.RefundRequest{ProviderRef: created.ProviderRef, Amount: 2340, Currency: "KWD", IdempotencyKey: "rf1"})
			if err != nil || again.RefundRef != part.RefundRef {
				t.Errorf("replayed refund: %+v, %v (first %s)", again, err, part.RefundRef)
			}
			rest, err := p.Refund(ctx(t), provider.RefundRequest{ProviderRef: created.ProviderRef, IdempotencyKey: "rf2"})
			if err != nil || rest.Amount != 10000 {
				t.Errorf("full refund of the rest: %+v, %v", rest, err)
			}
			if _, err := p.Refund(ctx(t), provider.RefundRequest{ProviderRef: created.ProviderRef, Amount: 10, Currency: "USD", IdempotencyKey: "rf3"}); err == nil {
				t.Error("refund in another currency succeeded")
			}
			if _, err := p.Refund(ctx(t), provider.RefundRequest{ProviderRef: created.ProviderRef, Amount: 15, IdempotencyKey: "rf4"}); err == nil {
				t.Error("refund of 0.015 KWD (last digit not 0) succeeded")
			}
		})
	}
}
