package stripeprovider

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	stripe "github.com/stripe/stripe-go/v76"

	"github.com/switchyard/switchyard/sdk"
	"github.com/switchyard/switchyard/sdk/provider"
)

// Connect onboarding routes, relative to /p/{provider_id}.
const (
	RouteConnectStart      = "/connect/start"
	RouteConnectCallback   = "/connect/callback"
	RouteConnectDisconnect = "/connect/disconnect"
)

const (
	// stateCookie holds the nonce of the state the browser was sent off
	// with (double submit): a callback whose state was minted for another
	// browser fails even though its MAC is valid.
	stateCookie = "sy_stripe_connect"
	stateTTL    = 15 * time.Minute
	// maxAdminTokenTTL caps how far ahead an admin link may be valid, so a
	// leaked link dies quickly.
	maxAdminTokenTTL = time.Hour
)

// Purposes bound into admin tokens; a start token cannot disconnect.
const (
	purposeStart      = "connect-start"
	purposeDisconnect = "connect-disconnect"
)

// AdminToken is the token the admin side puts in /connect/start and
// /connect/disconnect links: lower-case hex of HMAC-SHA256 keyed with the
// connect_start_secret setting over purpose, merchant id, account id (empty
// for start) and the expiry in Unix seconds, joined by newlines. The core
// must compute exactly this (it never imports the plugin); the function is
// exported for tests and Go tooling.
func AdminToken(secret []byte, purpose, merchant, account string, exp time.Time) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(purpose + "\n" + merchant + "\n" + account + "\n" + strconv.FormatInt(exp.Unix(), 10)))
	return hex.EncodeToString(mac.Sum(nil))
}

// ConnectStartToken is AdminToken for a start link.
func ConnectStartToken(secret []byte, merchant string, exp time.Time) string {
	return AdminToken(secret, purposeStart, merchant, "", exp)
}

// ConnectDisconnectToken is AdminToken for a disconnect link.
func ConnectDisconnectToken(secret []byte, merchant, account string, exp time.Time) string {
	return AdminToken(secret, purposeDisconnect, merchant, account, exp)
}

// connectState is the signed OAuth state: which merchant the flow is for,
// the nonce also stored in the browser's cookie, and when it expires.
type connectState struct {
	Merchant string `json:"m"`
	Nonce    string `json:"n"`
	Expires  int64  `json:"e"`
}

func signState(key []byte, st connectState) string {
	payload, _ := json.Marshal(st)
	enc := base64.RawURLEncoding.EncodeToString(payload)
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("state\n" + enc))
	return enc + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

var (
	errBadState     = errors.New("the connection request is invalid or was tampered with")
	errExpiredState = errors.New("the connection request expired; start again from the admin panel")
)

func verifyState(key []byte, raw string, now time.Time) (connectState, error) {
	enc, sig, ok := strings.Cut(raw, ".")
	if !ok {
		return connectState{}, errBadState
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil {
		return connectState{}, errBadState
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("state\n" + enc))
	if !hmac.Equal(mac.Sum(nil), got) {
		return connectState{}, errBadState
	}
	payload, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil {
		return connectState{}, errBadState
	}
	var st connectState
	if err := json.Unmarshal(payload, &st); err != nil || st.Merchant == "" || st.Nonce == "" {
		return connectState{}, errBadState
	}
	if now.Unix() > st.Expires {
		return connectState{}, errExpiredState
	}
	return st, nil
}

// HandleHTTP implements provider.HTTPHandler: Connect Standard onboarding.
func (p *Provider) HandleHTTP(ctx context.Context, req provider.HTTPRequest) (provider.HTTPResponse, error) {
	if err := ctx.Err(); err != nil {
		return provider.HTTPResponse{}, err
	}
	inst, err := p.instance()
	if err != nil {
		return provider.HTTPResponse{}, err
	}
	switch req.Path {
	case RouteConnectStart, RouteConnectCallback, RouteConnectDisconnect,
		provider.AdminConnectStartLinkPath, provider.AdminConnectDisconnectPath:
	default:
		return page(http.StatusNotFound, "Not found", "There is nothing here."), nil
	}
	if inst.connectClientID == "" || len(inst.connectStartSecret) == 0 {
		if strings.HasPrefix(req.Path, provider.AdminPathPrefix) {
			return jsonResponse(http.StatusNotFound, "connect_not_configured",
				"this Stripe instance has no connect_client_id or connect_start_secret configured"), nil
		}
		return page(http.StatusNotFound, "Stripe Connect is not enabled",
			"This Stripe instance has no connect_client_id or connect_start_secret configured."), nil
	}
	switch req.Path {
	case provider.AdminConnectStartLinkPath:
		// Reached only through the host's admin API: the host never serves
		// AdminPathPrefix on the public passthrough.
		return p.connectStartLink(inst, req), nil
	case provider.AdminConnectDisconnectPath:
		if req.Method != http.MethodPost {
			return jsonResponse(http.StatusMethodNotAllowed, "method_not_allowed", "use POST"), nil
		}
		return p.adminDisconnect(ctx, inst, req), nil
	case RouteConnectStart:
		if req.Method != http.MethodGet {
			return page(http.StatusMethodNotAllowed, "Method not allowed", "Use GET."), nil
		}
		return p.connectStart(inst, req)
	case RouteConnectCallback:
		if req.Method != http.MethodGet {
			return page(http.StatusMethodNotAllowed, "Method not allowed", "Use GET."), nil
		}
		return p.connectCallback(ctx, inst, req), nil
	default:
		if req.Method != http.MethodGet && req.Method != http.MethodPost {
			return page(http.StatusMethodNotAllowed, "Method not allowed", "Use GET or POST."), nil
		}
		return p.connectDisconnect(ctx, inst, req), nil
	}
}

// checkAdminToken verifies an admin link's exp and token query parameters.
func (p *Provider) checkAdminToken(inst *instance, q url.Values, purpose, merchant, account string) error {
	exp, err := strconv.ParseInt(q.Get("exp"), 10, 64)
	if err != nil {
		return errors.New("the link has no valid expiry")
	}
	now := p.now()
	expires := time.Unix(exp, 0)
	if now.After(expires) {
		return errors.New("the link expired; create a new one in the admin panel")
	}
	if expires.Sub(now) > maxAdminTokenTTL {
		return errors.New("the link is valid for too long; create a new one in the admin panel")
	}
	got, err := hex.DecodeString(q.Get("token"))
	if err != nil {
		return errors.New("the link is not signed")
	}
	want, _ := hex.DecodeString(AdminToken(inst.connectStartSecret, purpose, merchant, account, expires))
	if !hmac.Equal(want, got) {
		return errors.New("the link signature is invalid")
	}
	return nil
}

// startLinkTTL is how long a minted start link stays valid: long enough
// for an operator to pass it on, and the most the start route accepts.
const startLinkTTL = maxAdminTokenTTL

// connectStartLink mints the signed /connect/start link for a merchant,
// so the core never needs connect_start_secret or the token formula.
func (p *Provider) connectStartLink(inst *instance, req provider.HTTPRequest) provider.HTTPResponse {
	merchant := req.QueryValues().Get("merchant")
	if !validMerchantID(merchant) {
		return jsonResponse(http.StatusBadRequest, "invalid_merchant", "merchant must be a merchant id")
	}
	exp := time.Unix(p.now().Add(startLinkTTL).Unix(), 0).UTC()
	q := url.Values{
		"merchant": {merchant},
		"exp":      {strconv.FormatInt(exp.Unix(), 10)},
		"token":    {ConnectStartToken(inst.connectStartSecret, merchant, exp)},
	}
	body, _ := json.Marshal(provider.ConnectStartLink{
		URL:       strings.TrimRight(req.BaseURL, "/") + RouteConnectStart + "?" + q.Encode(),
		ExpiresAt: exp,
	})
	h := noStore()
	h.Set("Content-Type", "application/json")
	return provider.HTTPResponse{Status: http.StatusOK, Headers: h, Body: body}
}

func (p *Provider) connectStart(inst *instance, req provider.HTTPRequest) (provider.HTTPResponse, error) {
	q := req.QueryValues()
	merchant := q.Get("merchant")
	if !validMerchantID(merchant) {
		return page(http.StatusBadRequest, "Cannot connect Stripe", "The link names no valid merchant."), nil
	}
	if err := p.checkAdminToken(inst, q, purposeStart, merchant, ""); err != nil {
		return page(http.StatusForbidden, "Cannot connect Stripe", err.Error()), nil
	}
	base, err := url.Parse(req.BaseURL)
	if err != nil || base.Host == "" {
		return provider.HTTPResponse{}, sdk.Invalid("base url %q is not absolute", req.BaseURL).WithField("base_url")
	}
	nonceBytes := make([]byte, 18)
	if _, err := rand.Read(nonceBytes); err != nil {
		return provider.HTTPResponse{}, sdk.Internal("read random: %w", err)
	}
	nonce := base64.RawURLEncoding.EncodeToString(nonceBytes)
	state := signState(inst.stateKey, connectState{Merchant: merchant, Nonce: nonce, Expires: p.now().Add(stateTTL).Unix()})

	authorize := url.Values{
		"response_type": {"code"},
		"client_id":     {inst.connectClientID},
		"scope":         {string(stripe.OAuthScopeTypeReadWrite)},
		"state":         {state},
		"redirect_uri":  {strings.TrimRight(req.BaseURL, "/") + RouteConnectCallback},
	}
	cookie := &http.Cookie{
		Name:     stateCookie,
		Value:    nonce,
		Path:     strings.TrimRight(base.EscapedPath(), "/") + "/connect/",
		MaxAge:   int(stateTTL / time.Second),
		HttpOnly: true,
		Secure:   base.Scheme == "https",
		// Lax: the callback is a top-level GET navigation from
		// connect.stripe.com, on which Lax cookies are sent.
		SameSite: http.SameSiteLaxMode,
	}
	h := noStore()
	h.Set("Location", inst.connectBase+"/oauth/authorize?"+authorize.Encode())
	h.Add("Set-Cookie", cookie.String())
	p.log.Info("stripe connect started", "merchant", merchant)
	return provider.HTTPResponse{Status: http.StatusFound, Headers: h}, nil
}

func (p *Provider) connectCallback(ctx context.Context, inst *instance, req provider.HTTPRequest) provider.HTTPResponse {
	q := req.QueryValues()
	st, err := verifyState(inst.stateKey, q.Get("state"), p.now())
	if err != nil {
		return page(http.StatusBadRequest, "Stripe connection failed", err.Error())
	}
	if !cookieMatches(req.Headers, st.Nonce) {
		return page(http.StatusBadRequest, "Stripe connection failed",
			"This browser did not start the connection (missing or different state cookie). Start again from the admin panel.")
	}
	clear := clearCookieHeader(req.BaseURL)
	if e := q.Get("error"); e != "" {
		// The merchant declined on Stripe's page (access_denied) or Stripe
		// refused the request.
		resp := page(http.StatusBadRequest, "Stripe connection was not completed",
			"Stripe answered "+e+": "+q.Get("error_description"))
		resp.Headers.Add("Set-Cookie", clear)
		return resp
	}
	code := q.Get("code")
	if code == "" {
		return page(http.StatusBadRequest, "Stripe connection failed", "Stripe sent no authorization code.")
	}
	params := &stripe.OAuthTokenParams{
		GrantType:    stripe.String("authorization_code"),
		Code:         stripe.String(code),
		ClientSecret: stripe.String(inst.secretKey),
	}
	params.Context = ctx
	tok, err := inst.api.OAuth.New(params)
	if err != nil {
		resp := oauthErrorPage(ctx, "connect", err)
		resp.Headers.Add("Set-Cookie", clear)
		p.log.Warn("stripe connect code exchange failed", "merchant", st.Merchant, "error", oauthErrorCode(err))
		return resp
	}
	if !validAccountID(tok.StripeUserID) {
		return page(http.StatusBadGateway, "Stripe connection failed", "Stripe returned no connected account id.")
	}
	p.log.Info("stripe account connected", "merchant", st.Merchant, "account", tok.StripeUserID, "livemode", tok.Livemode)
	resp := page(http.StatusOK, "Stripe account connected",
		"Merchant "+st.Merchant+" is now connected to Stripe account "+tok.StripeUserID+".")
	resp.Headers.Add("Set-Cookie", clear)
	// The host stores the account before it writes this page; if it cannot,
	// the browser gets the host's error page instead of this one.
	resp.Events = []provider.Event{p.accountEvent(provider.AccountConnected, st.Merchant, tok.StripeUserID, "/connect/callback",
		map[string]string{"livemode": strconv.FormatBool(tok.Livemode)})}
	return resp
}

// accountEvent builds an account.connected / account.disconnected event
// for an onboarding route. The id includes the time so a later reconnect
// of the same account is a new event, not a duplicate.
func (p *Provider) accountEvent(typ provider.EventType, merchant, account, rawType string, extra map[string]string) provider.Event {
	now := p.now().UTC()
	data := map[string]string{"merchant_id": merchant, "account_id": account}
	for k, v := range extra {
		data[k] = v
	}
	return provider.Event{
		Type:            typ,
		ProviderEventID: "connect:" + string(typ) + ":" + merchant + ":" + account + ":" + strconv.FormatInt(now.UnixNano(), 10),
		OccurredAt:      now,
		RawType:         rawType,
		Data:            data,
	}
}

func (p *Provider) connectDisconnect(ctx context.Context, inst *instance, req provider.HTTPRequest) provider.HTTPResponse {
	q := req.QueryValues()
	if req.Method == http.MethodPost && len(req.Body) > 0 {
		// A form POST carries its fields in the body.
		if form, err := url.ParseQuery(string(req.Body)); err == nil {
			for k, v := range form {
				q[k] = v
			}
		}
	}
	merchant, account := q.Get("merchant"), q.Get("account")
	if !validMerchantID(merchant) || !validAccountID(account) {
		return page(http.StatusBadRequest, "Cannot disconnect Stripe", "The link names no valid merchant and account.")
	}
	if err := p.checkAdminToken(inst, q, purposeDisconnect, merchant, account); err != nil {
		return page(http.StatusForbidden, "Cannot disconnect Stripe", err.Error())
	}
	if err := p.deauthorize(ctx, inst, merchant, account); err != nil {
		return oauthErrorPage(ctx, "disconnect", err)
	}
	resp := page(http.StatusOK, "Stripe account disconnected",
		"Stripe account "+account+" is no longer connected to merchant "+merchant+".")
	resp.Events = []provider.Event{p.accountEvent(provider.AccountDisconnected, merchant, account, RouteConnectDisconnect, nil)}
	return resp
}

// adminDisconnect is the operator route behind the admin API: the host
// already knows the merchant's account, so no signed link is needed.
func (p *Provider) adminDisconnect(ctx context.Context, inst *instance, req provider.HTTPRequest) provider.HTTPResponse {
	q := req.QueryValues()
	merchant, account := q.Get("merchant"), q.Get("account")
	if !validMerchantID(merchant) || !validAccountID(account) {
		return jsonResponse(http.StatusBadRequest, "invalid_request", "merchant and a Stripe account id are required")
	}
	if err := p.deauthorize(ctx, inst, merchant, account); err != nil {
		var se *stripe.Error
		if errors.As(err, &se) && se.OAuthError != "" {
			// invalid_client: Stripe no longer links the account to this
			// platform (revoked upstream); nothing is left to revoke.
			if se.OAuthError != "invalid_client" {
				return jsonResponse(http.StatusBadGateway, "stripe_"+se.OAuthError, "Stripe refused the deauthorization: "+se.OAuthErrorDescription)
			}
			p.log.Info("stripe account was already deauthorized upstream", "merchant", merchant, "account", account)
		} else {
			return jsonResponse(http.StatusBadGateway, "stripe_unreachable", "could not reach Stripe to deauthorize; try again")
		}
	}
	body, _ := json.Marshal(map[string]any{"disconnected": true})
	resp := provider.HTTPResponse{Status: http.StatusOK, Headers: http.Header{"Content-Type": {"application/json"}}, Body: body}
	resp.Events = []provider.Event{p.accountEvent(provider.AccountDisconnected, merchant, account, provider.AdminConnectDisconnectPath, nil)}
	return resp
}

// deauthorize revokes the platform's access to a connected account
// (POST /oauth/deauthorize).
func (p *Provider) deauthorize(ctx context.Context, inst *instance, merchant, account string) error {
	params := &stripe.DeauthorizeParams{
		ClientID:     stripe.String(inst.connectClientID),
		StripeUserID: stripe.String(account),
	}
	params.Context = ctx
	if _, err := inst.api.OAuth.Del(params); err != nil {
		p.log.Warn("stripe connect deauthorize failed", "merchant", merchant, "account", account, "error", oauthErrorCode(err))
		return err
	}
	p.log.Info("stripe account disconnected", "merchant", merchant, "account", account)
	return nil
}

func validMerchantID(m string) bool {
	if m == "" || len(m) > 64 {
		return false
	}
	for _, r := range m {
		if !(r == '_' || r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

func cookieMatches(h map[string][]string, nonce string) bool {
	r := http.Request{Header: h}
	c, err := r.Cookie(stateCookie)
	if err != nil {
		return false
	}
	return hmac.Equal([]byte(c.Value), []byte(nonce))
}

func clearCookieHeader(baseURL string) string {
	path := "/"
	if u, err := url.Parse(baseURL); err == nil {
		path = strings.TrimRight(u.EscapedPath(), "/") + "/connect/"
	}
	c := &http.Cookie{Name: stateCookie, Value: "", Path: path, MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode}
	return c.String()
}

func oauthErrorCode(err error) string {
	var se *stripe.Error
	if errors.As(err, &se) {
		return firstNonEmpty(se.OAuthError, string(se.Code), strconv.Itoa(se.HTTPStatusCode))
	}
	return "network_error"
}

// oauthErrorPage explains a failed OAuth call to the admin in the browser.
func oauthErrorPage(ctx context.Context, op string, err error) provider.HTTPResponse {
	var se *stripe.Error
	switch {
	case ctx.Err() != nil || !errors.As(err, &se):
		return page(http.StatusBadGateway, "Stripe is unreachable", "Could not reach Stripe to "+op+"; try again.")
	case se.OAuthError == "invalid_grant":
		return page(http.StatusBadRequest, "Stripe connection failed",
			"The authorization code is invalid, expired or was already used (invalid_grant). Start again from the admin panel.")
	case se.OAuthError != "":
		return page(http.StatusBadRequest, "Stripe "+op+" failed", "Stripe answered "+se.OAuthError+": "+se.OAuthErrorDescription)
	case se.HTTPStatusCode == http.StatusUnauthorized:
		return page(http.StatusBadGateway, "Stripe "+op+" failed", "Stripe rejected this instance's secret key.")
	}
	return page(http.StatusBadGateway, "Stripe "+op+" failed", "Stripe answered with status "+strconv.Itoa(se.HTTPStatusCode)+".")
}

func noStore() http.Header {
	return http.Header{
		"Cache-Control":   {"no-store"},
		"Referrer-Policy": {"no-referrer"},
	}
}

var pageTemplate = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem">
<h1>{{.Title}}</h1><p>{{.Message}}</p></body></html>
`))

func page(status int, title, message string) provider.HTTPResponse {
	var buf bytes.Buffer
	_ = pageTemplate.Execute(&buf, struct{ Title, Message string }{title, message})
	h := noStore()
	h.Set("Content-Type", "text/html; charset=utf-8")
	return provider.HTTPResponse{Status: status, Headers: h, Body: buf.Bytes()}
}
