package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyard/switchyard/core/checkout"
	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/httpapi"
	"github.com/switchyard/switchyard/core/licenses"
	"github.com/switchyard/switchyard/core/payments/paymentstest"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/core/store/storetest"
	"github.com/switchyard/switchyard/plugins/paypro/ipn"
	"github.com/switchyard/switchyard/plugins/paypro/payproprovider"
	"github.com/switchyard/switchyard/sdk/host"
	"github.com/switchyard/switchyard/sdk/provider"
	"github.com/switchyard/switchyard/sdk/sdktest"
	"github.com/switchyard/switchyard/webhook"
)

const (
	ppValidationKey = "vk_e2e_0f3c9a71"
	ppSecretKey     = "sk_e2e_6b2d"
)

// continueLink is the hosted checkout's link to the provider's page.
var continueLink = regexp.MustCompile(`<a class="button button-primary" href="([^"]+)"`)

// payproBinary returns the built PayPro plugin (make's, or built once).
func payproBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and launches the paypro plugin binary")
	}
	return bins.Plugin(t, "paypro")
}

// payproEnv is the real payments service on a real database, with the
// merchant API, hosted checkout and webhook intake mounted on a real
// listener, and the real PayPro plugin binary behind the host's gRPC client.
type payproEnv struct {
	env  *paymentstest.Env
	base string
	key  string
	c    *http.Client
}

func newPayProEnv(t *testing.T, st *store.Store, bin string, wrap func(provider.Client) provider.Client) *payproEnv {
	t.Helper()
	plugin := sdktest.LaunchProvider(t, bin, host.Options{})
	if wrap != nil {
		plugin = wrap(plugin)
	}
	srv := httptest.NewUnstartedServer(nil)
	base := "http://" + srv.Listener.Addr().String()
	env := paymentstest.New(t, st, paymentstest.Options{
		BaseURL: base, RealClock: true,
		Instances: []paymentstest.Instance{{
			ID:   "paypro",
			Impl: plugin,
			Mode: domain.ModeLive, // a live PayPro store (no test_mode)
			Settings: map[string]string{
				payproprovider.SettingValidationKey:  ppValidationKey,
				payproprovider.SettingSecretKey:      ppSecretKey,
				payproprovider.SettingDefaultProduct: "68452",
				// The simulator posts from loopback, not from PayPro.
				payproprovider.SettingIPAllowlist: "127.0.0.1, ::1",
			},
		}},
	})
	pages, err := checkout.NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = httpapi.New(httpapi.Options{BodyLimit: 1 << 20},
		httpapi.MerchantAPI(env.Service, env.Merchants, httpapi.MerchantAPIOptions{}),
		httpapi.Checkout(env.Service, pages, httpapi.CheckoutOptions{PublicBaseURL: base}),
		httpapi.ProviderHooks(env.Service, httpapi.ProviderHooksOptions{}),
	)
	srv.Start()
	t.Cleanup(srv.Close)
	m := env.Merchant(t, domain.PlanFree, "shop.example")
	key, _ := env.Key(t, m.ID, domain.Mode("live"))
	return &payproEnv{env: env, base: base, key: key, c: &http.Client{
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

func (e *payproEnv) do(t *testing.T, method, path string, body io.Reader, hdr http.Header) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, e.base+path, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := e.c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

type ppSession struct {
	SessionID   string `json:"session_id"`
	CheckoutURL string `json:"checkout_url"`
	Status      string `json:"status"`
}

func (e *payproEnv) createSession(t *testing.T) ppSession {
	t.Helper()
	body, _ := json.Marshal(map[string]any{
		"domain": "shop.example", "amount": "49.95", "currency": "USD",
		"order_id": "ORDER-PP-" + time.Now().Format("150405.000000000"), "customer_email": "jane.doe@example.com",
		"return_url": "https://shop.example/success", "cancel_url": "https://shop.example/cancel",
	})
	status, _, b := e.do(t, http.MethodPost, "/v1/sessions", bytes.NewReader(body), http.Header{
		"Authorization": {"Bearer " + e.key}, "Content-Type": {"application/json"},
	})
	if status != http.StatusCreated {
		t.Fatalf("POST /v1/sessions = %d: %s", status, b)
	}
	var s ppSession
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

func (e *payproEnv) status(t *testing.T, id string) string {
	t.Helper()
	status, _, b := e.do(t, http.MethodGet, "/v1/sessions/"+url.PathEscape(id), nil, http.Header{"Authorization": {"Bearer " + e.key}})
	if status != http.StatusOK {
		t.Fatalf("GET session = %d: %s", status, b)
	}
	var s ppSession
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	return s.Status
}

// ipn simulates PayPro posting an IPN for the order placed through
// checkoutURL, with the simulator's own code.
func (e *payproEnv) ipn(t *testing.T, typ ipn.Type, checkoutURL string, resent bool, fields ...string) ipn.Response {
	t.Helper()
	v, err := ipn.Simulation{Type: typ, CheckoutURL: checkoutURL, Fields: fields, Resent: resent,
		Keys: ipn.Keys{ValidationKey: ppValidationKey, SecretKey: ppSecretKey}}.Build()
	if err != nil {
		t.Fatal(err)
	}
	resp, err := ipn.Post(context.Background(), e.c, e.base+"/hooks/paypro/paypro", v)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func (e *payproEnv) sessionEvents(t *testing.T, id string) []string {
	t.Helper()
	evs, err := store.NewRepo(e.env.Store.DB()).SessionEvents(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, ev := range evs {
		out = append(out, ev.Type)
	}
	return out
}

func (e *payproEnv) providerEvent(t *testing.T, id string) *store.ProviderEvent {
	t.Helper()
	pe, err := store.NewRepo(e.env.Store.DB()).GetProviderEvent(context.Background(), "paypro", id)
	if err != nil {
		t.Fatalf("provider event %s: %v", id, err)
	}
	return pe
}

func wantOK(t *testing.T, what string, r ipn.Response) {
	t.Helper()
	if r.Status != http.StatusOK || string(r.Body) != "OK" || !strings.HasPrefix(r.ContentType, "text/plain") {
		t.Fatalf("%s: PayPro got %d %q (%s), want 200 text/plain OK", what, r.Status, r.Body, r.ContentType)
	}
}

// TestPayProEndToEnd drives a checkout session through the real PayPro
// plugin binary: the hosted checkout redirects to PayPro, and simulated
// IPNs pay, refund, dispute and win it, each applied once.
func TestPayProEndToEnd(t *testing.T) {
	bin := payproBinary(t)
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		e := newPayProEnv(t, st, bin, nil)
		s := e.createSession(t)

		// The shopper picks card on the hosted checkout and is sent to
		// PayPro with the session in signed custom fields.
		redirect := checkoutRedirect(t, e, s)
		u, err := url.Parse(redirect)
		if err != nil || u.Scheme+"://"+u.Host+u.Path != payproprovider.DefaultCheckoutBase {
			t.Fatalf("redirect to %q, want PayPro's checkout", redirect)
		}
		q := u.Query()
		for k, want := range map[string]string{
			"products[1][id]": "68452", "products[1][price][USD][amount]": "49.95", "currency": "USD",
			"billing-email": "jane.doe@example.com", payproprovider.FieldSession: s.SessionID,
		} {
			if q.Get(k) != want {
				t.Errorf("checkout %s = %q, want %q", k, q.Get(k), want)
			}
		}

		// A forged IPN (wrong validation key) is refused and changes nothing.
		v, err := ipn.Simulation{Type: ipn.OrderCharged, CheckoutURL: redirect, Keys: ipn.Keys{ValidationKey: "not-the-key", SecretKey: ppSecretKey}}.Build()
		if err != nil {
			t.Fatal(err)
		}
		if r, err := ipn.Post(context.Background(), e.c, e.base+"/hooks/paypro/paypro", v); err != nil || r.Status != http.StatusForbidden {
			t.Fatalf("forged IPN: %d %v, want 403", r.Status, err)
		}
		if got := e.status(t, s.SessionID); got != "open" {
			t.Fatalf("after a forged IPN: %s, want open", got)
		}

		wantOK(t, "OrderCharged", e.ipn(t, ipn.OrderCharged, redirect, false))
		if got := e.status(t, s.SessionID); got != "paid" {
			t.Fatalf("after OrderCharged: %s, want paid", got)
		}
		pe := e.providerEvent(t, "18304429:1")
		if pe.Outcome != store.OutcomeApplied || pe.SessionID != s.SessionID || pe.Type != "payment.succeeded" {
			t.Errorf("provider event %+v", pe)
		}

		// A duplicate and a resend from PayPro's IPN history: acknowledged,
		// applied once.
		wantOK(t, "duplicate", e.ipn(t, ipn.OrderCharged, redirect, false))
		wantOK(t, "resend", e.ipn(t, ipn.OrderCharged, redirect, true))
		if got := count(e.sessionEvents(t, s.SessionID), "session.paid"); got != 1 {
			t.Errorf("session.paid recorded %d times, want 1", got)
		}

		// A test order reaching this live instance is recorded, not applied.
		testOrder, err := ipn.Simulation{Type: ipn.OrderRefunded, CheckoutURL: redirect, Test: true,
			Keys: ipn.Keys{ValidationKey: ppValidationKey, SecretKey: ppSecretKey}}.Build()
		if err != nil {
			t.Fatal(err)
		}
		r, err := ipn.Post(context.Background(), e.c, e.base+"/hooks/paypro/paypro", testOrder)
		if err != nil {
			t.Fatal(err)
		}
		wantOK(t, "test order", r)
		if got := e.status(t, s.SessionID); got != "paid" {
			t.Fatalf("after a test-mode refund: %s, want paid", got)
		}
		if pe := e.providerEvent(t, "18304429:2:0:test"); pe.Outcome != store.OutcomeIgnored || pe.Type != "test.ignored" {
			t.Errorf("test-mode IPN recorded as %+v", pe)
		}

		wantOK(t, "OrderRefunded", e.ipn(t, ipn.OrderRefunded, redirect, false))
		if got := e.status(t, s.SessionID); got != "refunded" {
			t.Fatalf("after OrderRefunded: %s, want refunded", got)
		}
		wantOK(t, "OrderChargedBack", e.ipn(t, ipn.OrderChargedBack, redirect, false))
		if got := e.status(t, s.SessionID); got != "disputed" {
			t.Fatalf("after OrderChargedBack: %s, want disputed", got)
		}
		wantOK(t, "OrderChargebackIsWon", e.ipn(t, ipn.OrderChargebackIsWon, redirect, false))
		wantOK(t, "OrderChargebackIsWon resent", e.ipn(t, ipn.OrderChargebackIsWon, redirect, true))
		if got := e.status(t, s.SessionID); got != "refunded" {
			t.Fatalf("after OrderChargebackIsWon: %s, want refunded (the earlier refund stands)", got)
		}
		want := []string{"session.created", "session.paid", "session.refunded",
			// The refund was made in PayPro's dashboard: listed as a refund (source provider).
			"refund.created", "refund.succeeded", "session.disputed", "session.dispute_won"}
		if got := e.sessionEvents(t, s.SessionID); !equalStrings(got, want) {
			t.Errorf("session events %v, want %v", got, want)
		}

		// Every IPN was stored before it was answered, forged ones too.
		n, err := st.DB().NewSelect().Model((*store.WebhookRequest)(nil)).Where("provider_id = ?", "paypro").Count(context.Background())
		if err != nil || n != 9 {
			t.Errorf("stored webhook requests %d (%v), want 9", n, err)
		}
	})
}

// TestPayProLicenseRequest runs PayPro's synchronous LicenseRequested IPN
// through the real plugin binary and core/licenses to a local key
// generator: the key reaches PayPro as text/plain; a slow or failing key
// generator gives PayPro a non-200 answer, so it retries and emails the
// vendor.
func TestPayProLicenseRequest(t *testing.T) {
	bin := payproBinary(t)
	secret := webhook.NewSecret()
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	var mode atomic.Value // "ok", "slow", "500"
	var calls atomic.Int32
	keygen := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := webhook.Verify(webhook.ProfileStandard, []string{secret}, r.Header, body, 0); err != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		calls.Add(1)
		var req struct {
			SessionID string            `json:"session_id"`
			Data      map[string]string `json:"data"`
		}
		_ = json.Unmarshal(body, &req)
		switch mode.Load() {
		case "slow":
			select {
			case <-release:
			case <-r.Context().Done():
			}
		case "500":
			http.Error(w, "keygen exploded", http.StatusInternalServerError)
		default:
			io.WriteString(w, "SY-"+req.Data["order_id"]+"-"+req.Data["custom_license_info"])
		}
	}))
	t.Cleanup(keygen.Close)

	var sessionID atomic.Value
	kg, err := licenses.New(licenses.TargetsFunc(func(_ context.Context, providerID string, ev provider.Event) (licenses.Target, error) {
		// The request must name the session it belongs to.
		if providerID != "paypro" || ev.SessionID == "" || ev.SessionID != sessionID.Load() {
			return licenses.Target{}, domain.NotFound("license target")
		}
		return licenses.Target{URL: keygen.URL, Secrets: []string{secret}}, nil
	}), licenses.Options{Timeout: 500 * time.Millisecond, AllowPrivateTargets: true})
	if err != nil {
		t.Fatal(err)
	}
	e := newPayProEnv(t, storetest.SQLite(t), bin, func(p provider.Client) provider.Client { return licenses.Wrap("paypro", p, kg) })
	s := e.createSession(t)
	sessionID.Store(s.SessionID)
	pay := checkoutRedirect(t, e, s)

	cases := []struct {
		mode       string
		wantStatus int
		wantBody   string
	}{
		{"500", http.StatusBadGateway, "license key generator answered 500"},
		{"slow", http.StatusGatewayTimeout, "license key generator timed out"},
		{"ok", http.StatusOK, "SY-18304429-edition=pro;seats=1"},
	}
	for _, tc := range cases {
		mode.Store(tc.mode)
		r := e.ipn(t, ipn.LicenseRequested, pay, false)
		if r.Status != tc.wantStatus || string(r.Body) != tc.wantBody || !strings.HasPrefix(r.ContentType, "text/plain") {
			t.Errorf("keygen %s: PayPro got %d %q (%s), want %d %q", tc.mode, r.Status, r.Body, r.ContentType, tc.wantStatus, tc.wantBody)
		}
	}
	if n := calls.Load(); n != 3 {
		t.Errorf("key generator called %d times, want 3 (each PayPro retry asks again)", n)
	}
	// Only the successful request was applied (recorded) by the core.
	if pe := e.providerEvent(t, "18304429:12:21976543"); pe.Type != "license.requested" || !strings.Contains(pe.Payload, `"session_id":"`+s.SessionID+`"`) {
		t.Errorf("provider event %+v", pe)
	}
	if got := e.status(t, s.SessionID); got != "open" {
		t.Errorf("a license request changed the session to %s", got)
	}
}

// checkoutRedirect starts the card payment on the hosted checkout and
// returns the PayPro checkout URL the shopper is sent to.
func checkoutRedirect(t *testing.T, e *payproEnv, s ppSession) string {
	t.Helper()
	status, hdr, body := e.do(t, http.MethodPost, "/checkout/"+s.SessionID+"/pay",
		strings.NewReader(url.Values{"method": {"card"}}.Encode()),
		http.Header{"Content-Type": {"application/x-www-form-urlencoded"}})
	switch status {
	case http.StatusSeeOther:
		return hdr.Get("Location")
	case http.StatusOK:
		// A cross-origin hop is a "continuing to payment" page (the
		// checkout's CSP allows forms to post only to itself).
		if m := continueLink.FindSubmatch(body); m != nil {
			return html.UnescapeString(string(m[1]))
		}
	}
	t.Fatalf("pay = %d without a PayPro link:\n%s", status, body)
	return ""
}

func count(list []string, s string) int {
	n := 0
	for _, x := range list {
		if x == s {
			n++
		}
	}
	return n
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
