package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/config"
	"github.com/switchyard/switchyard/core/merchants"
	"github.com/switchyard/switchyard/internal/servetest"
	"github.com/switchyard/switchyard/plugins/paypro/ipn"
)

// TestModesRouteApart runs switchyard with real plugin binaries on SQLite
// and PostgreSQL: a sandbox instance in test mode (the default), a PayPro
// instance in live mode, and a sandbox instance configured live, which the
// host refuses (the sandbox is test only). The test sandbox ranks first for
// card and the refused live sandbox second, so a router that ignored modes,
// or a host that ran the live sandbox, would send a live session to a
// sandbox: a live key's session must go to PayPro's checkout link, a test
// key's to the test sandbox's page, and the live session is paid only by a
// signed IPN through its own instance.
func TestModesRouteApart(t *testing.T) {
	servetest.Stores(t, func(t *testing.T, dsn string) { modesRouteApart(t, modesConfig(t, dsn)) })
}

func modesConfig(t *testing.T, dsn string) *config.Config {
	t.Helper()
	dir := t.TempDir()
	yaml := fmt.Sprintf(`
public: {addr: "127.0.0.1:0"}
admin: {addr: "127.0.0.1:0", tokens: [%q]}
store: {dsn: %q}
secrets: {keys: [{id: k1, key: MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=}]}
plugins:
  dir: %q
  instances:
    - {id: sbx_test, kind: provider, binary: sandbox, settings: {signing_secret: modes-test-signing-secret-0}}
    - {id: sbx_live, kind: provider, binary: sandbox, mode: live, settings: {signing_secret: modes-test-signing-secret-1}}
    - id: pp_live
      kind: provider
      binary: paypro
      mode: live
      settings: {validation_key: %s, secret_key: %s, default_product: "68452", ip_allowlist: "127.0.0.1, ::1"}
routing:
  rules:
    - method: card
      providers: [{id: sbx_test, priority: 0}, {id: sbx_live, priority: 1}, {id: pp_live, priority: 2}]
`, adminToken, dsn, filepath.Dir(bins.Plugin(t, "sandbox")), ppValidationKey, ppSecretKey)
	if paypro := bins.Plugin(t, "paypro"); filepath.Dir(paypro) != filepath.Dir(bins.Plugin(t, "sandbox")) {
		t.Fatalf("plugins built into different directories: %s", paypro)
	}
	path := filepath.Join(dir, "sy.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(config.LoadOptions{Path: path, Environ: func() []string { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func modesRouteApart(t *testing.T, cfg *config.Config) {
	a, l, _ := startApp(t, cfg)
	pub := "http://" + l.Public
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	m, err := a.Merchants.CreateMerchant(ctx, merchants.NewMerchant{Name: "Modes", Plan: "free",
		ContactEmail: "ops@shop.example", Domains: []string{"shop.example"}})
	if err != nil {
		t.Fatal(err)
	}
	noRedirect := &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, tc := range []struct{ mode, page string }{{"live", "x-switchyard-session="}, {"test", "/p/sbx_test/pay/"}} {
		t.Run(tc.mode, func(t *testing.T) {
			k, err := a.Merchants.CreateKey(ctx, merchants.NewKey{MerchantID: m.ID, Mode: tc.mode, Name: tc.mode})
			if err != nil {
				t.Fatal(err)
			}
			auth := http.Header{"Authorization": {"Bearer " + k.Secret}, "Content-Type": {"application/json"}}
			resp, body := send(t, http.MethodPost, pub+"/v1/sessions", auth,
				`{"domain":"shop.example","amount":"12.50","currency":"USD","order_id":"MODE-`+tc.mode+`"}`)
			var sess struct {
				SessionID string `json:"session_id"`
				Mode      string `json:"mode"`
				Status    string `json:"status"`
			}
			if err := json.Unmarshal([]byte(body), &sess); err != nil || resp.StatusCode != http.StatusCreated || sess.Mode != tc.mode {
				t.Fatalf("create session: %d %s", resp.StatusCode, body)
			}
			pay, err := noRedirect.PostForm(pub+"/checkout/"+sess.SessionID+"/pay", url.Values{"method": {"card"}})
			if err != nil {
				t.Fatal(err)
			}
			pay.Body.Close()
			page := pay.Header.Get("Location")
			if pay.StatusCode != http.StatusSeeOther || !strings.Contains(page, tc.page) {
				t.Fatalf("%s session: pay = %d to %q, want a page with %q", tc.mode, pay.StatusCode, page, tc.page)
			}
			if tc.mode != "live" {
				return
			}
			v, err := ipn.Simulation{Type: ipn.OrderCharged, CheckoutURL: page,
				Keys: ipn.Keys{ValidationKey: ppValidationKey, SecretKey: ppSecretKey}}.Build()
			if err != nil {
				t.Fatal(err)
			}
			if r, err := ipn.Post(ctx, noRedirect, pub+"/hooks/paypro/pp_live", v); err != nil || r.Status != http.StatusOK {
				t.Fatalf("signed IPN through pp_live: %d %v", r.Status, err)
			}
			_, body = send(t, http.MethodGet, pub+"/v1/sessions/"+sess.SessionID, auth, "")
			if err := json.Unmarshal([]byte(body), &sess); err != nil || sess.Status != "paid" {
				t.Fatalf("live session after its instance's callback: %s", body)
			}
		})
	}
}
