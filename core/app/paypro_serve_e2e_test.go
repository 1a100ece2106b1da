package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyard/switchyard/config"
	"github.com/switchyard/switchyard/core/merchants"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/core/webhooks"
	"github.com/switchyard/switchyard/plugins/paypro/ipn"
	"github.com/switchyard/switchyard/webhook"
)

// TestPayProServe runs the whole product: the composed app (switchyard
// serve's wiring) launches the real PayPro plugin binary from its plugin
// directory; a session is created over the merchant API and started on the
// hosted checkout; the real `switchyard simulate paypro` command then plays
// PayPro, answering the checkout link with signed IPNs.
func TestPayProServe(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the switchyard and paypro binaries")
	}
	plugin := bins.Plugin(t, "paypro")
	cli := bins.Switchyard(t)
	dir := t.TempDir()
	yaml := `
public: {addr: "127.0.0.1:0"}
admin: {addr: "127.0.0.1:0", tokens: ["` + adminToken + `"]}
store: {dsn: "sqlite:` + filepath.Join(dir, "sy.db") + `"}
secrets: {keys: [{id: k1, key: MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=}]}
plugins:
  dir: "` + filepath.Dir(plugin) + `"
  instances:
    - id: paypro
      kind: provider
      binary: paypro
      mode: live
      settings:
        validation_key: ` + ppValidationKey + `
        secret_key: ` + ppSecretKey + `
        default_product: "68452"
        ip_allowlist: "127.0.0.1, ::1"
routing:
  rules:
    - method: card
      providers: [{id: paypro, weight: 100}]
webhooks: {allow_private_targets: true}
`
	path := filepath.Join(dir, "sy.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(config.LoadOptions{Path: path, Environ: func() []string { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	a, l, _ := startApp(t, cfg)
	base := "http://" + l.Public

	m, err := a.Merchants.CreateMerchant(ctx, merchants.NewMerchant{Name: "PayPro Shop", Plan: "free", ContactEmail: "ops@shop.example", Domains: []string{"shop.example"}})
	if err != nil {
		t.Fatal(err)
	}
	k, err := a.Merchants.CreateKey(ctx, merchants.NewKey{MerchantID: m.ID, Mode: "live", Name: "e2e"})
	if err != nil {
		t.Fatal(err)
	}
	e := &payproEnv{base: base, key: k.Secret, c: &http.Client{
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
	s := e.createSession(t)
	redirect := checkoutRedirect(t, e, s)
	if !strings.Contains(redirect, "x-switchyard-session="+s.SessionID) {
		t.Fatalf("checkout link %q does not carry the session", redirect)
	}

	simulateWant := func(want string, args ...string) string {
		t.Helper()
		cmd := exec.Command(cli, append([]string{"simulate", "paypro", "--url", base + "/hooks/paypro/paypro", "--checkout-url", redirect}, args...)...)
		cmd.Env = append(hermeticEnv(), "PAYPRO_VALIDATION_KEY="+ppValidationKey, "PAYPRO_SECRET_KEY="+ppSecretKey)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		// simulate exits non-zero exactly when the endpoint answers non-2xx.
		if wantOK := strings.Contains(want, "200 OK"); (err == nil) != wantOK {
			t.Fatalf("switchyard simulate paypro %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr.String())
		}
		out = append(out, stderr.Bytes()...)
		if !strings.Contains(string(out), want) {
			t.Fatalf("simulate %s printed %q, want %q", strings.Join(args, " "), out, want)
		}
		return string(out)
	}
	simulate := func(args ...string) string {
		t.Helper()
		return simulateWant("→ 200 OK\nOK", args...)
	}
	events := func() []string {
		t.Helper()
		evs, err := store.NewRepo(a.Store.DB()).SessionEvents(ctx, s.SessionID)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, ev := range evs {
			out = append(out, ev.Type)
		}
		return out
	}

	simulate("--type", "OrderCharged")
	if got := e.status(t, s.SessionID); got != "paid" {
		t.Fatalf("after OrderCharged: %s, want paid", got)
	}
	simulate("--type", "OrderCharged")
	simulate("--type", "1", "--resent")
	if got := count(events(), "session.paid"); got != 1 {
		t.Errorf("session.paid recorded %d times, want 1", got)
	}
	simulate("--type", "OrderRefunded")
	if got := e.status(t, s.SessionID); got != "refunded" {
		t.Fatalf("after OrderRefunded: %s, want refunded", got)
	}
	simulate("--type", "OrderChargedBack")
	if got := e.status(t, s.SessionID); got != "disputed" {
		t.Fatalf("after OrderChargedBack: %s, want disputed", got)
	}
	simulate("--type", "OrderChargebackIsWon")
	simulate("--type", "OrderChargebackIsWon", "--resent")
	if got := e.status(t, s.SessionID); got != "refunded" {
		t.Fatalf("after OrderChargebackIsWon: %s, want refunded", got)
	}
	want := []string{"session.created", "session.paid", "session.refunded",
		// The refund was made in PayPro's dashboard: listed as a refund (source provider).
		"refund.created", "refund.succeeded", "session.disputed", "session.dispute_won"}
	if got := events(); !equalStrings(got, want) {
		t.Errorf("session events %v, want %v", got, want)
	}

	// The merchant sees the same through the API.
	status, _, body := e.do(t, http.MethodGet, "/v1/sessions/"+s.SessionID, nil, http.Header{"Authorization": {"Bearer " + e.key}})
	var view map[string]any
	if status != http.StatusOK || json.Unmarshal(body, &view) != nil {
		t.Fatalf("GET session: %d %s", status, body)
	}

	// LicenseRequested through serve: without a key generator PayPro is told
	// to retry; with one subscribed to license.requested, its verified answer
	// goes back to PayPro as the license key.
	simulateWant("→ 503", "--type", "LicenseRequested")
	// The secret is known only once the endpoint exists, and the request that
	// reads it comes through another process: hand it over atomically.
	var keygenSecret atomic.Pointer[string]
	keygen := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		secret := keygenSecret.Load()
		if secret == nil {
			http.Error(w, "no secret yet", http.StatusServiceUnavailable)
			return
		}
		if err := webhook.Verify("standard", []string{*secret}, r.Header, body, 5*time.Minute); err != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		_, _ = io.WriteString(w, "LIC-4242-E2E")
	}))
	defer keygen.Close()
	ep, err := a.Webhooks.CreateEndpoint(ctx, webhooks.NewEndpoint{MerchantID: m.ID, Site: "shop.example", URL: keygen.URL, EventTypes: []string{"license.requested"}})
	if err != nil {
		t.Fatal(err)
	}
	keygenSecret.Store(&ep.Secret)
	simulateWant("→ 200 OK\nLIC-4242-E2E", "--type", "LicenseRequested")

	// A forged IPN is refused by the plugin through the real intake.
	v, err := ipn.Simulation{Type: ipn.OrderCharged, CheckoutURL: redirect, Keys: ipn.Keys{ValidationKey: "forged", SecretKey: ppSecretKey}}.Build()
	if err != nil {
		t.Fatal(err)
	}
	if r, err := ipn.Post(ctx, e.c, base+"/hooks/paypro/paypro", v); err != nil || r.Status != http.StatusForbidden {
		t.Errorf("forged IPN: %d %v, want 403", r.Status, err)
	}
}
