package stripeprovider

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/switchyard/switchyard/plugins/stripe/stripefake"
	"github.com/switchyard/switchyard/plugins/stripe/stripemock"
	"github.com/switchyard/switchyard/sdk"
	"github.com/switchyard/switchyard/sdk/provider"
)

// recordingProxy forwards to stripe-mock and keeps the headers of every
// POST /v1/refunds, which stripe-mock validates but cannot report.
type recordingProxy struct {
	mu      sync.Mutex
	headers []http.Header
	bodies  []url.Values
}

func startRecordingProxy(t *testing.T, target string) (*recordingProxy, string) {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	rp := &recordingProxy{}
	fwd := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/v1/refunds" {
			if err := r.ParseForm(); err != nil {
				t.Errorf("refund form: %v", err)
			}
			rp.mu.Lock()
			rp.headers = append(rp.headers, r.Header.Clone())
			rp.bodies = append(rp.bodies, r.PostForm)
			rp.mu.Unlock()
			// ParseForm consumed the body: forward the form re-encoded.
			body := r.PostForm.Encode()
			r.Body = io.NopCloser(strings.NewReader(body))
			r.ContentLength = int64(len(body))
		}
		fwd.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return rp, srv.URL
}

// TestRefundAgainstStripeMock sends refunds through stripe-go to
// stripe-mock, which validates every parameter against Stripe's OpenAPI
// spec, and checks on the wire that the idempotency key and, for a
// connected merchant, the Stripe-Account header went with them.
func TestRefundAgainstStripeMock(t *testing.T) {
	rec, base := startRecordingProxy(t, stripemock.Start(t))
	p := configured(t, baseSettings(base))
	cases := []struct {
		ref, account, reason, wantReason, wantMetaReason string
	}{
		{"cs_test_mock1", "", "requested_by_customer", "requested_by_customer", ""},
		{"acct_1Merchant42/cs_test_mock2", "acct_1Merchant42", "duplicate", "duplicate", ""},
		{"acct_1Merchant42/cs_test_mock3", "acct_1Merchant42", "other", "", "other"},
	}
	for i, tc := range cases {
		t.Run(tc.ref, func(t *testing.T) {
			key := "switchyard_refund_re_mock" + string(rune('a'+i))
			res, err := p.Refund(ctx(t), provider.RefundRequest{
				ProviderRef: tc.ref, SessionID: "cs_sy_mock", Amount: 100, IdempotencyKey: key, Reason: tc.reason,
			})
			if err != nil {
				t.Fatalf("Refund: %v", err)
			}
			if !strings.HasPrefix(res.RefundRef, "re_") || res.Status == "" {
				t.Errorf("Refund = %+v", res)
			}
			rec.mu.Lock()
			h, form := rec.headers[len(rec.headers)-1], rec.bodies[len(rec.bodies)-1]
			rec.mu.Unlock()
			if got := h.Get("Idempotency-Key"); got != key {
				t.Errorf("Idempotency-Key %q, want %q", got, key)
			}
			if got := h.Get("Stripe-Account"); got != tc.account {
				t.Errorf("Stripe-Account %q, want %q", got, tc.account)
			}
			if got := form.Get("reason"); got != tc.wantReason {
				t.Errorf("reason %q, want %q", got, tc.wantReason)
			}
			if got := form.Get("metadata[switchyard_reason]"); got != tc.wantMetaReason {
				t.Errorf("metadata[switchyard_reason] %q, want %q", got, tc.wantMetaReason)
			}
			if form.Get("amount") != "100" || form.Get("payment_intent") == "" {
				t.Errorf("refund params %v", form)
			}
		})
	}
}

// TestRefundsCountedAtTheFake uses the stateful fake, which counts the
// refunds it made: retries with one key are one refund, on the merchant's
// connected account when the payment was made there.
func TestRefundsCountedAtTheFake(t *testing.T) {
	fake := stripefake.New(t)
	p := configured(t, baseSettings(fake.URL()))
	req := paymentRequest("cs_sy_count", "USD", 4995)
	req.MerchantAccount = "acct_1Merchant42"
	created, err := p.CreatePayment(ctx(t), req)
	if err != nil {
		t.Fatal(err)
	}
	_, id, _ := parseRef(created.ProviderRef)
	fake.Pay("acct_1Merchant42", id)

	refund := provider.RefundRequest{ProviderRef: created.ProviderRef, SessionID: "cs_sy_count", Amount: 1000, Currency: "USD",
		IdempotencyKey: "switchyard_refund_re_count1", Reason: "requested_by_customer"}
	var first provider.RefundResult
	for i := range 3 {
		res, err := p.Refund(ctx(t), refund)
		if err != nil || res.Status != provider.RefundSucceeded || res.Amount != 1000 {
			t.Fatalf("refund call %d: %+v, %v", i, res, err)
		}
		if i == 0 {
			first = res
		} else if res.RefundRef != first.RefundRef {
			t.Errorf("retry %d got refund %s, want %s", i, res.RefundRef, first.RefundRef)
		}
	}
	got := fake.Refunds()
	if len(got) != 1 {
		t.Fatalf("fake made %d refunds for three calls with one key, want 1", len(got))
	}
	r := got[0]
	if r.Account != "acct_1Merchant42" || r.Amount != 1000 || r.IdempotencyKey != refund.IdempotencyKey ||
		r.Reason != "requested_by_customer" || r.Metadata[MetaSessionID] != "cs_sy_count" {
		t.Errorf("fake refund %+v", r)
	}
}

// TestRefundErrorsByCategory maps Stripe's refusals onto the categories
// the host acts on: declined and invalid fail the refund with Stripe's
// message, unavailable and retryable are retried with the same key.
func TestRefundErrorsByCategory(t *testing.T) {
	fake := stripefake.New(t)
	p := configured(t, baseSettings(fake.URL()))
	created, err := p.CreatePayment(ctx(t), paymentRequest("cs_sy_errs", "USD", 4995))
	if err != nil {
		t.Fatal(err)
	}
	fake.Pay("", created.ProviderRef)
	cases := []struct {
		status             int
		typ, code, message string
		want               sdk.Category
	}{
		{402, "card_error", "expired_card", "The card has expired.", sdk.CategoryDeclined},
		{400, "invalid_request_error", "charge_already_refunded", "Charge ch_1 has already been refunded.", sdk.CategoryInvalidInput},
		{400, "invalid_request_error", "charge_disputed", "Charge ch_1 has been charged back; cannot issue a refund.", sdk.CategoryInvalidInput},
		{500, "api_error", "", "An unknown error occurred", sdk.CategoryUnavailable},
		{429, "invalid_request_error", "rate_limit", "Too many requests", sdk.CategoryRetryable},
	}
	for i, tc := range cases {
		t.Run(strconv.Itoa(tc.status)+"_"+tc.typ+"_"+tc.code, func(t *testing.T) {
			fake.RejectRefunds(tc.status, tc.typ, tc.code, tc.message)
			_, err := p.Refund(ctx(t), provider.RefundRequest{ProviderRef: created.ProviderRef, Amount: 100,
				IdempotencyKey: "switchyard_refund_re_err" + string(rune('a'+i))})
			if got := sdk.CategoryOf(err); got != tc.want {
				t.Fatalf("category %q (%v), want %q", got, err, tc.want)
			}
			if tc.want == sdk.CategoryDeclined || tc.want == sdk.CategoryInvalidInput {
				if !strings.Contains(err.Error(), tc.message) {
					t.Errorf("error %q does not carry Stripe's message %q", err, tc.message)
				}
			}
		})
	}
	fake.RejectRefunds(0, "", "", "")
	if n := len(fake.Refunds()); n != 0 {
		t.Errorf("fake made %d refunds while rejecting, want 0", n)
	}
}
