package payproprovider

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/plugins/paypro/ipn"
	"github.com/switchyard/switchyard/sdk/provider"
)

const (
	testValidationKey = "vk_9c2e71d04f8a4b6e"
	testSecretKey     = "sk_wErt6HmQ"
	payproAddr        = "198.199.123.239:49152"
)

var testNow = time.Date(2026, 11, 22, 2, 0, 0, 0, time.UTC)

func baseSettings() map[string]string {
	return map[string]string{
		SettingValidationKey:  testValidationKey,
		SettingSecretKey:      testSecretKey,
		SettingDefaultProduct: "68452",
	}
}

// configured returns a configured provider; extra overrides baseSettings
// (an empty value deletes the key).
func configured(t *testing.T, extra map[string]string) *Provider {
	t.Helper()
	s := baseSettings()
	for k, v := range extra {
		if v == "" {
			delete(s, k)
		} else {
			s[k] = v
		}
	}
	p := New(WithClock(func() time.Time { return testNow }))
	if err := p.Configure(context.Background(), s); err != nil {
		t.Fatalf("Configure: %v", err)
	}
	return p
}

func paymentRequest(session string, amount int64, currency string) provider.CreatePaymentRequest {
	return provider.CreatePaymentRequest{
		SessionID: session, AttemptID: "att_" + session, IdempotencyKey: "att_" + session,
		Amount: amount, Currency: currency, Method: MethodCard, CustomerEmail: "jane.doe@example.com",
		ReturnURL:  "https://pay.example.com/checkout/" + session + "/return",
		WebhookURL: "https://pay.example.com/hooks/paypro/prv_1", ProviderBaseURL: "https://pay.example.com/p/prv_1",
	}
}

// checkout creates a payment and returns its redirect URL.
func checkout(t *testing.T, p provider.Provider, req provider.CreatePaymentRequest) provider.CreatePaymentResponse {
	t.Helper()
	resp, err := p.CreatePayment(context.Background(), req)
	if err != nil {
		t.Fatalf("CreatePayment: %v", err)
	}
	return resp
}

func fixture(t *testing.T, name string) url.Values {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "ipn", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	v, err := url.ParseQuery(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// fixtureByType finds the testdata fixture of an IPN type.
func fixtureByType(t *testing.T, ty ipn.Type) url.Values {
	t.Helper()
	matches, _ := filepath.Glob(filepath.Join("..", "ipn", "testdata", "[0-9][0-9]_"+ty.String()+".form"))
	if len(matches) != 1 {
		t.Fatalf("no fixture for %s", ty)
	}
	return fixture(t, filepath.Base(matches[0]))
}

// forCheckout answers a checkout URL the way PayPro would, then signs.
func forCheckout(t *testing.T, v url.Values, checkoutURL string) url.Values {
	t.Helper()
	if checkoutURL != "" {
		if err := ipn.FromCheckout(v, checkoutURL); err != nil {
			t.Fatal(err)
		}
	}
	ipn.Sign(v, ipn.Keys{ValidationKey: testValidationKey, SecretKey: testSecretKey})
	return v
}

func webhook(v url.Values, remote string) provider.WebhookRequest {
	return provider.WebhookRequest{
		Method: http.MethodPost, Path: "/hooks/paypro/prv_1",
		Headers:    http.Header{"Content-Type": {"application/x-www-form-urlencoded"}},
		Body:       []byte(v.Encode()),
		RemoteAddr: remote,
	}
}

func handle(t *testing.T, p provider.Provider, req provider.WebhookRequest) provider.WebhookResponse {
	t.Helper()
	resp, err := p.HandleWebhook(context.Background(), req)
	if err != nil {
		t.Fatalf("HandleWebhook: %v", err)
	}
	return resp
}

func status(r provider.WebhookResponse) int {
	if r.Response.Status == 0 {
		return http.StatusOK
	}
	return r.Response.Status
}
