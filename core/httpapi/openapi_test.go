package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/refunds"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/core/store/storetest"
	"github.com/switchyard/switchyard/core/webhooks"
	"github.com/switchyard/switchyard/plugins/sandbox/sandbox"
)

// specPath is the published contract, relative to this package.
const specPath = "../../docs/openapi.yaml"

// contract validates real responses against docs/openapi.yaml and records
// which documented (operation, status) pairs and webhooks were seen, so a
// documented response that no test produces is reported too.
type contract struct {
	doc    *openapi3.T
	router routers.Router

	mu    sync.Mutex
	seen  map[string]bool // "operationId status"
	hooks map[string]bool // webhook names validated
}

func loadContract(t *testing.T) *contract {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile(specPath)
	if err != nil {
		t.Fatalf("load %s: %v", specPath, err)
	}
	if !doc.IsOpenAPI31OrLater() {
		t.Fatalf("%s is OpenAPI %s, want 3.1", specPath, doc.OpenAPI)
	}
	if err := doc.Validate(loader.Context); err != nil {
		t.Fatalf("%s is not a valid OpenAPI document: %v", specPath, err)
	}
	// Match requests by path whatever host the test server has.
	doc.Servers = nil
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatalf("router: %v", err)
	}
	return &contract{doc: doc, router: router, seen: map[string]bool{}, hooks: map[string]bool{}}
}

// check validates one exchange: the request must match a documented
// operation, and the response (status, headers, body) its documentation.
func (c *contract) check(t *testing.T, req *http.Request, rec *httptest.ResponseRecorder) {
	t.Helper()
	route, params, err := c.router.FindRoute(req)
	if err != nil {
		t.Fatalf("%s %s is not in the spec: %v", req.Method, req.URL, err)
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: rec.Code, Header: rec.Header(), Body: nopCloser{strings.NewReader(rec.Body.String())},
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		t.Errorf("%s %s → %d %s\ndoes not match the spec: %v", req.Method, req.URL, rec.Code, rec.Body, err)
	}
	c.mu.Lock()
	c.seen[route.Operation.OperationID+" "+strconv.Itoa(rec.Code)] = true
	c.mu.Unlock()
}

type nopCloser struct{ *strings.Reader }

func (nopCloser) Close() error { return nil }

// checkWebhook validates an outbound event body against the spec's
// webhook of that name.
func (c *contract) checkWebhook(t *testing.T, name string, body []byte) {
	t.Helper()
	item := c.doc.Webhooks[name]
	if item == nil || item.Post == nil {
		t.Errorf("webhook %s is sent but not in the spec", name)
		return
	}
	schema := item.Post.RequestBody.Value.Content.Get("application/json").Schema.Value
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("webhook %s body: %v", name, err)
	}
	if err := schema.VisitJSON(v, openapi3.EnableJSONSchema2020()); err != nil {
		t.Errorf("webhook %s body %s\ndoes not match the spec: %v", name, body, err)
	}
	c.mu.Lock()
	c.hooks[name] = true
	c.mu.Unlock()
}

// unexercised lists documented responses no exchange produced. 5xx
// answers are documented for completeness; the tests cannot provoke them
// without breaking the server. The operators' domain routes are produced
// and checked against the same document by core/domains' TestAdminAPI,
// with the real domains service and registrar plugin.
func (c *contract) unexercised() []string {
	var out []string
	for path, item := range c.doc.Paths.Map() {
		if strings.HasPrefix(path, "/admin/v1/domains") {
			continue
		}
		for method, op := range item.Operations() {
			for status := range op.Responses.Map() {
				if strings.HasPrefix(status, "5") {
					continue
				}
				if !c.seen[op.OperationID+" "+status] {
					out = append(out, fmt.Sprintf("%s %s %s (%s)", method, path, status, op.OperationID))
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

// exchange sends a request to e and validates the answer.
func (c *contract) exchange(t *testing.T, e http.Handler, method, path, token, body string, hdr ...string) *httptest.ResponseRecorder {
	t.Helper()
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
	e.ServeHTTP(rec, r)
	c.check(t, r, rec)
	return rec
}

func want(t *testing.T, rec *httptest.ResponseRecorder, status int, code string) {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status %d, want %d: %s", rec.Code, status, rec.Body)
	}
	if code == "" {
		return
	}
	var b errorBody
	if err := json.Unmarshal(rec.Body.Bytes(), &b); err != nil || b.Error.Code != code {
		t.Fatalf("error code %q, want %q: %s", b.Error.Code, code, rec.Body)
	}
}

func sessionIDOf(t *testing.T, rec *httptest.ResponseRecorder) string {
	t.Helper()
	var v struct {
		SessionID string `json:"session_id"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil || v.SessionID == "" {
		t.Fatalf("no session in %s", rec.Body)
	}
	return v.SessionID
}

// TestOpenAPIContract sends every endpoint a success and each error family
// it documents, and validates every response against docs/openapi.yaml;
// then the webhook bodies of the events those requests caused.
func TestOpenAPIContract(t *testing.T) {
	c := loadContract(t)
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		a := newAPIEnv(t, st, MerchantAPIOptions{})
		ctx := context.Background()
		free := a.Merchant(t, domain.PlanFree, "shop.test")
		pro := a.Merchant(t, domain.PlanPro, "shop.test")
		other := a.Merchant(t, domain.PlanFree, "other.test")
		freeKey, _ := a.Key(t, free.ID, domain.ModeTest)
		proKey, _ := a.Key(t, pro.ID, domain.ModeTest)
		otherKey, _ := a.Key(t, other.ID, domain.ModeTest)
		readOnly, _ := a.Key(t, free.ID, domain.ModeTest, string(domain.ScopeSessionsRead))
		writeOnly, _ := a.Key(t, free.ID, domain.ModeTest, string(domain.ScopeSessionsWrite))
		suspended := a.Merchant(t, domain.PlanFree, "gone.test")
		suspendedKey, _ := a.Key(t, suspended.ID, domain.ModeTest)
		if _, err := st.SetMerchantStatus(ctx, suspended.ID, store.MerchantSuspended); err != nil {
			t.Fatal(err)
		}
		// Revoking clears the authentication cache, so the suspension is
		// seen too.
		revoked, rp := a.Key(t, free.ID, domain.ModeTest)
		if _, err := a.Merchants.RevokeKey(ctx, rp.Key.ID); err != nil {
			t.Fatal(err)
		}
		// A well-formed key that was never issued: the last character of a
		// real one changed to another character of its alphabet.
		unknownKey := freeKey[:len(freeKey)-1]
		for _, r := range freeKey[len("sk_test_"):] {
			if byte(r) != freeKey[len(freeKey)-1] {
				unknownKey += string(r)
				break
			}
		}
		ex := func(method, path, token, body string, hdr ...string) *httptest.ResponseRecorder {
			t.Helper()
			return c.exchange(t, a.e, method, path, token, body, hdr...)
		}
		authFailures := func(method, path, body string) {
			t.Helper()
			want(t, ex(method, path, "", body), 401, "missing_api_key")
			want(t, ex(method, path, "sk_nonsense", body), 401, "malformed_api_key")
			want(t, ex(method, path, unknownKey, body), 401, "invalid_api_key")
			want(t, ex(method, path, revoked, body), 401, "revoked_api_key")
			want(t, ex(method, path, suspendedKey, body), 403, "merchant_suspended")
			r := httptest.NewRequest(method, path, strings.NewReader(body))
			r.Header.Add("Authorization", "Bearer "+freeKey)
			r.Header.Add("Authorization", "Bearer "+otherKey)
			rec := httptest.NewRecorder()
			a.e.ServeHTTP(rec, r)
			c.check(t, r, rec)
			want(t, rec, 400, "duplicate_header")
		}

		var paidID string
		for i, path := range createPaths {
			order := func(s string) map[string]any { return map[string]any{"order_id": fmt.Sprintf("%s-%d", s, i)} }
			first := ex(http.MethodPost, path, freeKey, body(t, order("A")), "Idempotency-Key", "idem-"+path)
			want(t, first, 201, "")
			replay := ex(http.MethodPost, path, freeKey, body(t, order("A")), "Idempotency-Key", "idem-"+path)
			want(t, replay, 201, "")
			if replay.Header().Get("Idempotent-Replayed") != "true" || replay.Body.String() != first.Body.String() {
				t.Fatalf("replay: %v %s", replay.Header(), replay.Body)
			}
			want(t, ex(http.MethodPost, path, freeKey, body(t, order("A"))), 200, "")
			full := map[string]any{"order_id": fmt.Sprintf("FULL-%d", i), "return_url": "https://shop.test/r", "cancel_url": "https://shop.test/c",
				"customer_email": "jane@example.com", "metadata": map[string]string{"cart": "42"}}
			want(t, ex(http.MethodPost, path, freeKey, body(t, full)), 201, "")
			smart := ex(http.MethodPost, path, proKey, body(t, map[string]any{"order_id": fmt.Sprintf("S-%d", i), "method": "card"}))
			want(t, smart, 201, "")

			for _, bad := range []struct{ body, code string }{
				{`{"domain":`, "invalid_json"},
				{body(t, map[string]any{"amount": 49.95}), "invalid_amount"},
				{body(t, map[string]any{"amount": "49.955"}), "invalid_amount"},
				{body(t, map[string]any{"colour": "red"}), "unknown_field"},
				{`{"domain":"shop.test","amount":"1.00","amount":"1000.00","currency":"USD","order_id":"D"}`, "duplicate_field"},
				{`{"domain":"shop.test","AMOUNT":"1.00","currency":"USD","order_id":"D"}`, "field_case_mismatch"},
				{body(t, map[string]any{"currency": nil}), "missing_field"},
				{body(t, map[string]any{"currency": "XYZ"}), "invalid_currency"},
				{body(t, map[string]any{"domain": "evil.test"}), "invalid_domain"},
				{body(t, map[string]any{"provider": "stripe"}), "provider_not_allowed"},
				{body(t, map[string]any{"method": "card"}), "method_not_allowed"},
				{body(t, map[string]any{"order_id": "has space"}), "invalid_order_id"},
				{body(t, map[string]any{"return_url": "ftp://x"}), "invalid_url"},
				{body(t, map[string]any{"customer_email": "nope"}), "invalid_email"},
				{body(t, map[string]any{"metadata": map[string]string{"": "x"}}), "invalid_metadata"},
			} {
				want(t, ex(http.MethodPost, path, freeKey, bad.body), 400, bad.code)
			}
			want(t, ex(http.MethodPost, path, proKey, body(t, nil)), 400, "method_required")
			want(t, ex(http.MethodPost, path, freeKey, body(t, order("K")), "Idempotency-Key", "has space"), 400, "invalid_idempotency_key")
			authFailures(http.MethodPost, path, body(t, order("Z")))
			want(t, ex(http.MethodPost, path, readOnly, body(t, order("Z"))), 403, "insufficient_scope")
			want(t, ex(http.MethodPost, path, freeKey, body(t, map[string]any{"order_id": fmt.Sprintf("A-%d", i), "amount": "1.00"}),
				"Idempotency-Key", "idem-"+path), 409, "idempotency_key_reused")
			want(t, ex(http.MethodPost, path, freeKey, body(t, map[string]any{"order_id": fmt.Sprintf("A-%d", i), "amount": "1.00"})), 409, "order_in_progress")
			want(t, ex(http.MethodPost, path, proKey, body(t, map[string]any{"order_id": "M", "method": "crypto"})), 422, "method_unavailable")
			want(t, ex(http.MethodPost, path, freeKey, `{"order_id":"`+strings.Repeat("x", testBodyLimit)+`"}`), 413, "body_too_large")
			r := httptest.NewRequest(http.MethodPost, path, strings.NewReader("domain=shop.test"))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			r.Header.Set("Authorization", "Bearer "+freeKey)
			rec := httptest.NewRecorder()
			a.e.ServeHTTP(rec, r)
			c.check(t, r, rec)
			want(t, rec, 415, "unsupported_media_type")

			// A paid order is a conflict for a new session.
			id := sessionIDOf(t, ex(http.MethodPost, path, freeKey, body(t, order("P"))))
			if rec := payViaHook(t, a, id, sandbox.ChoiceSucceed, "/hooks/sandbox/sbx"); rec.Code >= 400 {
				t.Fatalf("pay: %d %s", rec.Code, rec.Body)
			}
			want(t, ex(http.MethodPost, path, freeKey, body(t, order("P"))), 409, "order_already_paid")
			paidID = id
		}

		// Status, by path and by the alias's query parameter.
		for _, get := range []func(id string) string{
			func(id string) string { return "/v1/sessions/" + id },
			func(id string) string { return "/gateway/status.php?session_id=" + id },
		} {
			want(t, ex(http.MethodGet, get(paidID), freeKey, ""), 200, "")
			want(t, ex(http.MethodGet, get(paidID), readOnly, ""), 200, "")
			want(t, ex(http.MethodGet, get(paidID), otherKey, ""), 404, "resource_missing")
			want(t, ex(http.MethodGet, get("cs_doesnotexist"), freeKey, ""), 404, "resource_missing")
			want(t, ex(http.MethodGet, get(paidID), writeOnly, ""), 403, "insufficient_scope")
			authFailures(http.MethodGet, get(paidID), "")
		}
		want(t, ex(http.MethodGet, "/gateway/status.php", freeKey, ""), 400, "missing_field")

		for _, path := range []string{"/v1/me", "/gateway/me.php"} {
			want(t, ex(http.MethodGet, path, freeKey, ""), 200, "")
			want(t, ex(http.MethodGet, path, proKey, ""), 200, "")
			want(t, ex(http.MethodGet, path, readOnly, ""), 403, "insufficient_scope")
			authFailures(http.MethodGet, path, "")
		}

		// Refunds: create (and its alias), the session's list, one refund.
		refundable := sessionIDOf(t, ex(http.MethodPost, "/v1/sessions", freeKey, body(t, map[string]any{"order_id": "R-1"})))
		if rec := payViaHook(t, a, refundable, sandbox.ChoiceSucceed, "/hooks/sandbox/sbx"); rec.Code >= 400 {
			t.Fatalf("pay: %d %s", rec.Code, rec.Body)
		}
		openID := sessionIDOf(t, ex(http.MethodPost, "/v1/sessions", freeKey, body(t, map[string]any{"order_id": "R-2"})))
		noRefunds, _ := a.Key(t, free.ID, domain.ModeTest, string(domain.ScopeSessionsWrite), string(domain.ScopeSessionsRead))
		var refundID string
		var refunded []string
		for i, create := range []func(id string) string{
			func(id string) string { return "/v1/sessions/" + id + "/refunds" },
			func(id string) string { return "/gateway/refund.php?session_id=" + id },
		} {
			first := ex(http.MethodPost, create(refundable), freeKey, `{"amount":"1.00","reason":"duplicate"}`, "Idempotency-Key", "refund-"+create(""))
			want(t, first, 201, "")
			replay := ex(http.MethodPost, create(refundable), freeKey, `{"amount":"1.00","reason":"duplicate"}`, "Idempotency-Key", "refund-"+create(""))
			want(t, replay, 201, "")
			if replay.Header().Get("Idempotent-Replayed") != "true" || replay.Body.String() != first.Body.String() {
				t.Fatalf("refund replay: %v %s", replay.Header(), replay.Body)
			}
			var v struct {
				RefundID string `json:"refund_id"`
			}
			_ = json.Unmarshal(first.Body.Bytes(), &v)
			refundID = v.RefundID
			want(t, ex(http.MethodPost, create(refundable), freeKey, ""), 201, "") // no body: the rest
			want(t, ex(http.MethodPost, create(refundable), freeKey, `{"amount":"0.01"}`), 409, "already_refunded")
			want(t, ex(http.MethodPost, create(openID), freeKey, `{}`), 409, "not_refundable")
			want(t, ex(http.MethodPost, create(refundable), freeKey, `{"amount":"2.00"}`, "Idempotency-Key", "refund-"+create("")), 409, "idempotency_key_reused")
			want(t, ex(http.MethodPost, create(paidID), freeKey, `{"amount":"99.00"}`), 422, "amount_exceeds_refundable")
			want(t, ex(http.MethodPost, create(paidID), freeKey, `{"reason":"bored"}`), 400, "invalid_reason")
			want(t, ex(http.MethodPost, create(paidID), freeKey, `{"amount":"1.001"}`), 400, "invalid_amount")
			want(t, ex(http.MethodPost, create(paidID), otherKey, `{}`), 404, "resource_missing")
			want(t, ex(http.MethodPost, create(paidID), noRefunds, `{}`), 403, "insufficient_scope")
			want(t, ex(http.MethodPost, create(paidID), freeKey, `{"metadata":{"k":"`+strings.Repeat("x", testBodyLimit)+`"}}`), 413, "body_too_large")
			authFailures(http.MethodPost, create(paidID), `{}`)
			r := httptest.NewRequest(http.MethodPost, create(paidID), strings.NewReader("amount=1"))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			r.Header.Set("Authorization", "Bearer "+freeKey)
			rec := httptest.NewRecorder()
			a.e.ServeHTTP(rec, r)
			c.check(t, r, rec)
			want(t, rec, 415, "unsupported_media_type")
			refunded = append(refunded, refundable)
			refundable = sessionIDOf(t, ex(http.MethodPost, "/v1/sessions", freeKey, body(t, map[string]any{"order_id": fmt.Sprintf("R-3-%d", i)})))
			if rec := payViaHook(t, a, refundable, sandbox.ChoiceSucceed, "/hooks/sandbox/sbx"); rec.Code >= 400 {
				t.Fatalf("pay: %d %s", rec.Code, rec.Body)
			}
		}
		want(t, ex(http.MethodPost, "/gateway/refund.php", freeKey, `{}`), 400, "missing_field")
		list := "/v1/sessions/" + paidID + "/refunds"
		want(t, ex(http.MethodGet, list, freeKey, ""), 200, "")
		want(t, ex(http.MethodGet, list+"?limit=1", readOnly, ""), 200, "")
		want(t, ex(http.MethodGet, list+"?limit=500", freeKey, ""), 400, "invalid_limit")
		want(t, ex(http.MethodGet, list, otherKey, ""), 404, "resource_missing")
		want(t, ex(http.MethodGet, list, writeOnly, ""), 403, "insufficient_scope")
		authFailures(http.MethodGet, list, "")
		one := "/v1/refunds/" + refundID
		want(t, ex(http.MethodGet, one, freeKey, ""), 200, "")
		want(t, ex(http.MethodGet, one, otherKey, ""), 404, "resource_missing")
		want(t, ex(http.MethodGet, "/v1/refunds/re_nope", freeKey, ""), 404, "resource_missing")
		want(t, ex(http.MethodGet, one, writeOnly, ""), 403, "insufficient_scope")
		authFailures(http.MethodGet, one, "")
		// Settle the refunds, so refund.succeeded and session.refunded are
		// among the events validated below.
		all, err := a.Refunds.List(ctx, refunds.ListParams{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range all.Data {
			if err := a.Refunds.CallProvider(ctx, r.RefundID, false); err != nil {
				t.Fatal(err)
			}
		}

		// 429 on every endpoint: a bucket of one request per key.
		limited := newAPIEnv(t, st, MerchantAPIOptions{RequestsPerSecond: 0.001, Burst: 1})
		for i, call := range []struct{ method, path, body string }{
			{http.MethodPost, "/v1/sessions", body(t, map[string]any{"order_id": "RL-1"})},
			{http.MethodPost, "/gateway/session.php", body(t, map[string]any{"order_id": "RL-2"})},
			{http.MethodGet, "/v1/sessions/" + paidID, ""},
			{http.MethodGet, "/gateway/status.php?session_id=" + paidID, ""},
			{http.MethodGet, "/v1/me", ""},
			{http.MethodGet, "/gateway/me.php", ""},
			{http.MethodPost, "/v1/sessions/" + paidID + "/refunds", `{"amount":"0.01"}`},
			{http.MethodPost, "/gateway/refund.php?session_id=" + paidID, `{"amount":"0.01"}`},
			{http.MethodGet, "/v1/sessions/" + paidID + "/refunds", ""},
			{http.MethodGet, "/v1/refunds/" + refundID, ""},
		} {
			key, _ := limited.Key(t, free.ID, domain.ModeTest)
			c.exchange(t, limited.e, call.method, call.path, key, call.body)
			rec := c.exchange(t, limited.e, call.method, call.path, key, call.body)
			want(t, rec, 429, "rate_limited")
			if rec.Header().Get("Retry-After") == "" {
				t.Errorf("call %d: 429 without Retry-After", i)
			}
		}

		// Every event these requests caused, as the webhook body sent.
		failed := sessionIDOf(t, ex(http.MethodPost, "/v1/sessions", freeKey, body(t, map[string]any{"order_id": "FAIL"})))
		payViaHook(t, a, failed, sandbox.ChoiceDecline, "/hooks/sandbox/sbx")
		for _, id := range []string{paidID, refunded[0], failed} {
			evs, err := st.SessionEvents(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			for _, ev := range evs {
				b, err := webhooks.Envelope(ev)
				if err != nil {
					t.Fatal(err)
				}
				c.checkWebhook(t, ev.Type, b)
			}
		}
	})

	if missing := c.unexercised(); len(missing) > 0 {
		t.Errorf("documented responses no test produced:\n  %s", strings.Join(missing, "\n  "))
	}
	for _, name := range []string{"session.created", "session.paid", "session.failed", "session.refunded", "session.partially_refunded",
		"refund.created", "refund.succeeded"} {
		if !c.hooks[name] {
			t.Errorf("webhook %s was not validated", name)
		}
	}
}

// TestOpenAPIListsEveryEvent keeps the spec's webhooks and the domain's
// event types in step, both ways.
func TestOpenAPIListsEveryEvent(t *testing.T) {
	c := loadContract(t)
	var inSpec []string
	for name := range c.doc.Webhooks {
		inSpec = append(inSpec, name)
	}
	var inCode []string
	for _, e := range domain.DomainEvents() {
		inCode = append(inCode, string(e))
	}
	sort.Strings(inSpec)
	sort.Strings(inCode)
	if !slices.Equal(inSpec, inCode) {
		t.Errorf("webhooks in docs/openapi.yaml %v\ndomain events %v", inSpec, inCode)
	}
}
