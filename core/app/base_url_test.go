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
)

// TestPublicBaseURLFollowsBoundPort serves on public.addr port 0: without
// public.base_url, checkout URLs and the provider page a payment is sent
// to carry the port the listener got; with it, base_url wins.
func TestPublicBaseURLFollowsBoundPort(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and launches the sandbox plugin binary")
	}
	pluginDir := filepath.Dir(bins.Plugin(t, "sandbox"))
	for _, tc := range []struct {
		name    string
		baseURL string // "" leaves public.base_url unset
	}{
		{"no base_url: the bound port", ""},
		{"base_url set: used as is", "https://pay.example.test"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			yaml := fmt.Sprintf(`
public: {addr: "127.0.0.1:0", base_url: %q}
admin: {addr: "127.0.0.1:0", tokens: [%q]}
store: {dsn: %q}
secrets: {keys: [{id: k1, key: MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=}]}
plugins:
  dir: %q
  instances:
    - {id: sandbox, kind: provider, binary: sandbox, settings: {signing_secret: base-url-test-signing-secret}}
routing:
  rules:
    - method: card
      providers: [{id: sandbox}]
`, tc.baseURL, adminToken, "sqlite:"+filepath.Join(dir, "sy.db"), pluginDir)
			path := filepath.Join(dir, "sy.yaml")
			if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg, err := config.Load(config.LoadOptions{Path: path, Environ: func() []string { return nil }})
			if err != nil {
				t.Fatal(err)
			}
			a, l, _ := startApp(t, cfg)
			listener := "http://" + l.Public
			if strings.HasSuffix(l.Public, ":0") {
				t.Fatalf("listening on %s", l.Public)
			}
			want := tc.baseURL
			if want == "" {
				want = listener
			}
			if got := a.PublicBaseURL(); got != want {
				t.Fatalf("PublicBaseURL() = %s, want %s", got, want)
			}

			ctx := context.Background()
			m, err := a.Merchants.CreateMerchant(ctx, merchants.NewMerchant{Name: "Ports", Plan: "free",
				ContactEmail: "ops@shop.example", Domains: []string{"shop.example"}})
			if err != nil {
				t.Fatal(err)
			}
			k, err := a.Merchants.CreateKey(ctx, merchants.NewKey{MerchantID: m.ID, Mode: "test", Name: "ports"})
			if err != nil {
				t.Fatal(err)
			}
			// payproEnv's helpers are plain HTTP against the public listener.
			e := &payproEnv{base: listener, key: k.Secret, c: &http.Client{
				Timeout:       30 * time.Second,
				CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
			}}
			s := e.createSession(t)
			if s.CheckoutURL != want+"/checkout/"+s.SessionID {
				t.Fatalf("checkout_url = %s, want it on %s", s.CheckoutURL, want)
			}
			// The payments service built the provider's URLs from it too:
			// the sandbox page it redirects to lives under /p/sandbox.
			status, hdr, body := e.do(t, http.MethodPost, "/checkout/"+s.SessionID+"/pay",
				strings.NewReader("method=card"), http.Header{"Content-Type": {"application/x-www-form-urlencoded"}})
			target := hdr.Get("Location")
			if status != http.StatusSeeOther || !strings.HasPrefix(target, want+"/p/sandbox/pay/") {
				t.Fatalf("pay = %d, provider page %q, want it under %s/p/sandbox/pay/\n%s", status, target, want, body)
			}
			if tc.baseURL == "" {
				// And the page is really there, on the listener.
				status, _, page := e.do(t, http.MethodGet, strings.TrimPrefix(target, listener), nil, nil)
				if status != http.StatusOK {
					t.Fatalf("GET sandbox page = %d: %s", status, page)
				}
			}
		})
	}
}
