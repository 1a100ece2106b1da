package sdktest_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"testing"

	"github.com/switchyard/switchyard/sdk/provider"
	"github.com/switchyard/switchyard/sdk/sdktest"
)

// In your plugin's tests: serve the implementation through the real gRPC
// adapters and run the suite, with a webhook signed the way your upstream
// signs it.
func ExampleRunProviderConformance() {
	const secret = "test-webhook-secret"
	signedSucceed := func(t testing.TB, req provider.CreatePaymentRequest, resp provider.CreatePaymentResponse) provider.WebhookRequest {
		body := fmt.Sprintf(`{"Ref":%q,"Session":%q,"Currency":%q,"Amount":%d}`, resp.ProviderRef, req.SessionID, req.Currency, req.Amount)
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write([]byte(body))
		return provider.WebhookRequest{Method: http.MethodPost, Body: []byte(body),
			Headers: http.Header{"Paged-Signature": {hex.EncodeToString(mac.Sum(nil))}}}
	}
	_ = func(t *testing.T) { // func TestConformance(t *testing.T)
		p := sdktest.ProviderClient(t, &pagedProvider{}) // your provider.Provider
		sdktest.RunProviderConformance(t, p, sdktest.ProviderConformanceConfig{
			Settings:         map[string]string{"key": secret},
			RequiredSettings: []string{"key"},
			SignedWebhook:    signedSucceed,
		})
	}
}
