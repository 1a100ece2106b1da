package app_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard/config"
	"github.com/switchyard/switchyard/core/accounts"
	"github.com/switchyard/switchyard/core/app"
	"github.com/switchyard/switchyard/core/checkout"
	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/httpapi"
	"github.com/switchyard/switchyard/core/merchants"
	"github.com/switchyard/switchyard/core/payments"
	"github.com/switchyard/switchyard/core/payments/paymentstest"
	"github.com/switchyard/switchyard/core/secrets"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/core/store/storetest"
	"github.com/switchyard/switchyard/plugins/stripe/stripeprovider"
	"github.com/switchyard/switchyard/sdk/provider"
)

const (
	connectE2EClientID = "ca_SwitchyardConnectE2E0001"
	connectE2ESecret   = "connect-e2e-start-secret-0123456789abcdef"
	connectE2EWhsec    = "whsec_connect_e2e_000000000000000001"
	connectE2EKey      = "sk_test_SwitchyardConnectE2E0000"
	connectE2EAccount  = "acct_1ConnectE2EMerchant01"
	connectE2EToken    = "connect-e2e-operator-token-0123456789"
)

// connectStripe is a local Stripe: it creates Checkout Sessions (recording
// the Stripe-Account header of each) and answers Connect's OAuth token and
// deauthorize endpoints in Stripe's documented format, errors included.
type connectStripe struct {
	mu        sync.Mutex
	n         int
	accounts  []string // Stripe-Account of each Checkout Session create
	codes     map[string]string
	used      map[string]bool
	connected map[string]bool
}

func newConnectStripe(t *testing.T) (*connectStripe, string) {
	t.Helper()
	f := &connectStripe{codes: map[string]string{"ac_first": connectE2EAccount, "ac_again": connectE2EAccount, "ac_third": connectE2EAccount, "ac_ghost": "acct_1GhostMerchant0001"},
		used: map[string]bool{}, connected: map[string]bool{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv.URL
}

func (f *connectStripe) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = r.ParseForm()
	reply := func(status int, v any) {
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(v)
	}
	oauthErr := func(status int, code, desc string) {
		reply(status, map[string]string{"error": code, "error_description": desc})
	}
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/v1/checkout/sessions":
		f.n++
		f.accounts = append(f.accounts, r.Header.Get("Stripe-Account"))
		id := fmt.Sprintf("cs_test_connect%04d", f.n)
		reply(200, map[string]any{"id": id, "object": "checkout.session", "url": "https://checkout.stripe.com/c/pay/" + id})
	case r.Method == http.MethodPost && r.URL.Path == "/oauth/token":
		acct, ok := f.codes[r.PostForm.Get("code")]
		switch {
		case r.PostForm.Get("client_secret") != connectE2EKey:
			oauthErr(401, "invalid_client", "No such api key")
		case !ok:
			oauthErr(400, "invalid_grant", "Authorization code does not exist")
		case f.used[r.PostForm.Get("code")]:
			oauthErr(400, "invalid_grant", "This authorization code has already been used.")
		default:
			f.used[r.PostForm.Get("code")] = true
			f.connected[acct] = true
			reply(200, map[string]any{"access_token": "sk_test_connected", "livemode": false, "token_type": "bearer",
				"scope": "read_write", "stripe_user_id": acct, "refresh_token": "rt_x", "stripe_publishable_key": "pk_test_x"})
		}
	case r.Method == http.MethodPost && r.URL.Path == "/oauth/deauthorize":
		acct := r.PostForm.Get("stripe_user_id")
		if r.PostForm.Get("client_id") != connectE2EClientID || !f.connected[acct] {
			oauthErr(401, "invalid_client", "Stripe user "+acct+" is not connected to this application")
			return
		}
		delete(f.connected, acct)
		reply(200, map[string]string{"stripe_user_id": acct})
	default:
		reply(404, map[string]any{"error": map[string]string{"type": "invalid_request_error", "message": "unexpected " + r.Method + " " + r.URL.Path}})
	}
}

func (f *connectStripe) isConnected(account string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.connected[account]
}

// lastAccount is the Stripe-Account header of the latest Checkout Session.
func (f *connectStripe) lastAccount(t *testing.T) string {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.accounts) == 0 {
		t.Fatal("no Checkout Session was created")
	}
	return f.accounts[len(f.accounts)-1]
}

type connectEnv struct {
	st       *store.Store
	base     string
	stripe   *connectStripe
	accounts *accounts.Service
	payments *payments.Service
	merchant int64
	key      *merchants.Principal
	client   *http.Client
	keys     []secrets.Key
}

func newConnectEnv(t *testing.T, st *store.Store) *connectEnv {
	t.Helper()
	fake, fakeURL := newConnectStripe(t)
	srv := httptest.NewUnstartedServer(nil)
	base := "http://" + srv.Listener.Addr().String()
	env := paymentstest.New(t, st, paymentstest.Options{
		BaseURL: base, RealClock: true,
		Instances: []paymentstest.Instance{{
			ID:   "stripe",
			Impl: stripeprovider.New(),
			Settings: map[string]string{
				stripeprovider.SettingSecretKey:          connectE2EKey,
				stripeprovider.SettingWebhookSecrets:     connectE2EWhsec,
				stripeprovider.SettingMode:               stripeprovider.ModeTest,
				stripeprovider.SettingAPIBase:            fakeURL,
				stripeprovider.SettingConnectBase:        fakeURL,
				stripeprovider.SettingConnectClientID:    connectE2EClientID,
				stripeprovider.SettingConnectStartSecret: connectE2ESecret,
			},
		}},
	})
	key := secrets.Key{ID: "k1", Key: make([]byte, 32)}
	if _, err := rand.Read(key.Key); err != nil {
		t.Fatal(err)
	}
	kr, err := secrets.NewKeyring([]secrets.Key{key})
	if err != nil {
		t.Fatal(err)
	}
	acc, err := accounts.New(accounts.Deps{Store: st, Keyring: kr, Providers: env.Providers, PublicBaseURL: base})
	if err != nil {
		t.Fatal(err)
	}
	pay, err := payments.New(payments.Deps{
		Store: st, Jobs: env.Jobs, Router: env.Router, Providers: env.Providers, PublicBaseURL: base,
		Sessions: config.SessionsConfig{TTL: time.Hour}, Accounts: acc,
	})
	if err != nil {
		t.Fatal(err)
	}
	pages, err := checkout.NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = httpapi.New(httpapi.Options{BodyLimit: 1 << 20},
		httpapi.ProviderHTTP(env.Providers, pages, httpapi.ProviderHTTPOptions{Events: acc, PublicBaseURL: base}),
		httpapi.ProviderHooks(pay, httpapi.ProviderHooksOptions{}),
		httpapi.AdminConnect(acc, []string{connectE2EToken}))
	srv.Start()
	t.Cleanup(srv.Close)
	m := env.Merchant(t, domain.PlanFree, "shop.example")
	_, principal := env.Key(t, m.ID, domain.ModeTest)
	return &connectEnv{st: st, base: base, stripe: fake, accounts: acc, payments: pay, merchant: m.ID, key: principal, keys: []secrets.Key{key},
		client: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (e *connectEnv) do(t *testing.T, method, rawURL string, hdr http.Header) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func (e *connectEnv) admin(t *testing.T, method, path string) (int, string) {
	t.Helper()
	status, body, _ := e.do(t, method, e.base+path, http.Header{"Authorization": {"Bearer " + connectE2EToken}})
	return status, body
}

// onboard runs the merchant's browser through a start link: /connect/start,
// Stripe's authorize page (skipped: the fake issues code), the callback.
func (e *connectEnv) onboard(t *testing.T, link, code string) (int, string) {
	t.Helper()
	status, body, hdr := e.do(t, http.MethodGet, link, nil)
	loc, err := url.Parse(hdr.Get("Location"))
	if status != http.StatusFound || err != nil {
		t.Fatalf("start: %d %s", status, body)
	}
	cookies := (&http.Response{Header: hdr}).Cookies()
	if len(cookies) != 1 {
		t.Fatalf("state cookie: %v", cookies)
	}
	cb := url.Values{"code": {code}, "state": {loc.Query().Get("state")}}
	status, body, _ = e.do(t, http.MethodGet, e.base+"/p/stripe/connect/callback?"+cb.Encode(),
		http.Header{"Cookie": {cookies[0].Name + "=" + cookies[0].Value}})
	return status, body
}

func (e *connectEnv) startLink(t *testing.T) string {
	t.Helper()
	status, body := e.admin(t, http.MethodPost, "/admin/v1/merchants/"+strconv.FormatInt(e.merchant, 10)+"/connect/stripe")
	var link struct {
		URL string `json:"url"`
	}
	if status != http.StatusCreated || json.Unmarshal([]byte(body), &link) != nil || !strings.HasPrefix(link.URL, e.base+"/p/stripe/connect/start?") {
		t.Fatalf("start link: %d %s", status, body)
	}
	return link.URL
}

// pay creates a session and starts a card payment; it returns the
// Stripe-Account header the Checkout Session was created with.
func (e *connectEnv) pay(t *testing.T, order string) string {
	t.Helper()
	ctx := context.Background()
	resp, err := e.payments.CreateSession(ctx, e.key, &payments.CreateSessionRequest{
		Domain: "shop.example", Amount: json.RawMessage(`"49.95"`), Currency: "USD", OrderID: order,
	}, "")
	if err != nil || resp.SessionID == "" {
		t.Fatalf("create session: %v %+v", err, resp)
	}
	next, err := e.payments.StartPayment(ctx, resp.SessionID, "card", "")
	if err != nil || !strings.HasPrefix(next, "https://checkout.stripe.com/") {
		t.Fatalf("start payment: %q %v", next, err)
	}
	return e.stripe.lastAccount(t)
}

func (e *connectEnv) rawColumn(t *testing.T) []string {
	t.Helper()
	var raw []string
	if err := e.st.DB().NewSelect().Table(store.ProviderAccountsTable).Column(store.ProviderAccountsField).Scan(context.Background(), &raw); err != nil {
		t.Fatal(err)
	}
	return raw
}

func (e *connectEnv) deauthorizedWebhook(t *testing.T, account string, at time.Time) {
	t.Helper()
	body := []byte(fmt.Sprintf(`{"id":"evt_deauth_%d","object":"event","account":%q,"api_version":"2023-10-16","created":%d,"livemode":false,`+
		`"type":"account.application.deauthorized","data":{"object":{"id":%q,"object":"application","name":"Switchyard"}}}`,
		at.UnixNano(), account, at.Unix(), connectE2EClientID))
	resp, err := e.payments.ApplyWebhook(context.Background(), "stripe", "stripe", provider.WebhookRequest{
		Method: http.MethodPost, Path: "/hooks/stripe/stripe", Body: body,
		Headers: http.Header{"Stripe-Signature": {stripeprovider.SignPayload(connectE2EWhsec, at, body)}},
	})
	if err != nil || resp.Status != http.StatusOK {
		t.Fatalf("deauthorized webhook: %d %v", resp.Status, err)
	}
}

// TestStripeConnectThroughTheCore: the real stripe plugin (through the
// SDK's gRPC adapters) completes Connect onboarding against a local OAuth
// fake; the host stores the account encrypted and the merchant's next
// payment is created on it (Stripe-Account header); a revocation by
// webhook, by the disconnect link or by the admin API stops that, on
// SQLite and PostgreSQL.
func TestStripeConnectThroughTheCore(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		e := newConnectEnv(t, st)
		ctx := context.Background()

		if got := e.pay(t, "before-connect"); got != "" {
			t.Errorf("payment before connecting carried Stripe-Account %q", got)
		}

		status, body := e.onboard(t, e.startLink(t), "ac_first")
		if status != http.StatusOK || !strings.Contains(body, connectE2EAccount) {
			t.Fatalf("callback: %d %s", status, body)
		}
		for _, v := range e.rawColumn(t) {
			if strings.Contains(v, "acct_") || !strings.HasPrefix(v, "v1:k1:") {
				t.Errorf("stored account column %q is not ciphertext", v)
			}
		}
		if got, err := e.accounts.Account(ctx, e.merchant, "stripe"); err != nil || got != connectE2EAccount {
			t.Fatalf("stored account %q %v", got, err)
		}
		status, body = e.admin(t, http.MethodGet, "/admin/v1/merchants/"+strconv.FormatInt(e.merchant, 10)+"/accounts")
		if status != http.StatusOK || !strings.Contains(body, `"account":"acct_****nt01"`) || strings.Contains(body, connectE2EAccount) {
			t.Errorf("admin accounts: %d %s", status, body)
		}

		if got := e.pay(t, "connected-1"); got != connectE2EAccount {
			t.Errorf("payment after connecting carried Stripe-Account %q, want %s", got, connectE2EAccount)
		}

		// Stripe tells us the merchant removed the platform.
		e.deauthorizedWebhook(t, connectE2EAccount, time.Now().Add(2*time.Second))
		if got, _ := e.accounts.Account(ctx, e.merchant, "stripe"); got != "" {
			t.Fatalf("account still in use after deauthorization: %q", got)
		}
		if got := e.pay(t, "after-webhook"); got != "" {
			t.Errorf("payment after deauthorization carried Stripe-Account %q", got)
		}

		// Reconnect, then disconnect from Switchyard's own link.
		if status, body := e.onboard(t, e.startLink(t), "ac_again"); status != http.StatusOK {
			t.Fatalf("reconnect: %d %s", status, body)
		}
		if got := e.pay(t, "reconnected"); got != connectE2EAccount {
			t.Errorf("payment after reconnecting carried Stripe-Account %q", got)
		}
		merchant := strconv.FormatInt(e.merchant, 10)
		exp := time.Now().Add(10 * time.Minute)
		q := url.Values{"merchant": {merchant}, "account": {connectE2EAccount}, "exp": {strconv.FormatInt(exp.Unix(), 10)},
			"token": {stripeprovider.ConnectDisconnectToken([]byte(connectE2ESecret), merchant, connectE2EAccount, exp)}}
		if status, body, _ := e.do(t, http.MethodGet, e.base+"/p/stripe/connect/disconnect?"+q.Encode(), nil); status != http.StatusOK {
			t.Fatalf("disconnect: %d %s", status, body)
		}
		row, err := st.GetProviderAccount(ctx, e.merchant, "stripe")
		if err != nil || row.Connected() {
			t.Fatalf("after disconnect link: %+v %v", row, err)
		}
		if got := e.pay(t, "after-disconnect"); got != "" {
			t.Errorf("payment after disconnecting carried Stripe-Account %q", got)
		}

		// Reconnect, then the operator disconnects through the admin API.
		if status, body := e.onboard(t, e.startLink(t), "ac_third"); status != http.StatusOK {
			t.Fatalf("reconnect: %d %s", status, body)
		}
		path := "/admin/v1/merchants/" + merchant + "/connect/stripe"
		if status, body := e.admin(t, http.MethodDelete, path); status != http.StatusOK || !strings.Contains(body, `"status":"disconnected"`) {
			t.Fatalf("admin disconnect: %d %s", status, body)
		}
		if e.stripe.isConnected(connectE2EAccount) {
			t.Error("admin disconnect did not deauthorize at Stripe")
		}
		if got := e.pay(t, "after-admin-disconnect"); got != "" {
			t.Errorf("payment after the admin disconnect carried Stripe-Account %q", got)
		}
		if status, body := e.admin(t, http.MethodDelete, path); status != http.StatusNotFound {
			t.Errorf("second admin disconnect: %d %s", status, body)
		}

		// Rewrap (switchyard secrets rewrap covers the column): afterwards
		// only the new key is needed.
		if err := e.reconnectAndRewrap(t); err != nil {
			t.Fatal(err)
		}
	})
}

func (e *connectEnv) reconnectAndRewrap(t *testing.T) error {
	t.Helper()
	ctx := context.Background()
	fresh := secrets.Key{ID: "k2", Key: make([]byte, 32)}
	if _, err := rand.Read(fresh.Key); err != nil {
		return err
	}
	rotated, err := secrets.NewKeyring(append([]secrets.Key{fresh}, e.keys...))
	if err != nil {
		return err
	}
	var cols []secrets.Column
	for _, c := range (&app.App{}).EncryptedColumns() {
		if c.Table == store.ProviderAccountsTable {
			cols = append(cols, c)
		}
	}
	if len(cols) != 1 {
		return fmt.Errorf("app.EncryptedColumns lists %d provider account columns, want 1", len(cols))
	}
	report, err := secrets.RewrapColumns(ctx, e.st.DB(), rotated, cols)
	if err != nil || report.Rewrapped() != 1 {
		return fmt.Errorf("rewrap: %+v %w", report, err)
	}
	onlyNew, err := secrets.NewKeyring([]secrets.Key{fresh})
	if err != nil {
		return err
	}
	svc, err := accounts.New(accounts.Deps{Store: e.st, Keyring: onlyNew})
	if err != nil {
		return err
	}
	list, err := svc.List(ctx, e.merchant)
	if err != nil || len(list) != 1 || list[0].Account != "acct_****nt01" {
		return fmt.Errorf("after rewrap: %+v %w", list, err)
	}
	return nil
}

// TestStripeConnectUnknownMerchant: a flow for a merchant that does not
// exist (a link minted with the plugin's secret for a made-up id) reaches
// Stripe, but the host refuses the result: error page, nothing stored.
func TestStripeConnectUnknownMerchant(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		e := newConnectEnv(t, st)
		if status, body := e.admin(t, http.MethodPost, "/admin/v1/merchants/999999/connect/stripe"); status != http.StatusNotFound {
			t.Errorf("admin start link for an unknown merchant: %d %s", status, body)
		}
		exp := time.Now().Add(10 * time.Minute)
		q := url.Values{"merchant": {"999999"}, "exp": {strconv.FormatInt(exp.Unix(), 10)},
			"token": {stripeprovider.ConnectStartToken([]byte(connectE2ESecret), "999999", exp)}}
		status, body := e.onboard(t, e.base+"/p/stripe/connect/start?"+q.Encode(), "ac_ghost")
		if status != http.StatusNotFound || strings.Contains(body, "acct_1GhostMerchant0001") {
			t.Errorf("callback for an unknown merchant: %d %s", status, body)
		}
		if raw := e.rawColumn(t); len(raw) != 0 {
			t.Errorf("stored %d rows", len(raw))
		}
	})
}
