package main

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/plugins/stripe/stripefake"
	"github.com/switchyard/switchyard/plugins/stripe/stripemock"
	"github.com/switchyard/switchyard/plugins/stripe/stripeprovider"
	"github.com/switchyard/switchyard/sdk/host"
	"github.com/switchyard/switchyard/sdk/provider"
	"github.com/switchyard/switchyard/sdk/sdktest"
)

const webhookSecret = "whsec_binary_test_secret_00000001"

func buildPlugin(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the plugin binary")
	}
	bin := filepath.Join(t.TempDir(), "stripe")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func settings(apiBase string) map[string]string {
	return map[string]string{
		stripeprovider.SettingSecretKey:      "sk_test_BinaryConformance0000",
		stripeprovider.SettingWebhookSecrets: webhookSecret,
		stripeprovider.SettingAPIBase:        apiBase,
	}
}

// TestBinary builds the real plugin binary once and runs it as the host
// will: launched by go-plugin, spoken to over gRPC.
func TestBinary(t *testing.T) {
	bin := buildPlugin(t)
	t.Run("conformance", func(t *testing.T) { binaryConformance(t, bin) })
	t.Run("stripe-mock", func(t *testing.T) { binaryAgainstStripeMock(t, bin) })
}

// binaryConformance runs the provider conformance suite against the
// launched process, with a stateful Stripe fake behind it.
func binaryConformance(t *testing.T, bin string) {
	p := sdktest.LaunchProvider(t, bin, host.Options{})
	fake := stripefake.New(t)
	s := settings(fake.URL())
	s[stripeprovider.SettingConnectClientID] = "ca_conformance0000"
	s[stripeprovider.SettingConnectStartSecret] = "conformance-connect-start-secret-0123456789"
	sdktest.RunProviderConformance(t, p, sdktest.ProviderConformanceConfig{
		Settings:         s,
		RequiredSettings: []string{stripeprovider.SettingSecretKey, stripeprovider.SettingWebhookSecrets},
		// Connect onboarding is the plugin's HTTP route: minting a start
		// link must answer 200.
		HTTPRoute: func(_ testing.TB, req provider.CreatePaymentRequest, _ provider.CreatePaymentResponse) provider.HTTPRequest {
			return provider.HTTPRequest{Method: http.MethodGet, Path: provider.AdminConnectStartLinkPath, Query: "merchant=42", BaseURL: req.ProviderBaseURL}
		},

		SignedWebhook: func(t testing.TB, req provider.CreatePaymentRequest, resp provider.CreatePaymentResponse) provider.WebhookRequest {
			body, err := json.Marshal(map[string]any{
				"id": "evt_binary_1", "object": "event", "type": "checkout.session.completed",
				"api_version": "2023-10-16", "created": time.Now().Unix(), "livemode": false,
				"data": map[string]any{"object": map[string]any{
					"id": resp.ProviderRef, "object": "checkout.session", "amount_total": req.Amount,
					"currency": strings.ToLower(req.Currency), "client_reference_id": req.SessionID,
					"payment_status": "paid", "status": "complete",
				}},
			})
			if err != nil {
				t.Fatal(err)
			}
			return provider.WebhookRequest{
				Method: http.MethodPost, Path: "/hooks/stripe/prv_conformance",
				Headers: http.Header{"Stripe-Signature": {stripeprovider.SignPayload(webhookSecret, time.Now(), body)}},
				Body:    body,
			}
		},
		// The shopper completes the Checkout Session in the stateful fake
		// (ProviderRef is the session id, after "acct_…/" on a connected
		// account); Refund reads the payment intent from there.
		PayUpstream: func(_ testing.TB, _ provider.Client, _ provider.CreatePaymentRequest, resp provider.CreatePaymentResponse) map[string]string {
			account, id, connected := strings.Cut(resp.ProviderRef, "/")
			if !connected {
				account, id = "", resp.ProviderRef
			}
			fake.Pay(account, id)
			return nil
		},
	})
}

// binaryAgainstStripeMock: the launched plugin creates a Checkout Session
// that stripe-mock accepts against Stripe's OpenAPI spec.
func binaryAgainstStripeMock(t *testing.T, bin string) {
	base := stripemock.Start(t)
	p := sdktest.LaunchProvider(t, bin, host.Options{})
	ctx := t.Context()
	if err := p.Configure(ctx, settings(base)); err != nil {
		t.Fatal(err)
	}
	resp, err := p.CreatePayment(ctx, provider.CreatePaymentRequest{
		SessionID: "cs_binary_1", AttemptID: "att_1", IdempotencyKey: "cs_binary_1:att_1",
		Amount: 4995, Currency: "USD", Method: "card",
		ReturnURL:       "https://pay.example.test/checkout/cs_binary_1/return",
		CancelURL:       "https://pay.example.test/checkout/cs_binary_1",
		WebhookURL:      "https://pay.example.test/hooks/stripe/stripe",
		ProviderBaseURL: "https://pay.example.test/p/stripe",
		MerchantAccount: "acct_1BinaryMerchant",
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(resp.ProviderRef, "acct_1BinaryMerchant/cs_") || resp.NextAction.Type != provider.NextActionRedirect {
		t.Errorf("CreatePayment = %+v", resp)
	}
}
