package stripeprovider

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/switchyard/switchyard/plugins/stripe/stripefake"
	"github.com/switchyard/switchyard/plugins/stripe/stripemock"
	"github.com/switchyard/switchyard/sdk"
	"github.com/switchyard/switchyard/sdk/provider"
)

// stripe-mock validates every request against Stripe's OpenAPI spec, so a
// parameter Stripe would reject fails here.
func TestCreatePaymentAgainstStripeMock(t *testing.T) {
	base := stripemock.Start(t)
	settings := baseSettings(base)
	settings[SettingStatementDescriptor] = "ACME HOSTING"
	settings[SettingEUBankCountry] = "NL"
	p := configured(t, settings)

	cases := []struct {
		name    string
		cur     string
		amount  int64
		method  string
		account string
	}{
		{"USD card", "USD", 4995, MethodCard, ""},
		{"JPY zero-decimal", "JPY", 500, MethodCard, ""},
		{"KWD three-decimal", "KWD", 5120, MethodCard, ""},
		{"ISK special case", "ISK", 1500, MethodCard, ""},
		{"HUF two-decimal charge", "HUF", 17550, MethodCard, ""},
		{"wallet", "EUR", 1999, MethodWallet, ""},
		{"bank transfer USD", "USD", 10000, MethodBankTransfer, ""},
		{"bank transfer EUR", "EUR", 10000, MethodBankTransfer, ""},
		{"connected account", "USD", 4995, MethodCard, "acct_1Switchyard0001"},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := paymentRequest("cs_sy_mock_"+string(rune('a'+i)), c.cur, c.amount)
			req.Method = c.method
			req.MerchantAccount = c.account
			resp, err := p.CreatePayment(ctx(t), req)
			if err != nil {
				t.Fatalf("CreatePayment: %v", err)
			}
			_, id, err := parseRef(resp.ProviderRef)
			if err != nil || !strings.HasPrefix(id, "cs_") {
				t.Errorf("ProviderRef %q: %v", resp.ProviderRef, err)
			}
			if c.account != "" && !strings.HasPrefix(resp.ProviderRef, c.account+"/") {
				t.Errorf("ProviderRef %q does not carry the connected account", resp.ProviderRef)
			}
			if resp.Status != provider.StatusPending || resp.NextAction.Type != provider.NextActionRedirect ||
				!strings.HasPrefix(resp.NextAction.URL, "https://") {
				t.Errorf("response %+v", resp)
			}
		})
	}
}

func TestCreatePaymentRejectsBeforeCallingStripe(t *testing.T) {
	var calls int
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls++
		mu.Unlock()
		http.Error(w, "unexpected", http.StatusInternalServerError)
	}))
	t.Cleanup(srv.Close)
	p := configured(t, baseSettings(srv.URL))
	cases := map[string]func(*provider.CreatePaymentRequest){
		"three-decimal last digit":  func(r *provider.CreatePaymentRequest) { r.Currency, r.Amount = "KWD", 5124 },
		"unknown method":            func(r *provider.CreatePaymentRequest) { r.Method = "paypal" },
		"lower-case currency":       func(r *provider.CreatePaymentRequest) { r.Currency = "usd" },
		"no return url":             func(r *provider.CreatePaymentRequest) { r.ReturnURL = "" },
		"bad merchant account":      func(r *provider.CreatePaymentRequest) { r.MerchantAccount = "acct_1; drop" },
		"bank transfer unsupported": func(r *provider.CreatePaymentRequest) { r.Method, r.Currency = MethodBankTransfer, "CHF" },
		"EUR bank transfer no country": func(r *provider.CreatePaymentRequest) {
			r.Method, r.Currency = MethodBankTransfer, "EUR"
		},
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			req := paymentRequest("cs_sy_reject", "USD", 4995)
			mutate(&req)
			_, err := p.CreatePayment(ctx(t), req)
			if sdk.CategoryOf(err) != sdk.CategoryInvalidInput {
				t.Errorf("got %v, want invalid input", err)
			}
		})
	}
	if calls != 0 {
		t.Errorf("%d calls reached Stripe", calls)
	}
}

// recorded is one request seen by the recording server.
type recorded struct {
	method, path string
	header       http.Header
	form         url.Values
}

// recordingStripe answers like Stripe for the few calls it is given and
// records every request, so tests can assert exactly what was sent.
func recordingStripe(t *testing.T, handler func(w http.ResponseWriter, r recorded)) (*httptest.Server, func() []recorded) {
	t.Helper()
	var mu sync.Mutex
	var seen []recorded
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		form, _ := url.ParseQuery(string(body))
		for k, v := range r.URL.Query() {
			form[k] = v
		}
		rec := recorded{method: r.Method, path: r.URL.Path, header: r.Header.Clone(), form: form}
		mu.Lock()
		seen = append(seen, rec)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		handler(w, rec)
	}))
	t.Cleanup(srv.Close)
	return srv, func() []recorded {
		mu.Lock()
		defer mu.Unlock()
		return append([]recorded(nil), seen...)
	}
}

func TestCreatePaymentSendsWhatStripeNeeds(t *testing.T) {
	srv, seen := recordingStripe(t, func(w http.ResponseWriter, r recorded) {
		stripefake.WriteJSON(w, 200, map[string]any{"id": "cs_test_rec1", "object": "checkout.session", "url": "https://checkout.stripe.com/c/pay/cs_test_rec1"})
	})
	settings := baseSettings(srv.URL)
	settings[SettingStatementDescriptor] = "ACME HOSTING"
	p := configured(t, settings)
	req := paymentRequest("cs_sy_rec", "JPY", 500)
	req.MerchantAccount = "acct_1Merchant42"
	req.ReturnURL = "https://pay.example.test/checkout/cs_sy_rec/return?lang=en"
	resp, err := p.CreatePayment(ctx(t), req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.ProviderRef != "acct_1Merchant42/cs_test_rec1" || resp.NextAction.URL != "https://checkout.stripe.com/c/pay/cs_test_rec1" {
		t.Errorf("response %+v", resp)
	}
	reqs := seen()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if r.method != http.MethodPost || r.path != "/v1/checkout/sessions" {
		t.Errorf("%s %s", r.method, r.path)
	}
	headers := map[string]string{
		"Stripe-Account":  "acct_1Merchant42",
		"Idempotency-Key": "cs_sy_rec_a1",
		"Authorization":   "Bearer " + testSecretKey,
	}
	for k, want := range headers {
		if got := r.header.Get(k); got != want {
			t.Errorf("header %s = %q, want %q", k, got, want)
		}
	}
	form := map[string]string{
		"mode":                            "payment",
		"client_reference_id":             "cs_sy_rec",
		"success_url":                     "https://pay.example.test/checkout/cs_sy_rec/return?lang=en&stripe_checkout_session={CHECKOUT_SESSION_ID}",
		"cancel_url":                      "https://pay.example.test/checkout/cs_sy_rec",
		"customer_email":                  "shopper@example.com",
		"metadata[switchyard_session_id]": "cs_sy_rec",
		"metadata[switchyard_attempt_id]": "cs_sy_rec_a1",
		"metadata[order_id]":              "1001",
		"payment_intent_data[metadata][switchyard_session_id]": "cs_sy_rec",
		"payment_intent_data[statement_descriptor_suffix]":     "ACME HOSTING",
		"line_items[0][price_data][currency]":                  "jpy",
		"line_items[0][price_data][unit_amount]":               "500",
		"line_items[0][quantity]":                              "1",
		"payment_method_types[0]":                              "card",
	}
	for k, want := range form {
		if got := r.form.Get(k); got != want {
			t.Errorf("param %s = %q, want %q", k, got, want)
		}
	}

	// The retry of the same attempt sends the same key; a new attempt a new one.
	if _, err := p.CreatePayment(ctx(t), req); err != nil {
		t.Fatal(err)
	}
	req2 := req
	req2.AttemptID, req2.IdempotencyKey = "cs_sy_rec_a2", "cs_sy_rec_a2"
	if _, err := p.CreatePayment(ctx(t), req2); err != nil {
		t.Fatal(err)
	}
	reqs = seen()
	if got := []string{reqs[1].header.Get("Idempotency-Key"), reqs[2].header.Get("Idempotency-Key")}; got[0] != "cs_sy_rec_a1" || got[1] != "cs_sy_rec_a2" {
		t.Errorf("idempotency keys on retry and new attempt: %v", got)
	}

	// Without a host key the key is still derived, never random.
	req3 := req
	req3.IdempotencyKey = ""
	for range 2 {
		if _, err := p.CreatePayment(ctx(t), req3); err != nil {
			t.Fatal(err)
		}
	}
	reqs = seen()
	if a, b := reqs[3].header.Get("Idempotency-Key"), reqs[4].header.Get("Idempotency-Key"); a != b || a != "switchyard:cs_sy_rec:cs_sy_rec_a1" {
		t.Errorf("derived keys %q, %q", a, b)
	}
}

func TestStripeErrorsAreCategorized(t *testing.T) {
	cases := []struct {
		status int
		body   string
		want   sdk.Category
	}{
		{401, `{"error":{"type":"invalid_request_error","message":"Invalid API Key provided: sk_test_****0000"}}`, sdk.CategoryUnauthorized},
		{400, `{"error":{"type":"invalid_request_error","code":"parameter_invalid_integer","param":"line_items[0][price_data][unit_amount]","message":"bad"}}`, sdk.CategoryInvalidInput},
		{400, `{"error":{"type":"idempotency_error","message":"Keys for idempotent requests can only be used with the same parameters"}}`, sdk.CategoryInvalidInput},
		{402, `{"error":{"type":"card_error","code":"card_declined","decline_code":"insufficient_funds","message":"declined"}}`, sdk.CategoryDeclined},
		{404, `{"error":{"type":"invalid_request_error","code":"resource_missing","message":"No such checkout session"}}`, sdk.CategoryNotFound},
		{429, `{"error":{"type":"invalid_request_error","code":"rate_limit","message":"slow down"}}`, sdk.CategoryRetryable},
		{500, `{"error":{"type":"api_error","message":"boom"}}`, sdk.CategoryUnavailable},
	}
	for _, c := range cases {
		t.Run(http.StatusText(c.status), func(t *testing.T) {
			srv, _ := recordingStripe(t, func(w http.ResponseWriter, r recorded) {
				w.Header().Set("Stripe-Should-Retry", "false")
				w.WriteHeader(c.status)
				_, _ = io.WriteString(w, c.body)
			})
			p := configured(t, baseSettings(srv.URL))
			_, err := p.CreatePayment(ctx(t), paymentRequest("cs_sy_err", "USD", 4995))
			if got := sdk.CategoryOf(err); got != c.want {
				t.Errorf("category %q (%v), want %q", got, err, c.want)
			}
			if err != nil && strings.Contains(err.Error(), testSecretKey) {
				t.Errorf("error leaks the key: %v", err)
			}
		})
	}
	t.Run("unreachable", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		base := srv.URL
		srv.Close()
		p := configured(t, baseSettings(base))
		_, err := p.CreatePayment(ctx(t), paymentRequest("cs_sy_down", "USD", 4995))
		if got := sdk.CategoryOf(err); got != sdk.CategoryUnavailable {
			t.Errorf("category %q (%v), want unavailable", got, err)
		}
	})
}

func TestGetPaymentAndRefundAgainstStripeMock(t *testing.T) {
	base := stripemock.Start(t)
	p := configured(t, baseSettings(base))
	for _, ref := range []string{"cs_test_mock1", "acct_1Merchant42/cs_test_mock1"} {
		t.Run(ref, func(t *testing.T) {
			got, err := p.GetPayment(ctx(t), provider.GetPaymentRequest{ProviderRef: ref})
			if err != nil {
				t.Fatalf("GetPayment: %v", err)
			}
			if got.ProviderRef != ref || !got.Status.Valid() {
				t.Errorf("GetPayment = %+v", got)
			}
			res, err := p.Refund(ctx(t), provider.RefundRequest{ProviderRef: ref, Amount: 100, IdempotencyKey: "rf_" + ref})
			if err != nil {
				t.Fatalf("Refund: %v", err)
			}
			if !strings.HasPrefix(res.RefundRef, "re_") || res.Status == "" {
				t.Errorf("Refund = %+v", res)
			}
		})
	}
	t.Run("not a checkout session", func(t *testing.T) {
		_, err := p.GetPayment(ctx(t), provider.GetPaymentRequest{ProviderRef: "pi_123"})
		if sdk.CategoryOf(err) != sdk.CategoryNotFound {
			t.Errorf("got %v, want not found", err)
		}
	})
}
