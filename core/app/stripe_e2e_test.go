package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard/config"
	"github.com/switchyard/switchyard/core/checkout"
	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/httpapi"
	"github.com/switchyard/switchyard/core/merchants"
	"github.com/switchyard/switchyard/core/payments/paymentstest"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/core/store/storetest"
	"github.com/switchyard/switchyard/internal/testbin"
	"github.com/switchyard/switchyard/plugins/stripe/stripemock"
	"github.com/switchyard/switchyard/plugins/stripe/stripeprovider"
	"github.com/switchyard/switchyard/sdk/host"
	"github.com/switchyard/switchyard/sdk/sdktest"
)

const stripeE2EWebhookSecret = "whsec_e2e_switchyard_stripe_000000001"

// stripeLookup stands in front of stripe-mock. stripe-mock validates every
// request against Stripe's OpenAPI spec but keeps no state, so the one call
// whose answer depends on earlier calls — finding the Checkout Session of
// a payment intent, which the plugin does for payment_intent.*, charge.*
// and dispute events — is answered here from what the test registered;
// everything else goes to stripe-mock unchanged.
type stripeLookup struct {
	mu       sync.Mutex
	sessions map[string]map[string]any // payment intent -> checkout session
	// retrieved answers GET /v1/checkout/sessions/{id} for the sessions a
	// test put here (stripe-mock answers a fixed fixture otherwise).
	retrieved map[string]map[string]any
	mock      *httputil.ReverseProxy
}

func newStripeLookup(t *testing.T, mockURL string) (*stripeLookup, string) {
	t.Helper()
	target, err := url.Parse(mockURL)
	if err != nil {
		t.Fatal(err)
	}
	l := &stripeLookup{sessions: map[string]map[string]any{}, retrieved: map[string]map[string]any{}, mock: httputil.NewSingleHostReverseProxy(target)}
	srv := httptest.NewServer(l)
	t.Cleanup(srv.Close)
	return l, srv.URL
}

func (l *stripeLookup) register(paymentIntent, checkoutSession, sessionID string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sessions[paymentIntent] = map[string]any{
		"id": checkoutSession, "object": "checkout.session", "client_reference_id": sessionID,
		"metadata": map[string]string{"switchyard_session_id": sessionID}, "payment_intent": paymentIntent,
	}
}

// answer makes GET /v1/checkout/sessions/{id} return cs.
func (l *stripeLookup) answer(id string, cs map[string]any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.retrieved[id] = cs
}

func (l *stripeLookup) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if id, ok := strings.CutPrefix(r.URL.Path, "/v1/checkout/sessions/"); ok && r.Method == http.MethodGet {
		l.mu.Lock()
		cs, found := l.retrieved[id]
		l.mu.Unlock()
		if found {
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(cs)
			return
		}
	}
	if pi := r.URL.Query().Get("payment_intent"); r.Method == http.MethodGet && r.URL.Path == "/v1/checkout/sessions" && pi != "" {
		l.mu.Lock()
		cs, ok := l.sessions[pi]
		l.mu.Unlock()
		data := []any{}
		if ok {
			data = append(data, cs)
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"object": "list", "data": data, "has_more": false, "url": "/v1/checkout/sessions"})
		return
	}
	l.mock.ServeHTTP(w, r)
}

// stripeE2E is the real payments service on a real database, with the
// merchant API, hosted checkout and webhook intake (plus the seed alias)
// mounted on a real listener, and the real stripe plugin binary behind the
// host's gRPC client, talking to stripe-mock.
type stripeE2E struct {
	st     *store.Store
	public string
	key    string
	lookup *stripeLookup
	// merchantID owns key.
	merchantID int64
}

// stripeBins builds the plugin binary once per test process (test state).
var stripeBins testbin.Builder

func startStripeE2E(t *testing.T, st *store.Store, mockURL string) *stripeE2E {
	t.Helper()
	lookup, apiBase := newStripeLookup(t, mockURL)
	bin := stripeBins.Plugin(t, "stripe")

	srv := httptest.NewUnstartedServer(nil)
	base := "http://" + srv.Listener.Addr().String()
	env := paymentstest.New(t, st, paymentstest.Options{
		BaseURL: base, RealClock: true,
		Instances: []paymentstest.Instance{{
			ID:   "stripe",
			Impl: sdktest.LaunchProvider(t, bin, host.Options{}),
			Settings: map[string]string{
				stripeprovider.SettingSecretKey:      "sk_test_SwitchyardEndToEnd0000",
				stripeprovider.SettingWebhookSecrets: stripeE2EWebhookSecret,
				stripeprovider.SettingMode:           stripeprovider.ModeTest,
				stripeprovider.SettingAPIBase:        apiBase,
			},
		}},
	})
	pages, err := checkout.NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = httpapi.New(httpapi.Options{BodyLimit: 1 << 20},
		httpapi.MerchantAPI(env.Service, env.Merchants, httpapi.MerchantAPIOptions{}),
		httpapi.Checkout(env.Service, pages, httpapi.CheckoutOptions{PublicBaseURL: base, FormActionOrigins: []string{"https://checkout.stripe.com"}}),
		httpapi.ProviderHooks(env.Service, httpapi.ProviderHooksOptions{Aliases: map[string]string{"/stripe-webhook.php": "stripe"}}),
	)
	srv.Start()
	t.Cleanup(srv.Close)
	m := env.Merchant(t, domain.PlanFree, "shop.example")
	key, _ := env.Key(t, m.ID, domain.Mode("test"))
	return &stripeE2E{st: st, public: base, key: key, lookup: lookup, merchantID: m.ID}
}

func (e *stripeE2E) do(t *testing.T, method, path string, body []byte, header http.Header) (int, []byte, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, e.public+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b, resp.Header
}

func (e *stripeE2E) auth() http.Header {
	return http.Header{"Authorization": {"Bearer " + e.key}, "Content-Type": {"application/json"}}
}

// openCheckout creates a card session, opens its checkout (which creates
// the Checkout Session at stripe-mock) and returns the Switchyard session
// id and the plugin's provider reference.
func (e *stripeE2E) openCheckout(t *testing.T, order string) (sessionID, ref string) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{
		"domain": "shop.example", "amount": "49.95", "currency": "USD", "order_id": order,
		"return_url": "https://shop.example/thanks", "customer_email": "shopper@example.com",
	})
	status, resp, _ := e.do(t, http.MethodPost, "/v1/sessions", body, e.auth())
	if status != http.StatusCreated {
		t.Fatalf("create session: %d %s", status, resp)
	}
	var s struct {
		SessionID   string `json:"session_id"`
		CheckoutURL string `json:"checkout_url"`
	}
	if err := json.Unmarshal(resp, &s); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(s.CheckoutURL, "/checkout/"+s.SessionID) {
		t.Fatalf("checkout_url %q", s.CheckoutURL)
	}
	// The shopper picks card on the hosted checkout: CreatePayment runs at
	// stripe-mock and the browser is sent to Stripe's page.
	form := []byte(url.Values{"method": {"card"}}.Encode())
	status, page, hdr := e.do(t, http.MethodPost, "/checkout/"+s.SessionID+"/pay", form,
		http.Header{"Content-Type": {"application/x-www-form-urlencoded"}})
	switch {
	case status == http.StatusSeeOther && strings.HasPrefix(hdr.Get("Location"), "https://checkout.stripe.com/"):
	case status == http.StatusOK && bytes.Contains(page, []byte(`href="https://checkout.stripe.com/`)):
		// Stripe's origin is not in the checkout's form-action list: the
		// shopper gets the hand-off page linking to Stripe instead of a 303.
	default:
		t.Fatalf("pay: %d Location=%q %s", status, hdr.Get("Location"), page)
	}
	atts, err := store.NewRepo(e.st.DB()).SessionAttempts(t.Context(), s.SessionID)
	if err != nil || len(atts) != 1 || atts[0].ProviderID != "stripe" || !strings.HasPrefix(atts[0].ProviderRef, "cs_") {
		t.Fatalf("attempts %+v: %v", atts, err)
	}
	ref = atts[0].ProviderRef
	return s.SessionID, ref
}

func (e *stripeE2E) status(t *testing.T, sessionID string) string {
	t.Helper()
	code, body, _ := e.do(t, http.MethodGet, "/v1/sessions/"+sessionID, nil, e.auth())
	var s struct {
		Status string `json:"status"`
	}
	if code != http.StatusOK || json.Unmarshal(body, &s) != nil {
		t.Fatalf("status: %d %s", code, body)
	}
	return s.Status
}

// events counts the session's recorded domain events of type typ.
func (e *stripeE2E) events(t *testing.T, sessionID, typ string) int {
	t.Helper()
	evs, err := store.NewRepo(e.st.DB()).SessionEvents(t.Context(), sessionID)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, ev := range evs {
		if ev.Type == typ {
			n++
		}
	}
	return n
}

func (e *stripeE2E) providerEvent(t *testing.T, id string) *store.ProviderEvent {
	t.Helper()
	pe, err := store.NewRepo(e.st.DB()).GetProviderEvent(t.Context(), "stripe", id)
	if err != nil {
		t.Fatalf("provider event %s: %v", id, err)
	}
	return pe
}

// post signs a Stripe event and delivers it to path.
func (e *stripeE2E) post(t *testing.T, path string, ev map[string]any) int {
	t.Helper()
	ev["object"], ev["api_version"], ev["livemode"] = "event", "2023-10-16", false
	if _, ok := ev["created"]; !ok {
		ev["created"] = time.Now().Unix()
	}
	body, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	sig := stripeprovider.SignPayload(stripeE2EWebhookSecret, time.Now(), body)
	code, resp, _ := e.do(t, http.MethodPost, path, body, http.Header{"Stripe-Signature": {sig}, "Content-Type": {"application/json"}})
	if code != http.StatusOK {
		t.Errorf("POST %s %s: %d %s", path, ev["type"], code, resp)
	}
	return code
}

func checkoutCompleted(id, ref, sessionID, pi string) map[string]any {
	return map[string]any{"id": id, "type": "checkout.session.completed", "data": map[string]any{"object": map[string]any{
		"id": ref, "object": "checkout.session", "mode": "payment", "amount_total": 4995, "currency": "usd",
		"client_reference_id": sessionID, "metadata": map[string]string{"switchyard_session_id": sessionID},
		"payment_intent": pi, "payment_status": "paid", "status": "complete",
	}}}
}

// TestStripeEndToEnd drives checkout sessions through the real stripe
// plugin binary: the hosted checkout creates a Checkout Session at
// stripe-mock, and signed Stripe events pay, refund and dispute them, each
// applied once, on SQLite and (when configured) PostgreSQL.
func TestStripeEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and launches the stripe plugin binary")
	}
	mock := stripemock.Start(t)
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		stripeEndToEnd(t, startStripeE2E(t, st, mock))
	})
}

func stripeEndToEnd(t *testing.T, e *stripeE2E) {
	const hook = "/hooks/stripe/stripe"

	t.Run("paid once, failure after success ignored, refunds", func(t *testing.T) {
		sid, ref := e.openCheckout(t, "e2e-1001")
		pi := "pi_e2e_" + sid
		e.lookup.register(pi, ref, sid)

		if got := e.status(t, sid); got != "open" {
			t.Fatalf("before the webhook: %s", got)
		}
		paid := checkoutCompleted("evt_e2e_paid_1001", ref, sid, pi)
		e.post(t, hook, paid)
		if got := e.status(t, sid); got != "paid" {
			t.Fatalf("after checkout.session.completed: %s", got)
		}
		if n := e.events(t, sid, "session.paid"); n != 1 {
			t.Errorf("%d session.paid events, want 1", n)
		}

		// Stripe redelivers: applied once.
		e.post(t, hook, checkoutCompleted("evt_e2e_paid_1001", ref, sid, pi))
		if n := e.events(t, sid, "session.paid"); n != 1 {
			t.Errorf("after a redelivery: %d session.paid events, want 1", n)
		}
		if pe := e.providerEvent(t, "evt_e2e_paid_1001"); pe.Outcome != store.OutcomeApplied || pe.SessionID != sid || pe.ProviderRef != ref {
			t.Errorf("provider event %+v", pe)
		}

		// A late failure does not move a paid session back.
		e.post(t, hook, map[string]any{"id": "evt_e2e_failed_1001", "type": "payment_intent.payment_failed",
			"data": map[string]any{"object": map[string]any{
				"id": pi, "object": "payment_intent", "amount": 4995, "currency": "usd", "status": "requires_payment_method",
				"metadata":           map[string]string{"switchyard_session_id": sid},
				"last_payment_error": map[string]any{"code": "card_declined", "decline_code": "generic_decline", "message": "Your card was declined."},
			}}})
		if got := e.status(t, sid); got != "paid" {
			t.Errorf("after payment_failed: %s, want paid", got)
		}
		if pe := e.providerEvent(t, "evt_e2e_failed_1001"); pe.Outcome != store.OutcomeRecorded || pe.SessionID != sid || pe.ProviderRef != ref {
			t.Errorf("late failure recorded as %+v, want recorded (not applied) against the session", pe)
		}

		refund := func(id string, refunded, before int64) map[string]any {
			return map[string]any{"id": id, "type": "charge.refunded", "data": map[string]any{
				"object": map[string]any{"id": "ch_e2e_" + sid, "object": "charge", "amount": 4995, "amount_refunded": refunded,
					"currency": "usd", "payment_intent": pi, "metadata": map[string]string{}, "refunded": refunded == 4995},
				"previous_attributes": map[string]any{"amount_refunded": before},
			}}
		}
		e.post(t, hook, refund("evt_e2e_refund_1", 1000, 0))
		if got := e.status(t, sid); got != "partially_refunded" {
			t.Errorf("after a partial refund: %s", got)
		}
		e.post(t, hook, refund("evt_e2e_refund_2", 4995, 1000))
		if got := e.status(t, sid); got != "refunded" {
			t.Errorf("after the rest was refunded: %s", got)
		}
	})

	t.Run("dispute flags the session, through the seed alias", func(t *testing.T) {
		sid, ref := e.openCheckout(t, "e2e-1002")
		pi := "pi_e2e_" + sid
		e.lookup.register(pi, ref, sid)
		e.post(t, "/stripe-webhook.php", checkoutCompleted("evt_e2e_paid_1002", ref, sid, pi))
		e.post(t, "/stripe-webhook.php", map[string]any{"id": "evt_e2e_dispute_1002", "type": "charge.dispute.created",
			"data": map[string]any{"object": map[string]any{
				"id": "dp_e2e_1002", "object": "dispute", "amount": 4995, "currency": "usd", "charge": "ch_e2e_1002",
				"payment_intent": pi, "reason": "fraudulent", "status": "needs_response", "metadata": map[string]string{},
			}}})
		if got := e.status(t, sid); got != "disputed" {
			t.Errorf("after charge.dispute.created: %s, want disputed", got)
		}
		if n := e.events(t, sid, "session.disputed"); n != 1 {
			t.Errorf("%d session.disputed events, want 1", n)
		}
	})

	t.Run("unsigned webhook changes nothing", func(t *testing.T) {
		sid, ref := e.openCheckout(t, "e2e-1003")
		body, _ := json.Marshal(checkoutCompleted("evt_e2e_forged", ref, sid, "pi_forged"))
		code, _, _ := e.do(t, http.MethodPost, hook, body, http.Header{"Stripe-Signature": {"t=1,v1=00"}})
		if code != http.StatusBadRequest {
			t.Errorf("forged webhook answered %d, want 400", code)
		}
		if got := e.status(t, sid); got != "open" {
			t.Errorf("forged webhook moved the session to %s", got)
		}
	})
}

// TestStripeEndToEndApp runs the same flow under the composition root:
// app.New + Serve from a YAML config with a stripe instance, the plugin
// launched by the real plugin host from the plugin directory.
func TestStripeEndToEndApp(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and launches the stripe plugin binary")
	}
	connectBase := fakeStripeOAuth(t)
	e := startStripeApp(t, stripemock.Start(t), connectBase)
	stripeEndToEnd(t, e)
	t.Run("connect onboarding through /p/stripe", func(t *testing.T) { stripeConnectThroughHost(t, e) })
}

const (
	stripeE2EClientID     = "ca_SwitchyardEndToEnd0001"
	stripeE2EStartSecret  = "stripe-e2e-connect-start-secret-0123456789"
	stripeE2EConnectedAcc = "acct_1EndToEndMerchant"
)

// fakeStripeOAuth answers POST /oauth/token as Stripe documents it, for
// one authorization code.
func fakeStripeOAuth(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Method != http.MethodPost || r.URL.Path != "/oauth/token" || r.ParseForm() != nil ||
			r.PostForm.Get("grant_type") != "authorization_code" || r.PostForm.Get("code") != "ac_e2e_good" {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, `{"error":"invalid_grant","error_description":"Authorization code does not exist"}`)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": "sk_test_connected", "livemode": false,
			"token_type": "bearer", "scope": "read_write", "stripe_user_id": stripeE2EConnectedAcc})
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// stripeConnectThroughHost runs the Connect Standard start and callback
// through the host's /p/{provider_id} passthrough: the redirect, the state
// cookie set and sent back, the code exchange, the result page.
func stripeConnectThroughHost(t *testing.T, e *stripeE2E) {
	merchant := strconv.FormatInt(e.merchantID, 10)
	exp := time.Now().Add(10 * time.Minute)
	q := url.Values{"merchant": {merchant}, "exp": {strconv.FormatInt(exp.Unix(), 10)},
		"token": {stripeprovider.ConnectStartToken([]byte(stripeE2EStartSecret), merchant, exp)}}
	status, body, hdr := e.do(t, http.MethodGet, "/p/stripe/connect/start?"+q.Encode(), nil, nil)
	loc, err := url.Parse(hdr.Get("Location"))
	if status != http.StatusFound || err != nil || !strings.HasSuffix(loc.Path, "/oauth/authorize") {
		t.Fatalf("start: %d Location=%q %s", status, hdr.Get("Location"), body)
	}
	if got := loc.Query().Get("redirect_uri"); got != e.public+"/p/stripe/connect/callback" {
		t.Errorf("redirect_uri %q", got)
	}
	cookies := (&http.Response{Header: hdr}).Cookies()
	if len(cookies) != 1 {
		t.Fatalf("state cookies %v", cookies)
	}
	cb := url.Values{"code": {"ac_e2e_good"}, "state": {loc.Query().Get("state")}}
	status, body, _ = e.do(t, http.MethodGet, "/p/stripe/connect/callback?"+cb.Encode(), nil,
		http.Header{"Cookie": {cookies[0].Name + "=" + cookies[0].Value}})
	if status != http.StatusOK || !bytes.Contains(body, []byte(stripeE2EConnectedAcc)) {
		t.Fatalf("callback: %d %s", status, body)
	}
	// The host stored the account (encrypted) before writing the page.
	row, err := e.st.GetProviderAccount(context.Background(), e.merchantID, "stripe")
	if err != nil || !row.Connected() || strings.Contains(row.AccountIDEncrypted, "acct_") {
		t.Errorf("stored account %+v, %v", row, err)
	}
	// Without the cookie (another browser), the same state is refused.
	status, _, _ = e.do(t, http.MethodGet, "/p/stripe/connect/callback?"+cb.Encode(), nil, nil)
	if status != http.StatusBadRequest {
		t.Errorf("callback without the state cookie: %d, want 400", status)
	}
}

func startStripeApp(t *testing.T, mockURL, connectBase string) *stripeE2E {
	t.Helper()
	lookup, apiBase := newStripeLookup(t, mockURL)
	pluginDir := filepath.Dir(stripeBins.Plugin(t, "stripe"))
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	pub := ln.Addr().String()
	_ = ln.Close()
	yaml := fmt.Sprintf(`
public:
  addr: %q
  webhook_aliases:
    "/stripe-webhook.php": stripe
admin: {addr: "127.0.0.1:0", tokens: ["stripe-e2e-operator-token-0123456789"]}
store: {dsn: %q}
secrets: {keys: [{id: k1, key: MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=}]}
plugins:
  dir: %q
  instances:
    - id: stripe
      kind: provider
      binary: stripe
      settings:
        secret_key: sk_test_SwitchyardEndToEnd0000
        webhook_secrets: %q
        mode: test
        api_base: %q
        connect_client_id: %q
        connect_start_secret: %q
        connect_base: %q
routing:
  rules:
    - method: card
      providers: [{id: stripe, weight: 100}]
`, pub, "sqlite:"+filepath.Join(dir, "sy.db"), pluginDir, stripeE2EWebhookSecret, apiBase,
		stripeE2EClientID, stripeE2EStartSecret, connectBase)
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
	m, err := a.Merchants.CreateMerchant(ctx, merchants.NewMerchant{
		Name: "Stripe Hosting", Plan: "free", ContactEmail: "ops@shop.example", Domains: []string{"shop.example"},
	})
	if err != nil {
		t.Fatal(err)
	}
	k, err := a.Merchants.CreateKey(ctx, merchants.NewKey{MerchantID: m.ID})
	if err != nil {
		t.Fatal(err)
	}
	return &stripeE2E{st: a.Store, public: "http://" + l.Public, key: k.Secret, lookup: lookup, merchantID: m.ID}
}
