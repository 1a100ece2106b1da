package sandbox_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/switchyard/switchyard/plugins/sandbox/sandbox"
	"github.com/switchyard/switchyard/sdk/provider"
	"github.com/switchyard/switchyard/sdk/sdktest"
)

const secret = "test-signing-secret-0123456789"

func settings() map[string]string {
	return map[string]string{sandbox.SettingSigningSecret: secret, sandbox.SettingLabel: "Test Sandbox"}
}

// signedSucceed plays the shopper pressing Succeed: the callback the pay
// page would post to the webhook intake.
func signedSucceed(t testing.TB, req provider.CreatePaymentRequest, resp provider.CreatePaymentResponse) provider.WebhookRequest {
	t.Helper()
	form := sandbox.SignCallback(secret, sandbox.Callback{
		Choice: sandbox.ChoiceSucceed, Ref: resp.ProviderRef, SessionID: req.SessionID,
		Amount: req.Amount, Currency: req.Currency, ReturnURL: req.ReturnURL, TS: time.Now(),
	})
	return provider.WebhookRequest{
		Method:     http.MethodPost,
		Path:       "/hooks/sandbox/prv_conformance",
		Headers:    http.Header{"Content-Type": {"application/x-www-form-urlencoded"}},
		Body:       []byte(form.Encode()),
		RemoteAddr: "127.0.0.1:50000",
	}
}

func TestConformance(t *testing.T) {
	p := sdktest.ProviderClient(t, sandbox.New())
	sdktest.RunProviderConformance(t, p, sdktest.ProviderConformanceConfig{
		Settings:         settings(),
		RequiredSettings: []string{sandbox.SettingSigningSecret},
		SignedWebhook:    signedSucceed,
		// The sandbox settles a payment when its pay page's signed
		// callback arrives, as after the shopper presses Succeed.
		PayUpstream: sdktest.PayWithWebhook(signedSucceed),
	})
}
