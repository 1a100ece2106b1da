package sdktest_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/switchyard/switchyard/sdk/host"
	"github.com/switchyard/switchyard/sdk/provider"
	"github.com/switchyard/switchyard/sdk/sdktest"
)

// exampleDir is docs/plugins.md's second worked example.
const exampleDir = "../examples/redirectpay"

// TestRedirectPayExample builds the external-redirect example with go build,
// launches the binary as the host does and runs the provider conformance
// suite against it, signing notifications as RedirectPay would. The example
// must stay small enough to read in one sitting.
func TestRedirectPayExample(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a plugin binary")
	}
	src, err := os.ReadFile(filepath.Join(exampleDir, "main.go"))
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(src, []byte("\n")); n >= 150 {
		t.Errorf("the redirectpay example has %d lines; docs/plugins.md promises under 150", n)
	}
	bin := filepath.Join(t.TempDir(), "redirectpay")
	build := exec.Command("go", "build", "-o", bin, exampleDir)
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the example: %v\n%s", err, out)
	}
	const secret = "whsec-redirectpay-conformance"
	p := sdktest.LaunchProvider(t, bin, host.Options{SHA256: fileSHA256(t, bin)})
	sdktest.RunProviderConformance(t, p, sdktest.ProviderConformanceConfig{
		Settings:         map[string]string{"webhook_secret": secret},
		RequiredSettings: []string{"webhook_secret"},
		SignedWebhook: func(t testing.TB, req provider.CreatePaymentRequest, resp provider.CreatePaymentResponse) provider.WebhookRequest {
			body, err := json.Marshal(map[string]any{"ID": "rpevt_1", "Ref": resp.ProviderRef, "Session": req.SessionID,
				"Status": "paid", "Currency": req.Currency, "Amount": req.Amount, "At": time.Now().UTC()})
			if err != nil {
				t.Fatal(err)
			}
			mac := hmac.New(sha256.New, []byte(secret))
			mac.Write(body)
			return provider.WebhookRequest{Method: http.MethodPost, Path: "/hooks/redirectpay/prv_conformance", Body: body,
				Headers: http.Header{"Content-Type": {"application/json"}, "Redirectpay-Signature": {hex.EncodeToString(mac.Sum(nil))}}}
		},
	})
}
