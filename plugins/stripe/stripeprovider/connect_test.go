package stripeprovider

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard/plugins/stripe/stripefake"
	"github.com/switchyard/switchyard/sdk/provider"
)

// fakeConnect follows Stripe's documented OAuth endpoints
// (https://docs.stripe.com/connect/oauth-reference): POST /oauth/token with
// grant_type, code and client_secret; POST /oauth/deauthorize with
// client_id and stripe_user_id; errors as {"error","error_description"}.
type fakeConnect struct {
	mu        sync.Mutex
	codes     map[string]string // code -> account
	used      map[string]bool
	connected map[string]bool
	deauth    []url.Values
}

func newFakeConnect(t *testing.T) (*fakeConnect, string) {
	t.Helper()
	f := &fakeConnect{codes: map[string]string{"ac_good": "acct_1Connected0001", "ac_other": "acct_1Connected0002"},
		used: map[string]bool{}, connected: map[string]bool{}}
	srv, _ := recordingStripe(t, func(w http.ResponseWriter, r recorded) {
		f.mu.Lock()
		defer f.mu.Unlock()
		oauthErr := func(status int, code, desc string) {
			stripefake.WriteJSON(w, status, map[string]string{"error": code, "error_description": desc})
		}
		switch {
		case r.method == http.MethodPost && r.path == "/oauth/token":
			if r.form.Get("client_secret") != testSecretKey {
				oauthErr(401, "invalid_client", "No such api key")
				return
			}
			if r.form.Get("grant_type") != "authorization_code" {
				oauthErr(400, "unsupported_grant_type", "Unsupported grant type")
				return
			}
			code := r.form.Get("code")
			acct, ok := f.codes[code]
			switch {
			case !ok:
				oauthErr(400, "invalid_grant", "Authorization code does not exist: "+code)
				return
			case f.used[code]:
				oauthErr(400, "invalid_grant", "This authorization code has already been used. All tokens issued with this code have been revoked.")
				return
			}
			f.used[code] = true
			f.connected[acct] = true
			stripefake.WriteJSON(w, 200, map[string]any{
				"access_token": "sk_test_ConnectedAccessToken", "livemode": false, "refresh_token": "rt_ConnectedRefresh",
				"token_type": "bearer", "stripe_publishable_key": "pk_test_Connected", "stripe_user_id": acct, "scope": "read_write",
			})
		case r.method == http.MethodPost && r.path == "/oauth/deauthorize":
			f.deauth = append(f.deauth, r.form)
			acct := r.form.Get("stripe_user_id")
			if r.form.Get("client_id") != testClientID {
				oauthErr(401, "invalid_client", "No such application: "+r.form.Get("client_id"))
				return
			}
			if !f.connected[acct] {
				oauthErr(401, "invalid_client", "Stripe user "+acct+" is not connected to this application")
				return
			}
			delete(f.connected, acct)
			stripefake.WriteJSON(w, 200, map[string]string{"stripe_user_id": acct})
		default:
			oauthErr(404, "not_found", "no such route")
		}
	})
	return f, srv.URL
}

type connectHarness struct {
	p     *Provider
	fake  *fakeConnect
	base  string
	clock *time.Time
	mu    *sync.Mutex
}

func newConnectHarness(t *testing.T) connectHarness {
	t.Helper()
	fake, connectBase := newFakeConnect(t)
	now := webhookNow
	var mu sync.Mutex
	settings := baseSettings("http://127.0.0.1:1")
	settings[SettingConnectBase] = connectBase
	settings[SettingConnectClientID] = testClientID
	settings[SettingConnectStartSecret] = testStartToken
	p := configured(t, settings, WithClock(func() time.Time { mu.Lock(); defer mu.Unlock(); return now }))
	return connectHarness{p: p, fake: fake, base: connectBase, clock: &now, mu: &mu}
}

func (h connectHarness) advance(d time.Duration) {
	h.mu.Lock()
	*h.clock = h.clock.Add(d)
	h.mu.Unlock()
}

func (h connectHarness) get(t *testing.T, path string, q url.Values, cookie string) provider.HTTPResponse {
	t.Helper()
	hdr := http.Header{}
	if cookie != "" {
		hdr.Set("Cookie", cookie)
	}
	resp, err := h.p.HandleHTTP(ctx(t), provider.HTTPRequest{
		Method: http.MethodGet, Path: path, Query: q.Encode(), Headers: hdr,
		BaseURL: "https://pay.example.test/p/prv_stripe",
	})
	if err != nil {
		t.Fatalf("HandleHTTP(%s): %v", path, err)
	}
	return resp
}

func startQuery(merchant string, exp time.Time, secret string) url.Values {
	return url.Values{
		"merchant": {merchant},
		"exp":      {strconv.FormatInt(exp.Unix(), 10)},
		"token":    {ConnectStartToken([]byte(secret), merchant, exp)},
	}
}

// start runs /connect/start and returns the state and the cookie header.
func (h connectHarness) start(t *testing.T, merchant string) (state, cookie string) {
	t.Helper()
	resp := h.get(t, RouteConnectStart, startQuery(merchant, webhookNow.Add(10*time.Minute), testStartToken), "")
	if resp.Status != http.StatusFound {
		t.Fatalf("start: status %d: %s", resp.Status, resp.Body)
	}
	loc, err := url.Parse(resp.Headers.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != h.base+"/oauth/authorize" {
		t.Errorf("redirect to %s, want %s/oauth/authorize", got, h.base)
	}
	q := loc.Query()
	for k, want := range map[string]string{
		"response_type": "code", "client_id": testClientID, "scope": "read_write",
		"redirect_uri": "https://pay.example.test/p/prv_stripe/connect/callback",
	} {
		if q.Get(k) != want {
			t.Errorf("authorize %s = %q, want %q", k, q.Get(k), want)
		}
	}
	set := (&http.Response{Header: http.Header{"Set-Cookie": resp.Headers.Values("Set-Cookie")}}).Cookies()
	if len(set) != 1 || set[0].Name != stateCookie || !set[0].HttpOnly || !set[0].Secure ||
		set[0].SameSite != http.SameSiteLaxMode || set[0].Path != "/p/prv_stripe/connect/" {
		t.Fatalf("state cookie %+v", set)
	}
	return q.Get("state"), set[0].Name + "=" + set[0].Value
}

func TestConnectStartNeedsAdminToken(t *testing.T) {
	h := newConnectHarness(t)
	exp := webhookNow.Add(10 * time.Minute)
	cases := map[string]url.Values{
		"no token":     {"merchant": {"42"}},
		"wrong secret": startQuery("42", exp, "some-other-secret-0123456789abcdef"),
		"token for another merchant": func() url.Values {
			q := startQuery("43", exp, testStartToken)
			q.Set("merchant", "42")
			return q
		}(),
		"expired":            startQuery("42", webhookNow.Add(-time.Second), testStartToken),
		"valid for too long": startQuery("42", webhookNow.Add(2*time.Hour), testStartToken),
		"disconnect token": {
			"merchant": {"42"}, "exp": {strconv.FormatInt(exp.Unix(), 10)},
			"token": {ConnectDisconnectToken([]byte(testStartToken), "42", "", exp)},
		},
	}
	for name, q := range cases {
		t.Run(name, func(t *testing.T) {
			resp := h.get(t, RouteConnectStart, q, "")
			if resp.Status != http.StatusForbidden || resp.Headers.Get("Location") != "" || len(resp.Headers.Values("Set-Cookie")) != 0 {
				t.Errorf("status %d, headers %v", resp.Status, resp.Headers)
			}
		})
	}
	t.Run("bad merchant id", func(t *testing.T) {
		resp := h.get(t, RouteConnectStart, startQuery("<script>", exp, testStartToken), "")
		if resp.Status != http.StatusBadRequest || strings.Contains(string(resp.Body), "<script>") {
			t.Errorf("status %d: %s", resp.Status, resp.Body)
		}
	})
}

func TestConnectCallback(t *testing.T) {
	h := newConnectHarness(t)
	state, cookie := h.start(t, "42")

	t.Run("without the state cookie", func(t *testing.T) {
		resp := h.get(t, RouteConnectCallback, url.Values{"code": {"ac_good"}, "state": {state}}, "")
		if resp.Status != http.StatusBadRequest {
			t.Errorf("status %d", resp.Status)
		}
	})
	t.Run("cookie of another flow", func(t *testing.T) {
		_, other := h.start(t, "42")
		resp := h.get(t, RouteConnectCallback, url.Values{"code": {"ac_good"}, "state": {state}}, other)
		if resp.Status != http.StatusBadRequest {
			t.Errorf("status %d", resp.Status)
		}
	})
	t.Run("tampered state", func(t *testing.T) {
		enc, sig, _ := strings.Cut(state, ".")
		forged := strings.Replace(enc, enc[:4], "AAAA", 1) + "." + sig
		resp := h.get(t, RouteConnectCallback, url.Values{"code": {"ac_good"}, "state": {forged}}, cookie)
		if resp.Status != http.StatusBadRequest {
			t.Errorf("status %d", resp.Status)
		}
	})
	t.Run("merchant declined", func(t *testing.T) {
		resp := h.get(t, RouteConnectCallback, url.Values{"error": {"access_denied"}, "error_description": {"The user denied your request"}, "state": {state}}, cookie)
		if resp.Status != http.StatusBadRequest || !strings.Contains(string(resp.Body), "access_denied") {
			t.Errorf("status %d: %s", resp.Status, resp.Body)
		}
	})
	t.Run("unknown code", func(t *testing.T) {
		resp := h.get(t, RouteConnectCallback, url.Values{"code": {"ac_nope"}, "state": {state}}, cookie)
		if resp.Status != http.StatusBadRequest || !strings.Contains(string(resp.Body), "invalid_grant") || len(resp.Events) != 0 {
			t.Errorf("status %d: %s", resp.Status, resp.Body)
		}
	})
	t.Run("success", func(t *testing.T) {
		resp := h.get(t, RouteConnectCallback, url.Values{"code": {"ac_good"}, "state": {state}}, cookie)
		if resp.Status != http.StatusOK || !strings.Contains(string(resp.Body), "acct_1Connected0001") {
			t.Fatalf("status %d: %s", resp.Status, resp.Body)
		}
		wantAccountEvent(t, resp, provider.AccountConnected, map[string]string{
			"merchant_id": "42", "account_id": "acct_1Connected0001", "livemode": "false"})
		for k := range resp.Headers {
			if strings.HasPrefix(k, "X-Switchyard-") {
				t.Errorf("interim result header %s still set", k)
			}
		}
		if strings.Contains(string(resp.Body), "sk_test_ConnectedAccessToken") || strings.Contains(string(resp.Body), "rt_Connected") {
			t.Error("page shows the connected account's tokens")
		}
	})
	t.Run("reused code", func(t *testing.T) {
		resp := h.get(t, RouteConnectCallback, url.Values{"code": {"ac_good"}, "state": {state}}, cookie)
		if resp.Status != http.StatusBadRequest || !strings.Contains(string(resp.Body), "already used") || len(resp.Events) != 0 {
			t.Errorf("status %d: %s", resp.Status, resp.Body)
		}
	})
	t.Run("expired state", func(t *testing.T) {
		state, cookie := h.start(t, "42")
		h.advance(stateTTL + time.Second)
		resp := h.get(t, RouteConnectCallback, url.Values{"code": {"ac_other"}, "state": {state}}, cookie)
		if resp.Status != http.StatusBadRequest || !strings.Contains(string(resp.Body), "expired") {
			t.Errorf("status %d: %s", resp.Status, resp.Body)
		}
	})
}

func TestConnectDisconnect(t *testing.T) {
	h := newConnectHarness(t)
	state, cookie := h.start(t, "42")
	if resp := h.get(t, RouteConnectCallback, url.Values{"code": {"ac_good"}, "state": {state}}, cookie); resp.Status != http.StatusOK {
		t.Fatalf("connect: %d %s", resp.Status, resp.Body)
	}
	exp := webhookNow.Add(5 * time.Minute)
	q := func(merchant, account, token string) url.Values {
		return url.Values{"merchant": {merchant}, "account": {account}, "exp": {strconv.FormatInt(exp.Unix(), 10)}, "token": {token}}
	}
	secret := []byte(testStartToken)

	if resp := h.get(t, RouteConnectDisconnect, q("42", "acct_1Connected0001", ConnectStartToken(secret, "42", exp)), ""); resp.Status != http.StatusForbidden {
		t.Errorf("start token accepted for disconnect: %d", resp.Status)
	}
	if resp := h.get(t, RouteConnectDisconnect, q("42", "acct_1Connected0001", ConnectDisconnectToken(secret, "42", "acct_1Other", exp)), ""); resp.Status != http.StatusForbidden {
		t.Errorf("token for another account accepted: %d", resp.Status)
	}
	if n := len(h.fake.deauth); n != 0 {
		t.Fatalf("%d deauthorize calls before a valid token", n)
	}

	// POST form, as an admin page's button would send it.
	form := q("42", "acct_1Connected0001", ConnectDisconnectToken(secret, "42", "acct_1Connected0001", exp))
	resp, err := h.p.HandleHTTP(ctx(t), provider.HTTPRequest{
		Method: http.MethodPost, Path: RouteConnectDisconnect, Body: []byte(form.Encode()),
		Headers: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}},
		BaseURL: "https://pay.example.test/p/prv_stripe",
	})
	if err != nil || resp.Status != http.StatusOK {
		t.Fatalf("disconnect: %d %v %s", resp.Status, err, resp.Body)
	}
	wantAccountEvent(t, resp, provider.AccountDisconnected, map[string]string{"merchant_id": "42", "account_id": "acct_1Connected0001"})
	h.fake.mu.Lock()
	calls := append([]url.Values(nil), h.fake.deauth...)
	h.fake.mu.Unlock()
	if len(calls) != 1 || calls[0].Get("client_id") != testClientID || calls[0].Get("stripe_user_id") != "acct_1Connected0001" {
		t.Errorf("deauthorize calls %v", calls)
	}

	// Already disconnected: Stripe answers invalid_client.
	again := h.get(t, RouteConnectDisconnect, form, "")
	if again.Status != http.StatusBadRequest || !strings.Contains(string(again.Body), "invalid_client") || len(again.Events) != 0 {
		t.Errorf("second disconnect: %d %s events %+v", again.Status, again.Body, again.Events)
	}
}

func TestConnectDisabledWithoutSettings(t *testing.T) {
	p := configured(t, baseSettings("http://127.0.0.1:1"))
	resp, err := p.HandleHTTP(ctx(t), provider.HTTPRequest{Method: http.MethodGet, Path: RouteConnectStart, BaseURL: "https://x.test/p/s"})
	if err != nil || resp.Status != http.StatusNotFound {
		t.Errorf("status %d, %v", resp.Status, err)
	}
}

// wantAccountEvent checks that a Connect route reported exactly one
// account event with the given data, identified and timed by the clock.
func wantAccountEvent(t *testing.T, resp provider.HTTPResponse, typ provider.EventType, data map[string]string) {
	t.Helper()
	if len(resp.Events) != 1 {
		t.Fatalf("events %+v, want one %s", resp.Events, typ)
	}
	e := resp.Events[0]
	if e.Type != typ || !e.Type.Valid() || e.ProviderEventID == "" || e.OccurredAt.IsZero() || e.ProviderRef != "" || e.SessionID != "" {
		t.Errorf("event %+v", e)
	}
	if len(e.Data) != len(data) {
		t.Errorf("event data %v, want %v", e.Data, data)
	}
	for k, v := range data {
		if e.Data[k] != v {
			t.Errorf("Data[%s] = %q, want %q", k, e.Data[k], v)
		}
	}
}

func TestConnectStartLink(t *testing.T) {
	h := newConnectHarness(t)
	resp := h.get(t, provider.AdminConnectStartLinkPath, url.Values{"merchant": {"42"}}, "")
	if resp.Status != http.StatusOK || resp.Headers.Get("Content-Type") != "application/json" {
		t.Fatalf("status %d: %s", resp.Status, resp.Body)
	}
	var link provider.ConnectStartLink
	if err := json.Unmarshal(resp.Body, &link); err != nil {
		t.Fatal(err)
	}
	if !link.ExpiresAt.Equal(webhookNow.Add(startLinkTTL)) {
		t.Errorf("expires_at %v, want %v", link.ExpiresAt, webhookNow.Add(startLinkTTL))
	}
	u, err := url.Parse(link.URL)
	if err != nil || u.Scheme+"://"+u.Host+u.Path != "https://pay.example.test/p/prv_stripe"+RouteConnectStart {
		t.Fatalf("link %q", link.URL)
	}
	// The minted link is exactly what /connect/start accepts, until it expires.
	q := u.Query()
	if q.Get("token") != ConnectStartToken([]byte(testStartToken), "42", link.ExpiresAt) {
		t.Errorf("token does not follow the documented formula")
	}
	if start := h.get(t, RouteConnectStart, q, ""); start.Status != http.StatusFound {
		t.Errorf("minted link refused by /connect/start: %d %s", start.Status, start.Body)
	}
	h.advance(startLinkTTL + time.Second)
	if start := h.get(t, RouteConnectStart, q, ""); start.Status != http.StatusForbidden {
		t.Errorf("expired minted link: %d, want 403", start.Status)
	}

	if bad := h.get(t, provider.AdminConnectStartLinkPath, url.Values{"merchant": {"4 2"}}, ""); bad.Status != http.StatusBadRequest {
		t.Errorf("bad merchant: %d", bad.Status)
	}
	off := configured(t, baseSettings("http://127.0.0.1:1"))
	resp, err = off.HandleHTTP(ctx(t), provider.HTTPRequest{Method: http.MethodGet, Path: provider.AdminConnectStartLinkPath,
		Query: "merchant=42", BaseURL: "https://x.test/p/s"})
	if err != nil || resp.Status != http.StatusNotFound {
		t.Errorf("without connect settings: %d %v", resp.Status, err)
	}
}

func TestConnectAdminDisconnect(t *testing.T) {
	h := newConnectHarness(t)
	state, cookie := h.start(t, "42")
	if resp := h.get(t, RouteConnectCallback, url.Values{"code": {"ac_good"}, "state": {state}}, cookie); resp.Status != http.StatusOK {
		t.Fatalf("connect: %d %s", resp.Status, resp.Body)
	}
	post := func(q url.Values) provider.HTTPResponse {
		t.Helper()
		resp, err := h.p.HandleHTTP(ctx(t), provider.HTTPRequest{Method: http.MethodPost, Path: provider.AdminConnectDisconnectPath,
			Query: q.Encode(), BaseURL: "https://pay.example.test/p/prv_stripe"})
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	q := url.Values{"merchant": {"42"}, "account": {"acct_1Connected0001"}}

	if resp := post(url.Values{"merchant": {"42"}, "account": {"not-an-account"}}); resp.Status != http.StatusBadRequest || len(resp.Events) != 0 {
		t.Errorf("bad account: %d %+v", resp.Status, resp.Events)
	}
	if resp := h.get(t, provider.AdminConnectDisconnectPath, q, ""); resp.Status != http.StatusMethodNotAllowed || len(resp.Events) != 0 {
		t.Errorf("GET: %d", resp.Status)
	}
	resp := post(q)
	if resp.Status != http.StatusOK {
		t.Fatalf("disconnect: %d %s", resp.Status, resp.Body)
	}
	wantAccountEvent(t, resp, provider.AccountDisconnected, map[string]string{"merchant_id": "42", "account_id": "acct_1Connected0001"})
	h.fake.mu.Lock()
	calls := len(h.fake.deauth)
	h.fake.mu.Unlock()
	if calls != 1 {
		t.Errorf("%d deauthorize calls, want 1", calls)
	}
	// Already revoked upstream (Stripe: invalid_client): the local
	// connection still ends.
	again := post(q)
	if again.Status != http.StatusOK || len(again.Events) != 1 {
		t.Errorf("second disconnect: %d %s %+v", again.Status, again.Body, again.Events)
	}
}

func TestConnectAdminDisconnectStripeUnreachable(t *testing.T) {
	settings := baseSettings("http://127.0.0.1:1")
	settings[SettingConnectBase] = "http://127.0.0.1:1"
	settings[SettingConnectClientID] = testClientID
	settings[SettingConnectStartSecret] = testStartToken
	p := configured(t, settings)
	resp, err := p.HandleHTTP(ctx(t), provider.HTTPRequest{Method: http.MethodPost, Path: provider.AdminConnectDisconnectPath,
		Query: "merchant=42&account=acct_1Connected0001", BaseURL: "https://pay.example.test/p/prv_stripe"})
	if err != nil || resp.Status != http.StatusBadGateway || len(resp.Events) != 0 {
		t.Errorf("status %d, events %+v, err %v", resp.Status, resp.Events, err)
	}
}
