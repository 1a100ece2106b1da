package app_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
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
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/core/store/storetest"
)

// TestModesRouteApart runs switchyard with two real sandbox plugin
// binaries, one configured test (by default) and one live, on SQLite and
// PostgreSQL. The test instance ranks first for card, so a router that
// ignored modes would send everyone there: a live key's session must go to
// the live instance's page, a test key's to the test one's, and the live
// session is paid through its own instance's signed page.
func TestModesRouteApart(t *testing.T) {
	if testing.Short() {
		t.Skip("launches the sandbox plugin binary")
	}
	dsns := map[string]string{"sqlite": "sqlite:" + filepath.Join(t.TempDir(), "sy.db")}
	if dsn := os.Getenv(storetest.EnvPostgresDSN); dsn != "" {
		b := make([]byte, 6)
		_, _ = rand.Read(b)
		schema := "modes_" + hex.EncodeToString(b)
		sep := "?"
		if strings.Contains(dsn, "?") {
			sep = "&"
		}
		dsns["postgres"] = dsn + sep + "search_path=" + schema
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if st, err := store.Open(ctx, dsn, store.Options{}); err == nil {
				_, _ = st.DB().ExecContext(ctx, "DROP SCHEMA IF EXISTS "+schema+" CASCADE")
				_ = st.Close()
			}
		})
	} else {
		t.Run("postgres", func(t *testing.T) { storetest.ForPostgres(t, func(*testing.T, *store.Store) {}) })
	}
	for name, dsn := range dsns {
		t.Run(name, func(t *testing.T) { modesRouteApart(t, modesConfig(t, dsn)) })
	}
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
routing:
  rules:
    - method: card
      providers: [{id: sbx_test, priority: 0}, {id: sbx_live, priority: 1}]
`, adminToken, dsn, filepath.Dir(bins.Plugin(t, "sandbox")))
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
	for _, tc := range []struct{ mode, instance string }{{"live", "sbx_live"}, {"test", "sbx_test"}} {
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
			if pay.StatusCode != http.StatusSeeOther || !strings.Contains(page, "/p/"+tc.instance+"/pay/") {
				t.Fatalf("%s session: pay = %d to %q, want the %s page", tc.mode, pay.StatusCode, page, tc.instance)
			}
			if tc.mode != "live" {
				return
			}
			_, pageHTML := send(t, http.MethodGet, page, nil, "")
			action, fields := sandboxForm(t, pageHTML, "succeed")
			if !strings.HasSuffix(action, "/hooks/sandbox/"+tc.instance) {
				t.Fatalf("the page posts to %s", action)
			}
			if resp, body := send(t, http.MethodPost, action, http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, fields.Encode()); resp.StatusCode >= 400 {
				t.Fatalf("sandbox callback: %d %s", resp.StatusCode, body)
			}
			_, body = send(t, http.MethodGet, pub+"/v1/sessions/"+sess.SessionID, auth, "")
			if err := json.Unmarshal([]byte(body), &sess); err != nil || sess.Status != "paid" {
				t.Fatalf("live session after its instance's callback: %s", body)
			}
		})
	}
}
