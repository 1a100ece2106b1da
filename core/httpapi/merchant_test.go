package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/switchyard/switchyard/config"
	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/payments"
	"github.com/switchyard/switchyard/core/payments/paymentstest"
	"github.com/switchyard/switchyard/core/ratelimit"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/core/store/storetest"
	"github.com/switchyard/switchyard/plugins/sandbox/sandbox"
)

const (
	testSandboxSecret = "sandbox-signing-secret-0123456789"
	testBodyLimit     = 16 << 10
	webhookAlias      = "/api/webhook.php"
)

// apiEnv is the merchant API and webhook intake on a real store, real
// payments service and the sandbox provider through the gRPC harness.
type apiEnv struct {
	*paymentstest.Env
	e *echo.Echo
}

func newAPIEnv(t testing.TB, st *store.Store, limit MerchantAPIOptions) *apiEnv {
	t.Helper()
	env := paymentstest.New(t, st, paymentstest.Options{
		Sessions: config.SessionsConfig{MaxAmount: "1000000"},
		Instances: []paymentstest.Instance{{ID: "sbx", Impl: sandbox.New(),
			Settings: map[string]string{sandbox.SettingSigningSecret: testSandboxSecret}}},
	})
	if limit.RequestsPerSecond == 0 {
		limit = MerchantAPIOptions{RequestsPerSecond: 1e6, Burst: 1e6}
	}
	limit.Refunds = env.Refunds
	e := New(Options{BodyLimit: testBodyLimit},
		MerchantAPI(env.Service, env.Merchants, limit),
		ProviderHooks(env.Service, ProviderHooksOptions{Aliases: map[string]string{webhookAlias: "sbx"}}))
	return &apiEnv{Env: env, e: e}
}

func (a *apiEnv) do(method, path, token, body string, hdr ...string) *httptest.ResponseRecorder {
	var r *http.Request
	if body == "" {
		r = httptest.NewRequest(method, path, nil)
	} else {
		r = httptest.NewRequest(method, path, strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	a.e.ServeHTTP(rec, r)
	return rec
}

func (a *apiEnv) count(t testing.TB, merchantID int64) int64 {
	t.Helper()
	n, err := a.Store.CountSessions(context.Background(), merchantID)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

var createPaths = []string{"/v1/sessions", "/gateway/session.php"}

const validBody = `{"domain":"shop.test","amount":"49.95","currency":"USD","order_id":"ORDER-1"}`

// body builds a create body from the valid one with fields replaced
// (a nil value deletes the field).
func body(t testing.TB, changes map[string]any) string {
	t.Helper()
	m := map[string]any{}
	if err := json.Unmarshal([]byte(validBody), &m); err != nil {
		t.Fatal(err)
	}
	for k, v := range changes {
		if v == nil {
			delete(m, k)
			continue
		}
		m[k] = v
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestMerchantAPICreateErrors(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		a := newAPIEnv(t, st, MerchantAPIOptions{})
		free := a.Merchant(t, domain.PlanFree, "shop.test")
		pro := a.Merchant(t, domain.PlanPro, "shop.test")
		freeKey, _ := a.Key(t, free.ID, domain.ModeTest)
		freeLive, _ := a.Key(t, free.ID, domain.ModeLive)
		proKey, _ := a.Key(t, pro.ID, domain.ModeTest)
		bigMeta := map[string]string{}
		for i := range 51 {
			bigMeta[fmt.Sprintf("k%d", i)] = "v"
		}
		type tc struct {
			name   string
			key    string
			body   string
			hdr    []string
			status int
			code   string
			field  string
		}
		withMethod := func(m map[string]any) map[string]any { m["method"] = "card"; return m }
		cases := []tc{
			{"missing domain", freeKey, body(t, map[string]any{"domain": nil}), nil, 400, "missing_field", "domain"},
			{"empty domain", freeKey, body(t, map[string]any{"domain": ""}), nil, 400, "missing_field", "domain"},
			{"missing amount", freeKey, body(t, map[string]any{"amount": nil}), nil, 400, "missing_field", "amount"},
			{"null amount", freeKey, `{"domain":"shop.test","amount":null,"currency":"USD","order_id":"O"}`, nil, 400, "missing_field", "amount"},
			{"missing currency", freeKey, body(t, map[string]any{"currency": nil}), nil, 400, "missing_field", "currency"},
			{"missing order_id", freeKey, body(t, map[string]any{"order_id": nil}), nil, 400, "missing_field", "order_id"},
			{"domain other case", freeKey, body(t, map[string]any{"domain": "SHOP.test"}), nil, 400, "invalid_domain", "domain"},
			{"domain suffix trick", freeKey, body(t, map[string]any{"domain": "shop.test.evil.example"}), nil, 400, "invalid_domain", "domain"},
			{"domain subdomain", freeKey, body(t, map[string]any{"domain": "www.shop.test"}), nil, 400, "invalid_domain", "domain"},
			{"domain trailing dot", freeKey, body(t, map[string]any{"domain": "shop.test."}), nil, 400, "invalid_domain", "domain"},
			{"amount as JSON number", freeKey, `{"domain":"shop.test","amount":49.95,"currency":"USD","order_id":"O"}`, nil, 400, "invalid_amount", "amount"},
			{"amount too many decimals", freeKey, body(t, map[string]any{"amount": "49.955"}), nil, 400, "invalid_amount", "amount"},
			{"amount decimals on JPY", freeKey, body(t, map[string]any{"amount": "5.5", "currency": "JPY"}), nil, 400, "invalid_amount", "amount"},
			{"amount negative", freeKey, body(t, map[string]any{"amount": "-1.00"}), nil, 400, "invalid_amount", "amount"},
			{"amount zero", freeKey, body(t, map[string]any{"amount": "0"}), nil, 400, "invalid_amount", "amount"},
			{"amount words", freeKey, body(t, map[string]any{"amount": "ten"}), nil, 400, "invalid_amount", "amount"},
			{"amount over the maximum", freeKey, body(t, map[string]any{"amount": "1000000.01"}), nil, 400, "amount_too_large", "amount"},
			{"currency unknown", freeKey, body(t, map[string]any{"currency": "ZZZ"}), nil, 400, "invalid_currency", "currency"},
			{"currency not tender", freeKey, body(t, map[string]any{"currency": "XXX"}), nil, 400, "invalid_currency", "currency"},
			{"currency short", freeKey, body(t, map[string]any{"currency": "US"}), nil, 400, "invalid_currency", "currency"},
			{"order_id too long", freeKey, body(t, map[string]any{"order_id": strings.Repeat("A", 65)}), nil, 400, "invalid_order_id", "order_id"},
			{"order_id with space", freeKey, body(t, map[string]any{"order_id": "ORDER 1"}), nil, 400, "invalid_order_id", "order_id"},
			{"order_id with slash", freeKey, body(t, map[string]any{"order_id": "../1"}), nil, 400, "invalid_order_id", "order_id"},
			{"return_url relative", freeKey, body(t, map[string]any{"return_url": "/success"}), nil, 400, "invalid_url", "return_url"},
			{"return_url javascript", freeKey, body(t, map[string]any{"return_url": "javascript:alert(1)"}), nil, 400, "invalid_url", "return_url"},
			{"cancel_url ftp", freeKey, body(t, map[string]any{"cancel_url": "ftp://shop.test/x"}), nil, 400, "invalid_url", "cancel_url"},
			{"ipn_url relative", freeKey, body(t, map[string]any{"ipn_url": "ipn.php"}), nil, 400, "invalid_url", "ipn_url"},
			{"http url with live key", freeLive, body(t, map[string]any{"return_url": "http://shop.test/ok"}), nil, 400, "invalid_url", "return_url"},
			{"email invalid", freeKey, body(t, map[string]any{"customer_email": "buyer"}), nil, 400, "invalid_email", "customer_email"},
			{"email with name", freeKey, body(t, map[string]any{"customer_email": "Bob <bob@example.com>"}), nil, 400, "invalid_email", "customer_email"},
			{"method on hosted checkout", freeKey, body(t, withMethod(map[string]any{})), nil, 400, "method_not_allowed", "method"},
			{"no method on smart routing", proKey, validBody, nil, 400, "method_required", "method"},
			{"unknown method", proKey, body(t, map[string]any{"method": "crypto"}), nil, 422, "method_unavailable", "method"},
			{"provider field", proKey, body(t, map[string]any{"method": "card", "provider": "stripe"}), nil, 400, "provider_not_allowed", "provider"},
			{"provider null", freeKey, `{"domain":"shop.test","amount":"1.00","currency":"USD","order_id":"O","provider":null}`, nil, 400, "provider_not_allowed", "provider"},
			{"metadata too many keys", freeKey, body(t, map[string]any{"metadata": bigMeta}), nil, 400, "metadata_too_large", "metadata"},
			{"metadata long value", freeKey, body(t, map[string]any{"metadata": map[string]string{"k": strings.Repeat("v", 501)}}), nil, 400, "metadata_too_large", "metadata"},
			{"metadata long key", freeKey, body(t, map[string]any{"metadata": map[string]string{strings.Repeat("k", 41): "v"}}), nil, 400, "metadata_too_large", "metadata"},
			{"metadata non-string value", freeKey, body(t, map[string]any{"metadata": map[string]any{"k": 1}}), nil, 400, "invalid_type", "metadata.k"},
			// Strict JSON: a body must read the same to every parser. With
			// last-key-wins or case-insensitive matching these created a
			// 1000.00 session while a WAF, signer or log reader saw 1.00.
			{"duplicate amount", freeKey, `{"domain":"shop.test","amount":"1.00","amount":"1000.00","currency":"USD","order_id":"DUP"}`, nil, 400, "duplicate_field", "amount"},
			{"duplicate amount, escaped name", freeKey, `{"domain":"shop.test","amount":"1.00","\u0061mount":"1000.00","currency":"USD","order_id":"DUP"}`, nil, 400, "duplicate_field", "amount"},
			{"duplicate metadata key", freeKey, `{"domain":"shop.test","amount":"1.00","currency":"USD","order_id":"DUP","metadata":{"sku":"a","sku":"b"}}`, nil, 400, "duplicate_field", "metadata.sku"},
			{"duplicate currency", freeKey, `{"domain":"shop.test","amount":"1.00","currency":"USD","order_id":"DUP","currency":"EUR"}`, nil, 400, "duplicate_field", "currency"},
			{"upper-case AMOUNT", freeKey, `{"domain":"shop.test","amount":"1.00","AMOUNT":"1000.00","currency":"USD","order_id":"DUP"}`, nil, 400, "field_case_mismatch", "AMOUNT"},
			{"mixed-case Amount alone", freeKey, `{"domain":"shop.test","Amount":"1.00","currency":"USD","order_id":"DUP"}`, nil, 400, "field_case_mismatch", "Amount"},
			{"mixed-case Order_ID", freeKey, `{"domain":"shop.test","amount":"1.00","currency":"USD","Order_ID":"DUP"}`, nil, 400, "field_case_mismatch", "Order_ID"},
			{"invalid UTF-8", freeKey, "{\"domain\":\"shop.test\",\"amount\":\"1.00\",\"currency\":\"USD\",\"order_id\":\"D\xffUP\"}", nil, 400, "invalid_json", "order_id"},
			{"unknown field", freeKey, body(t, map[string]any{"colour": "red"}), nil, 400, "unknown_field", "colour"},
			{"wrong type", freeKey, body(t, map[string]any{"domain": 5}), nil, 400, "invalid_type", "domain"},
			{"malformed json", freeKey, `{"domain":`, nil, 400, "invalid_json", ""},
			{"bad idempotency key", freeKey, validBody, []string{IdempotencyKeyHeader, "has space"}, 400, "invalid_idempotency_key", "Idempotency-Key"},
		}
		for _, path := range createPaths {
			for _, c := range cases {
				t.Run(path+"/"+c.name, func(t *testing.T) {
					before := a.count(t, free.ID) + a.count(t, pro.ID)
					rec := a.do(http.MethodPost, path, c.key, c.body, c.hdr...)
					if rec.Code != c.status {
						t.Fatalf("status = %d, want %d: %s", rec.Code, c.status, rec.Body)
					}
					d := decodeErr(t, rec)
					if d.Code != c.code || d.Field != c.field || d.Message == "" {
						t.Fatalf("error = %+v, want code %s field %q", d, c.code, c.field)
					}
					if after := a.count(t, free.ID) + a.count(t, pro.ID); after != before {
						t.Fatalf("rejected request changed sessions: %d -> %d", before, after)
					}
				})
			}
			t.Run(path+"/not JSON", func(t *testing.T) {
				r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(validBody))
				r.Header.Set("Content-Type", "text/plain")
				r.Header.Set("Authorization", "Bearer "+freeKey)
				rec := httptest.NewRecorder()
				a.e.ServeHTTP(rec, r)
				if rec.Code != http.StatusUnsupportedMediaType {
					t.Fatalf("status = %d", rec.Code)
				}
			})
		}
		// The JSON-number message asks for a string.
		rec := a.do(http.MethodPost, "/v1/sessions", freeKey, `{"domain":"shop.test","amount":49.95,"currency":"USD","order_id":"O"}`)
		if d := decodeErr(t, rec); !strings.Contains(d.Message, "string") {
			t.Fatalf("message = %q", d.Message)
		}
	})
}

func TestMerchantAPIAuth(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		a := newAPIEnv(t, st, MerchantAPIOptions{})
		m := a.Merchant(t, domain.PlanFree, "shop.test")
		other := a.Merchant(t, domain.PlanFree, "shop.test")
		key, _ := a.Key(t, m.ID, domain.ModeTest)
		liveKey, _ := a.Key(t, m.ID, domain.ModeLive)
		otherKey, _ := a.Key(t, other.ID, domain.ModeTest)
		meOnly, _ := a.Key(t, m.ID, domain.ModeTest, "me:read")
		revoked, _ := a.Key(t, m.ID, domain.ModeTest)
		rk, err := a.Merchants.Authenticate(context.Background(), revoked)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.Merchants.RevokeKey(context.Background(), rk.Key.ID); err != nil {
			t.Fatal(err)
		}
		rec := a.do(http.MethodPost, "/v1/sessions", liveKey, body(t, map[string]any{"order_id": "LIVE-1"}))
		if rec.Code != http.StatusCreated {
			t.Fatalf("live create = %d %s", rec.Code, rec.Body)
		}
		var live payments.SessionView
		_ = json.Unmarshal(rec.Body.Bytes(), &live)
		rec = a.do(http.MethodPost, "/v1/sessions", key, validBody)
		var own payments.SessionView
		_ = json.Unmarshal(rec.Body.Bytes(), &own)

		type route struct{ method, path, body string }
		routes := map[string][]route{
			"create": {{http.MethodPost, "/v1/sessions", validBody}, {http.MethodPost, "/gateway/session.php", validBody}},
			"status": {{http.MethodGet, "/v1/sessions/" + own.SessionID, ""}, {http.MethodGet, "/gateway/status.php?session_id=" + own.SessionID, ""}},
			"me":     {{http.MethodGet, "/v1/me", ""}, {http.MethodGet, "/gateway/me.php", ""}},
		}
		for name, rs := range routes {
			for _, r := range rs {
				t.Run(name+" "+r.path, func(t *testing.T) {
					for _, c := range []struct {
						name, auth string
						status     int
						code       string
					}{
						{"missing", "", 401, "missing_api_key"},
						{"wrong scheme", "Basic " + key, 401, "missing_api_key"},
						{"malformed", "Bearer not-a-key", 401, "malformed_api_key"},
						{"unknown", "Bearer sk_test_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 401, "invalid_api_key"},
						{"revoked", "Bearer " + revoked, 401, "revoked_api_key"},
					} {
						req := httptest.NewRequest(r.method, r.path, strings.NewReader(r.body))
						if c.auth != "" {
							req.Header.Set("Authorization", c.auth)
						}
						rec := httptest.NewRecorder()
						a.e.ServeHTTP(rec, req)
						if rec.Code != c.status || decodeErr(t, rec).Code != c.code {
							t.Fatalf("%s: %d %s, want %d %s", c.name, rec.Code, rec.Body, c.status, c.code)
						}
						if rec.Header().Get("WWW-Authenticate") == "" {
							t.Fatalf("%s: no WWW-Authenticate", c.name)
						}
						if strings.Contains(rec.Body.String(), "sk_test_AAAA") || strings.Contains(rec.Body.String(), revoked) {
							t.Fatalf("%s: key echoed: %s", c.name, rec.Body)
						}
					}
				})
			}
		}
		for _, r := range append(routes["create"], routes["status"]...) {
			t.Run("scope "+r.path, func(t *testing.T) {
				rec := a.do(r.method, r.path, meOnly, r.body)
				d := decodeErr(t, rec)
				if rec.Code != http.StatusForbidden || d.Code != "insufficient_scope" || !strings.Contains(d.Message, "sessions:") {
					t.Fatalf("%d %+v", rec.Code, d)
				}
			})
		}
		for _, path := range []string{"/v1/sessions/", "/gateway/status.php?session_id="} {
			t.Run("tenancy "+path, func(t *testing.T) {
				for name, c := range map[string]struct{ key, id string }{
					"other merchant":           {otherKey, own.SessionID},
					"test key on live session": {key, live.SessionID},
					"live key on test session": {liveKey, own.SessionID},
					"unknown id":               {key, domain.NewSessionID()},
					"junk id":                  {key, "cs_x"},
				} {
					rec := a.do(http.MethodGet, path+c.id, c.key, "")
					if rec.Code != http.StatusNotFound || decodeErr(t, rec).Code != "resource_missing" {
						t.Fatalf("%s: %d %s", name, rec.Code, rec.Body)
					}
				}
			})
		}
		rec = a.do(http.MethodGet, "/gateway/status.php", key, "")
		if d := decodeErr(t, rec); rec.Code != 400 || d.Code != "missing_field" || d.Field != "session_id" {
			t.Fatalf("status.php without id: %d %+v", rec.Code, d)
		}
	})
}

func TestMerchantAPIBodyLimitAndRateLimit(t *testing.T) {
	st := storetest.SQLite(t)
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	a := newAPIEnv(t, st, MerchantAPIOptions{RequestsPerSecond: 1, Burst: 2, Now: func() time.Time { return now }})
	m := a.Merchant(t, domain.PlanFree, "shop.test")
	key, _ := a.Key(t, m.ID, domain.ModeTest)
	other, _ := a.Key(t, m.ID, domain.ModeTest)

	big := body(t, map[string]any{"metadata": map[string]string{"k": strings.Repeat("x", testBodyLimit)}})
	rec := a.do(http.MethodPost, "/v1/sessions", key, big)
	if rec.Code != http.StatusRequestEntityTooLarge || decodeErr(t, rec).Code != "body_too_large" {
		t.Fatalf("oversized body: %d %s", rec.Code, rec.Body)
	}
	// The 413 is decided before authentication and costs no token; the
	// burst of two is then spent by two requests.
	for range 2 {
		if rec := a.do(http.MethodGet, "/v1/me", key, ""); rec.Code != http.StatusOK {
			t.Fatalf("me = %d %s", rec.Code, rec.Body)
		}
	}
	for _, path := range []string{"/v1/me", "/gateway/me.php"} {
		rec := a.do(http.MethodGet, path, key, "")
		if rec.Code != http.StatusTooManyRequests || decodeErr(t, rec).Code != "rate_limited" || rec.Header().Get("Retry-After") != "1" {
			t.Fatalf("%s over the limit: %d %s Retry-After=%q", path, rec.Code, rec.Body, rec.Header().Get("Retry-After"))
		}
	}
	if rec := a.do(http.MethodGet, "/v1/me", other, ""); rec.Code != http.StatusOK {
		t.Fatalf("another key is limited separately: %d", rec.Code)
	}
	now = now.Add(time.Second)
	if rec := a.do(http.MethodGet, "/v1/me", key, ""); rec.Code != http.StatusOK {
		t.Fatalf("after refill: %d", rec.Code)
	}
}

// A shared limiter that cannot reach Redis and fails closed refuses with
// 503 (our fault, not the caller's), never with 429 or by letting it pass.
func TestMerchantAPIRateLimiterUnavailable(t *testing.T) {
	st := storetest.SQLite(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "redis://" + ln.Addr().String() + "/0"
	_ = ln.Close()
	client, err := ratelimit.NewRedisClient(dead, 100*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	lim, err := ratelimit.NewShared(client, ratelimit.SharedOptions{Name: "api", Rate: ratelimit.Rate{PerSecond: 10, Burst: 10}, FailClosed: true})
	if err != nil {
		t.Fatal(err)
	}
	a := newAPIEnv(t, st, MerchantAPIOptions{Limiter: lim, RequestsPerSecond: 1})
	m := a.Merchant(t, domain.PlanFree, "shop.test")
	key, _ := a.Key(t, m.ID, domain.ModeTest)
	rec := a.do(http.MethodGet, "/v1/me", key, "")
	if rec.Code != http.StatusServiceUnavailable || decodeErr(t, rec).Code != "rate_limiter_unavailable" || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("fail-closed limiter without Redis: %d %s Retry-After=%q", rec.Code, rec.Body, rec.Header().Get("Retry-After"))
	}
}

func TestMerchantAPIIdempotencyAndOrders(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		a := newAPIEnv(t, st, MerchantAPIOptions{})
		m := a.Merchant(t, domain.PlanFree, "shop.test")
		key, _ := a.Key(t, m.ID, domain.ModeTest)

		for i, path := range createPaths {
			t.Run(path, func(t *testing.T) {
				order := fmt.Sprintf("IDEM-%d", i)
				b := body(t, map[string]any{"order_id": order})
				first := a.do(http.MethodPost, path, key, b, IdempotencyKeyHeader, "k-"+order)
				if first.Code != http.StatusCreated {
					t.Fatalf("create = %d %s", first.Code, first.Body)
				}
				// Same parameters, different formatting: still a replay.
				spaced := strings.ReplaceAll(b, ",", ", ")
				again := a.do(http.MethodPost, path, key, spaced, IdempotencyKeyHeader, "k-"+order)
				if again.Code != first.Code || !bytes.Equal(again.Body.Bytes(), first.Body.Bytes()) || again.Header().Get("Idempotent-Replayed") != "true" {
					t.Fatalf("replay = %d %s, want %d %s", again.Code, again.Body, first.Code, first.Body)
				}
				diff := a.do(http.MethodPost, path, key, body(t, map[string]any{"order_id": order, "amount": "1.00"}), IdempotencyKeyHeader, "k-"+order)
				if diff.Code != http.StatusConflict || decodeErr(t, diff).Code != "idempotency_key_reused" {
					t.Fatalf("different body = %d %s", diff.Code, diff.Body)
				}
				// Without a key: the open session comes back with 200.
				same := a.do(http.MethodPost, path, key, b)
				var v1, v2 payments.SessionView
				_ = json.Unmarshal(first.Body.Bytes(), &v1)
				_ = json.Unmarshal(same.Body.Bytes(), &v2)
				if same.Code != http.StatusOK || v1.SessionID != v2.SessionID {
					t.Fatalf("no-key repeat = %d %s", same.Code, same.Body)
				}
				other := a.do(http.MethodPost, path, key, body(t, map[string]any{"order_id": order, "amount": "2.00"}))
				if other.Code != http.StatusConflict || decodeErr(t, other).Code != "order_in_progress" {
					t.Fatalf("other amount = %d %s", other.Code, other.Body)
				}
				payViaHook(t, a, v1.SessionID, sandbox.ChoiceSucceed, webhookAlias)
				paid := a.do(http.MethodPost, path, key, b)
				if paid.Code != http.StatusConflict || decodeErr(t, paid).Code != "order_already_paid" {
					t.Fatalf("paid order = %d %s", paid.Code, paid.Body)
				}
			})
		}

		for _, c := range []struct{ name, order, key string }{{"same key", "CONC-1", "conc-key"}, {"no key", "CONC-2", ""}} {
			t.Run("20 concurrent "+c.name, func(t *testing.T) {
				before := a.count(t, m.ID)
				var wg sync.WaitGroup
				recs := make([]*httptest.ResponseRecorder, 20)
				for i := range recs {
					wg.Add(1)
					go func() {
						defer wg.Done()
						hdr := []string{}
						if c.key != "" {
							hdr = []string{IdempotencyKeyHeader, c.key}
						}
						recs[i] = a.do(http.MethodPost, createPaths[i%2], key, body(t, map[string]any{"order_id": c.order}), hdr...)
					}()
				}
				wg.Wait()
				ids := map[string]bool{}
				for i, rec := range recs {
					if rec.Code != http.StatusCreated && rec.Code != http.StatusOK {
						t.Fatalf("request %d: %d %s", i, rec.Code, rec.Body)
					}
					var v payments.SessionView
					_ = json.Unmarshal(rec.Body.Bytes(), &v)
					ids[v.SessionID] = true
				}
				if len(ids) != 1 || a.count(t, m.ID) != before+1 {
					t.Fatalf("sessions created = %d (ids %d), want 1", a.count(t, m.ID)-before, len(ids))
				}
			})
		}
	})
}

func TestMerchantAPIStatusAndMe(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		a := newAPIEnv(t, st, MerchantAPIOptions{})
		m := a.Merchant(t, domain.PlanPro, "shop.test")
		key, _ := a.Key(t, m.ID, domain.ModeTest)
		created := a.do(http.MethodPost, "/gateway/session.php", key,
			`{"domain":"shop.test","amount":"49.95","currency":"USD","order_id":"ORDER-10001","return_url":"https://shop.test/success","cancel_url":"https://shop.test/cancel","customer_email":"buyer@example.com","method":"card"}`)
		if created.Code != http.StatusCreated {
			t.Fatalf("create = %d %s", created.Code, created.Body)
		}
		var v payments.SessionView
		if err := json.Unmarshal(created.Body.Bytes(), &v); err != nil {
			t.Fatal(err)
		}
		if v.Method == nil || *v.Method != "card" || v.Status != "open" || v.CheckoutURL != a.BaseURL+"/checkout/"+v.SessionID {
			t.Fatalf("created = %s", created.Body)
		}
		s1 := a.do(http.MethodGet, "/v1/sessions/"+v.SessionID, key, "")
		s2 := a.do(http.MethodGet, "/gateway/status.php?session_id="+v.SessionID, key, "")
		if s1.Code != 200 || !bytes.Equal(s1.Body.Bytes(), s2.Body.Bytes()) || !bytes.Equal(s1.Body.Bytes(), created.Body.Bytes()) {
			t.Fatalf("status views differ:\n%s\n%s\n%s", s1.Body, s2.Body, created.Body)
		}
		for _, c := range []struct {
			plan domain.Plan
			mode string
		}{{domain.PlanFree, "hosted_checkout"}, {domain.PlanStarter, "hosted_checkout"}, {domain.PlanPro, "smart_routing"}, {domain.PlanUnlimited, "smart_routing"}} {
			mm := a.Merchant(t, c.plan, "shop.test")
			k, _ := a.Key(t, mm.ID, domain.ModeTest)
			for _, path := range []string{"/v1/me", "/gateway/me.php"} {
				rec := a.do(http.MethodGet, path, k, "")
				var me struct {
					MerchantID      int64  `json:"merchant_id"`
					Plan            string `json:"plan"`
					IntegrationMode string `json:"integration_mode"`
					Methods         []struct {
						Method     string   `json:"method"`
						Label      string   `json:"label"`
						Currencies []string `json:"currencies"`
					} `json:"methods"`
					Domains []string `json:"domains"`
				}
				if err := json.Unmarshal(rec.Body.Bytes(), &me); err != nil || rec.Code != 200 {
					t.Fatalf("%s: %d %s", path, rec.Code, rec.Body)
				}
				if me.MerchantID != mm.ID || me.Plan != string(c.plan) || me.IntegrationMode != c.mode ||
					len(me.Methods) != 3 || me.Methods[1].Method != "card" || me.Methods[1].Label == "" ||
					me.Methods[1].Currencies == nil || len(me.Domains) != 1 {
					t.Fatalf("%s %s: %s", c.plan, path, rec.Body)
				}
			}
		}
	})
}

// payViaHook starts a payment and posts the sandbox's signed callback to
// the webhook intake at path, as the shopper's browser does.
func payViaHook(t *testing.T, a *apiEnv, sessionID, choice, path string) *httptest.ResponseRecorder {
	t.Helper()
	if _, err := a.Service.StartPayment(context.Background(), sessionID, "card", ""); err != nil {
		t.Fatalf("StartPayment: %v", err)
	}
	return postCallback(t, a, sessionID, choice, path)
}

func postCallback(t *testing.T, a *apiEnv, sessionID, choice, path string) *httptest.ResponseRecorder {
	t.Helper()
	atts, err := a.Store.SessionAttempts(context.Background(), sessionID)
	if err != nil || len(atts) == 0 {
		t.Fatalf("attempts: %v %v", atts, err)
	}
	sess, err := a.Store.GetSession(context.Background(), sessionID)
	if err != nil {
		t.Fatal(err)
	}
	form := sandbox.SignCallback(testSandboxSecret, sandbox.Callback{Choice: choice, Ref: atts[len(atts)-1].ProviderRef,
		SessionID: sessionID, Amount: sess.Amount, Currency: sess.Currency, TS: time.Now()})
	r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	a.e.ServeHTTP(rec, r)
	return rec
}

func TestProviderHooks(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		a := newAPIEnv(t, st, MerchantAPIOptions{})
		m := a.Merchant(t, domain.PlanFree, "shop.test")
		key, _ := a.Key(t, m.ID, domain.ModeTest)
		create := func(order string) string {
			t.Helper()
			rec := a.do(http.MethodPost, "/v1/sessions", key, body(t, map[string]any{"order_id": order}))
			var v payments.SessionView
			if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil || rec.Code != 201 {
				t.Fatalf("create: %d %s", rec.Code, rec.Body)
			}
			return v.SessionID
		}
		statusOf := func(id string) string {
			t.Helper()
			rec := a.do(http.MethodGet, "/v1/sessions/"+id, key, "")
			var v payments.SessionView
			_ = json.Unmarshal(rec.Body.Bytes(), &v)
			return string(v.Status)
		}
		events := func(id string) int {
			t.Helper()
			evs, err := a.Store.SessionEvents(context.Background(), id)
			if err != nil {
				t.Fatal(err)
			}
			return len(evs)
		}

		for _, path := range []string{"/hooks/sandbox/sbx", webhookAlias} {
			t.Run(path, func(t *testing.T) {
				id := create("HOOK-" + strings.ReplaceAll(path, "/", "_"))
				rec := payViaHook(t, a, id, sandbox.ChoiceSucceed, path)
				if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "Payment submitted") {
					t.Fatalf("hook = %d %s", rec.Code, rec.Body)
				}
				// Sent twice: applied once.
				if rec := postCallback(t, a, id, sandbox.ChoiceSucceed, path); rec.Code != http.StatusOK {
					t.Fatalf("redelivery = %d", rec.Code)
				}
				if statusOf(id) != "paid" || events(id) != 2 {
					t.Fatalf("status %s, events %d", statusOf(id), events(id))
				}
				// Failed after paid leaves it paid.
				if rec := postCallback(t, a, id, sandbox.ChoiceDecline, path); rec.Code != http.StatusOK {
					t.Fatalf("late decline = %d", rec.Code)
				}
				if statusOf(id) != "paid" || events(id) != 2 {
					t.Fatalf("after late decline: %s, %d events", statusOf(id), events(id))
				}
			})
		}

		t.Run("redirecting plugin response", func(t *testing.T) {
			id := create("HOOK-303")
			if _, err := a.Service.StartPayment(context.Background(), id, "card", ""); err != nil {
				t.Fatal(err)
			}
			atts, _ := a.Store.SessionAttempts(context.Background(), id)
			form := sandbox.SignCallback(testSandboxSecret, sandbox.Callback{Choice: sandbox.ChoiceSucceed, Ref: atts[0].ProviderRef,
				SessionID: id, Amount: 4995, Currency: "USD", ReturnURL: a.BaseURL + "/checkout/" + id + "/return", TS: time.Now()})
			r := httptest.NewRequest(http.MethodPost, "/hooks/sandbox/sbx", strings.NewReader(form.Encode()))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			rec := httptest.NewRecorder()
			a.e.ServeHTTP(rec, r)
			if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != a.BaseURL+"/checkout/"+id+"/return" {
				t.Fatalf("hook = %d Location %q", rec.Code, rec.Header().Get("Location"))
			}
			if statusOf(id) != "paid" {
				t.Fatalf("status = %s, want paid", statusOf(id))
			}
		})

		t.Run("late payment on expired session", func(t *testing.T) {
			id := create("HOOK-LATE")
			if _, err := a.Service.StartPayment(context.Background(), id, "card", ""); err != nil {
				t.Fatal(err)
			}
			a.Clock.Advance(2 * time.Hour)
			defer a.Clock.Advance(-2 * time.Hour)
			if _, err := a.Service.ExpireSession(context.Background(), id); err != nil {
				t.Fatal(err)
			}
			if statusOf(id) != "expired" {
				t.Fatalf("status = %s", statusOf(id))
			}
			if rec := postCallback(t, a, id, sandbox.ChoiceSucceed, "/hooks/sandbox/sbx"); rec.Code != http.StatusOK {
				t.Fatalf("hook = %d %s", rec.Code, rec.Body)
			}
			if statusOf(id) != "paid" {
				t.Fatalf("status = %s, want paid", statusOf(id))
			}
		})

		t.Run("rejections", func(t *testing.T) {
			id := create("HOOK-REJ")
			if _, err := a.Service.StartPayment(context.Background(), id, "card", ""); err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct {
				name, path string
				down       bool
				status     int
			}{
				{"unknown provider", "/hooks/sandbox/nope", false, 404},
				{"bad provider id", "/hooks/sandbox/NOPE!", false, 404},
				{"type mismatch", "/hooks/stripe/sbx", false, 404},
				{"plugin down", "/hooks/sandbox/sbx", true, 503},
				{"plugin down via alias", webhookAlias, true, 503},
			} {
				a.Providers.SetDown("sbx", c.down)
				rec := postCallback(t, a, id, sandbox.ChoiceSucceed, c.path)
				a.Providers.SetDown("sbx", false)
				if rec.Code != c.status {
					t.Fatalf("%s: %d %s", c.name, rec.Code, rec.Body)
				}
			}
			if statusOf(id) != "open" {
				t.Fatalf("status = %s after rejected hooks", statusOf(id))
			}
			// A forged callback is refused by the plugin with its own page.
			r := httptest.NewRequest(http.MethodPost, "/hooks/sandbox/sbx", strings.NewReader("choice=succeed&sig=forged"))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			rec := httptest.NewRecorder()
			a.e.ServeHTTP(rec, r)
			if rec.Code != http.StatusBadRequest || statusOf(id) != "open" {
				t.Fatalf("forged: %d, status %s", rec.Code, statusOf(id))
			}
			// Every request was stored with what we answered.
			var stored []struct {
				Status *int   `bun:"response_status"`
				Path   string `bun:"path"`
			}
			if err := st.DB().NewRaw("SELECT response_status, path FROM webhook_requests ORDER BY id").Scan(context.Background(), &stored); err != nil {
				t.Fatal(err)
			}
			last := stored[len(stored)-1]
			if last.Status == nil || *last.Status != 400 {
				t.Fatalf("last stored webhook = %+v", last)
			}
		})
	})
}
