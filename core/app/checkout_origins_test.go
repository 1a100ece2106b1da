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
// stateful Stripe fake) under the composed app: with the instance's
// page_origins configured, choosing a method on the hosted checkout 303s
// straight to Stripe's page and the checkout's form-action lists that
// origin; without them the shopper gets the hand-off page. A disabled
// instance's origins are never listed.
func TestCheckoutProviderPageOrigins(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and launches the stripe plugin binary")
	}
	pluginDir := filepath.Dir(stripeBins.Plugin(t, "stripe"))
	fake := stripefake.New(t)

	for _, tc := range []struct {
		name    string
		origins string // YAML list for the stripe instance
		direct  bool
	}{
		{"listed origin: direct 303", `["https://checkout.stripe.com"]`, true},
		{"no origins: hand-off page", `[]`, false},
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
			if got := strings.Contains(csp, "form-action 'self' https://checkout.stripe.com;"); got != tc.direct {
				t.Errorf("CSP %q: lists https://checkout.stripe.com = %v, want %v", csp, got, tc.direct)
			}
			switch {
			case tc.direct && status == http.StatusSeeOther && strings.HasPrefix(hdr.Get("Location"), "https://checkout.stripe.com/"):
			case !tc.direct && status == http.StatusOK && strings.Contains(string(body), `href="https://checkout.stripe.com/`):
			default:
				t.Fatalf("pay = %d Location=%q, want direct=%v:\n%s", status, hdr.Get("Location"), tc.direct, body)
			}
		})
	}
}
