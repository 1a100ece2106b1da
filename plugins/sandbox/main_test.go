package main

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/switchyard/switchyard/plugins/sandbox/sandbox"
	"github.com/switchyard/switchyard/sdk/host"
	"github.com/switchyard/switchyard/sdk/provider"
	"github.com/switchyard/switchyard/sdk/sdktest"
)

// TestBinaryConformance builds the real plugin binary and runs the provider
// conformance suite against the launched process, as the host will see it.
func TestBinaryConformance(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the plugin binary")
	}
	bin := filepath.Join(t.TempDir(), "sandbox")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	p := sdktest.LaunchProvider(t, bin, host.Options{})
	sdktest.RunProviderConformance(t, p, sdktest.ProviderConformanceConfig{
		Settings:         map[string]string{sandbox.SettingSigningSecret: secret},
		RequiredSettings: []string{sandbox.SettingSigningSecret},
		SignedWebhook:    signedSucceed,
		PayUpstream:      sdktest.PayWithWebhook(signedSucceed),
	})
}

const secret = "binary-test-secret-0123456789"

// signedSucceed is the pay page's signed callback for the shopper pressing
// Succeed.
func signedSucceed(_ testing.TB, req provider.CreatePaymentRequest, resp provider.CreatePaymentResponse) provider.WebhookRequest {
	form := sandbox.SignCallback(secret, sandbox.Callback{
		Choice: sandbox.ChoiceSucceed, Ref: resp.ProviderRef, SessionID: req.SessionID,
		Amount: req.Amount, Currency: req.Currency, ReturnURL: req.ReturnURL, TS: time.Now(),
	})
	return provider.WebhookRequest{
		Method: http.MethodPost, Path: "/hooks/sandbox/prv_conformance",
		Headers: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}},
		Body:    []byte(form.Encode()),
	}
}
