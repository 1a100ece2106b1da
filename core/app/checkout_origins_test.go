package app_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/config"
	"github.com/switchyard/switchyard/core/merchants"
	"github.com/switchyard/switchyard/plugins/stripe/stripefake"
)

// TestCheckoutProviderPageOrigins runs the real stripe plugin (against the
// stateful Stripe fake) under the composed app: the plugin reports
// https://checkout.stripe.com in Describe, so with no page_origins
// configured choosing a method on the hosted checkout 303s straight to
// Stripe's page and the checkout's form-action lists that origin;
// configured origins are added before it. A disabled instance's origins are
// never listed. (The hand-off page for unlisted origins is covered in
// core/httpapi.)
func TestCheckoutProviderPageOrigins(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and launches the stripe plugin binary")
	}
	pluginDir := filepath.Dir(stripeBins.Plugin(t, "stripe"))
	fake := stripefake.New(t)

	for _, tc := range []struct {
		name    string
		origins string // YAML list for the stripe instance
		form    string // the CSP's form-action
	}{
		{"reported by the plugin", `[]`, "form-action 'self' https://checkout.stripe.com;"},
		{"configured and reported", `["https://custom.checkout.example", "https://checkout.stripe.com"]`,
			"form-action 'self' https://custom.checkout.example https://checkout.stripe.com;"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			yaml := fmt.Sprintf(`
public: {addr: "127.0.0.1:0"}
admin: {addr: "127.0.0.1:0", tokens: [%q]}
store: {dsn: %q}
secrets: {keys: [{id: k1, key: MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=}]}
plugins:
  dir: %q
  instances:
    - id: stripe
      kind: provider
      binary: stripe
      page_origins: %s
      settings:
        secret_key: sk_test_SwitchyardOrigins0000
        webhook_secrets: %q
        mode: test
        api_base: %q
    - id: paypro
      kind: provider
      binary: paypro
      enabled: false
      page_origins: ["https://disabled.example"]
routing:
  rules:
    - method: card
      providers: [{id: stripe, weight: 100}]
`, adminToken, "sqlite:"+filepath.Join(dir, "sy.db"), pluginDir, tc.origins, stripeE2EWebhookSecret, fake.URL())
			path := filepath.Join(dir, "sy.yaml")
			if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg, err := config.Load(config.LoadOptions{Path: path, Environ: func() []string { return nil }})
			if err != nil {
				t.Fatal(err)
			}
			a, l, _ := startApp(t, cfg)
			ctx := context.Background()
			m, err := a.Merchants.CreateMerchant(ctx, merchants.NewMerchant{Name: "Origins", Plan: "free",
				ContactEmail: "ops@shop.example", Domains: []string{"shop.example"}})
			if err != nil {
				t.Fatal(err)
			}
			k, err := a.Merchants.CreateKey(ctx, merchants.NewKey{MerchantID: m.ID, Mode: "test", Name: "origins"})
			if err != nil {
				t.Fatal(err)
			}
			// payproEnv's helpers are plain HTTP against the public listener.
			e := &payproEnv{base: "http://" + l.Public, key: k.Secret, c: &http.Client{
				Timeout:       30 * time.Second,
				CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
			}}
			s := e.createSession(t)
			status, hdr, body := e.do(t, http.MethodPost, "/checkout/"+s.SessionID+"/pay",
				strings.NewReader("method=card"), http.Header{"Content-Type": {"application/x-www-form-urlencoded"}})

			csp := hdr.Get("Content-Security-Policy")
			if strings.Contains(csp, "disabled.example") {
				t.Errorf("CSP lists a disabled instance's origin: %s", csp)
			}
			if !strings.Contains(csp, tc.form) {
				t.Errorf("CSP %q lacks %q", csp, tc.form)
			}
			if status != http.StatusSeeOther || !strings.HasPrefix(hdr.Get("Location"), "https://checkout.stripe.com/") {
				t.Fatalf("pay = %d Location=%q, want a direct 303 to Stripe:\n%s", status, hdr.Get("Location"), body)
			}
		})
	}
}
