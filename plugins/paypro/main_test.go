package main

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/switchyard/switchyard/plugins/paypro/ipn"
	"github.com/switchyard/switchyard/plugins/paypro/payproprovider"
	"github.com/switchyard/switchyard/sdk/host"
	"github.com/switchyard/switchyard/sdk/provider"
	"github.com/switchyard/switchyard/sdk/sdktest"
)

const (
	validationKey = "vk_binary_5e1f2a"
	secretKey     = "sk_binary_91bc"
)

// TestBinaryConformance builds the real plugin binary and runs the provider
// conformance suite against it as the host runs it: launched by go-plugin,
// spoken to over gRPC.
func TestBinaryConformance(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the plugin binary")
	}
	bin := filepath.Join(t.TempDir(), "paypro")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	p := sdktest.LaunchProvider(t, bin, host.Options{})
	sdktest.RunProviderConformance(t, p, sdktest.ProviderConformanceConfig{
		Settings: map[string]string{
			payproprovider.SettingValidationKey:  validationKey,
			payproprovider.SettingSecretKey:      secretKey,
			payproprovider.SettingDefaultProduct: "68452",
		},
		RequiredSettings: []string{payproprovider.SettingValidationKey},
		SignedWebhook: func(t testing.TB, _ provider.CreatePaymentRequest, resp provider.CreatePaymentResponse) provider.WebhookRequest {
			v, err := ipn.Simulation{Type: ipn.OrderCharged, CheckoutURL: resp.NextAction.URL,
				Keys: ipn.Keys{ValidationKey: validationKey, SecretKey: secretKey}}.Build()
			if err != nil {
				t.Fatal(err)
			}
			return provider.WebhookRequest{
				Method: http.MethodPost, Path: "/hooks/paypro/prv_conformance",
				Headers:    http.Header{"Content-Type": {"application/x-www-form-urlencoded"}},
				Body:       []byte(v.Encode()),
				RemoteAddr: "157.230.8.40:39012",
			}
		},
	})
}
