package stripeprovider

import (
	"context"
	"testing"
	"time"

	"github.com/switchyard/switchyard/sdk/provider"
)

const (
	testSecretKey  = "sk_test_SwitchyardDummyKey000000000000"
	testWhsec      = "whsec_switchyard_test_secret_000000000001"
	testWhsecOld   = "whsec_switchyard_test_secret_rotated_0002"
	testClientID   = "ca_switchyardTestClient0001"
	testStartToken = "connect-start-secret-for-tests-0123456789"
)

func baseSettings(apiBase string) map[string]string {
	return map[string]string{
		SettingSecretKey:      testSecretKey,
		SettingWebhookSecrets: testWhsec,
		SettingMode:           ModeTest,
		SettingAPIBase:        apiBase,
	}
}

func configured(t *testing.T, settings map[string]string, opts ...Option) *Provider {
	t.Helper()
	p := New(opts...)
	if err := p.Configure(ctx(t), settings); err != nil {
		t.Fatalf("Configure: %v", err)
	}
	return p
}

func ctx(t testing.TB) context.Context {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

func paymentRequest(session, cur string, amount int64) provider.CreatePaymentRequest {
	return provider.CreatePaymentRequest{
		SessionID:       session,
		AttemptID:       session + "_a1",
		IdempotencyKey:  session + "_a1",
		Amount:          amount,
		Currency:        cur,
		Method:          MethodCard,
		CustomerEmail:   "shopper@example.com",
		Description:     "Order 1001",
		ReturnURL:       "https://pay.example.test/checkout/" + session + "/return",
		CancelURL:       "https://pay.example.test/checkout/" + session,
		WebhookURL:      "https://pay.example.test/hooks/stripe/prv_1",
		ProviderBaseURL: "https://pay.example.test/p/prv_1",
		Metadata:        map[string]string{"order_id": "1001"},
	}
}
