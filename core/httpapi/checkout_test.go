package httpapi_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard/core/checkout"
	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/httpapi"
	"github.com/switchyard/switchyard/core/payments"
	"github.com/switchyard/switchyard/core/store"
)

// fakeCheckout is an in-memory CheckoutService that records what the
// handlers asked of it.
type fakeCheckout struct {
	mu       sync.Mutex
	views    map[string]testView
	viewErr  error
	startURL string
	startErr error
	// afterStart replaces the view once StartPayment fails, to model a
	// session that changed concurrently.
	afterStart *testView
	cancelErr  error
	// cancelBecomes models payments leaving a session that is no longer
	// open as it is (status it has by the time Cancel runs).
	cancelBecomes domain.SessionStatus

	starts  []startCall
	cancels []string
}

type startCall struct{ id, method, country string }

var _ httpapi.CheckoutService = (*fakeCheckout)(nil)

// testView is a session in the fields the tests vary; checkout() turns it
// into what payments returns.
type testView struct {
	SessionID      string
	Status         domain.SessionStatus
	Amount         string
	Currency       string
	AmountRefunded string
	MerchantName   string
	Mode           domain.IntegrationMode
	Method         string
	Methods        []payments.MethodView
	ReturnURL      string
	CancelURL      string
	ExpiresAt      time.Time
	LastAttempt    string
}

func opt(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (v testView) checkout() *payments.Checkout {
	refunded := v.AmountRefunded
	if refunded == "" {
		refunded = "0.00"
	}
	c := &payments.Checkout{
		Session: &payments.SessionView{
			SessionID: v.SessionID, Status: v.Status, Amount: v.Amount, Currency: v.Currency,
			AmountRefunded: refunded, Method: opt(v.Method), ReturnURL: opt(v.ReturnURL), CancelURL: opt(v.CancelURL),
			ExpiresAt: v.ExpiresAt.UTC().Format(time.RFC3339),
		},
		MerchantName:    v.MerchantName,
		IntegrationMode: v.Mode,
		Methods:         v.Methods,
	}
	if v.LastAttempt != "" {
		c.LastAttempt = &payments.AttemptView{Method: v.Method, Status: store.AttemptStatus(v.LastAttempt)}
	}
	return c
}

func (f *fakeCheckout) CheckoutView(_ context.Context, id string) (*payments.Checkout, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.viewErr != nil {
		return nil, f.viewErr
	}
	v, ok := f.views[id]
	if !ok {
		return nil, domain.NotFound("session")
	}
	return v.checkout(), nil
}

func (f *fakeCheckout) StartPayment(_ context.Context, id, method, country string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.starts = append(f.starts, startCall{id, method, country})
	if f.startErr != nil {
		if f.afterStart != nil {
			f.views[id] = *f.afterStart
		}
		return "", f.startErr
	}
	return f.startURL, nil
}

func (f *fakeCheckout) Cancel(_ context.Context, id string) (*payments.SessionView, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cancels = append(f.cancels, id)
	if f.cancelErr != nil {
		return nil, f.cancelErr
	}
	v := f.views[id]
	if f.cancelBecomes != "" {
		v.Status = f.cancelBecomes
	} else {
		v.Status = domain.StatusCanceled
	}
	f.views[id] = v
	return v.checkout().Session, nil
}

const (
	baseURL    = "https://pay.example.com"
	sandboxURL = baseURL + "/p/sandbox/pay/sbx_0123456789abcdef01234567?sig=x"
)

var sid = domain.NewSessionID()

func openView(mode domain.IntegrationMode) testView {
	v := testView{
		SessionID:    sid,
		Status:       domain.StatusOpen,
		Amount:       "49.95",
		Currency:     "USD",
		MerchantName: "Acme Hosting",
		Mode:         mode,
		Methods: []payments.MethodView{
			{Method: "card", Label: "Card"},
			{Method: "bank_transfer", Label: "Bank transfer"},
		},
		ReturnURL: "https://shop.example/success",
		CancelURL: "https://shop.example/cancel",
		ExpiresAt: time.Now().Add(time.Hour),
	}
	if mode == domain.ModeSmartRouting {
		v.Method = "card"
	}
	return v
}

func with(v testView, fn func(*testView)) testView {
	fn(&v)
	return v
}

type checkoutCase struct {
	name    string
	method  string
	path    string
	form    url.Values
	header  map[string]string
	view    *testView
	setup   func(*fakeCheckout)
	opts    func(*httpapi.CheckoutOptions)
	status  int
	loc     string
	want    []string
	notWant []string
	check   func(*testing.T, *fakeCheckout, *httptest.ResponseRecorder)
}

func runCheckout(t *testing.T, tc checkoutCase) (*fakeCheckout, *httptest.ResponseRecorder) {
	t.Helper()
	f := &fakeCheckout{views: map[string]testView{}, startURL: sandboxURL}
	if tc.view != nil {
		f.views[tc.view.SessionID] = *tc.view
	}
	if tc.setup != nil {
		tc.setup(f)
	}
	r, err := checkout.NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	opts := httpapi.CheckoutOptions{PublicBaseURL: baseURL}
	if tc.opts != nil {
		tc.opts(&opts)
	}
	e := httpapi.New(httpapi.Options{}, httpapi.Checkout(f, r, opts))

	method := tc.method
	if method == "" {
		method = http.MethodGet
	}
	var req *http.Request
	if tc.form != nil {
		req = httptest.NewRequest(method, tc.path, strings.NewReader(tc.form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req = httptest.NewRequest(method, tc.path, nil)
	}
	for k, v := range tc.header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	return f, rec
}

func assertCheckoutHeaders(t *testing.T, rec *httptest.ResponseRecorder, formOrigins string) {
	t.Helper()
	h := rec.Header()
	wantCSP := "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'" + formOrigins +
		"; frame-ancestors 'none'; base-uri 'none'"
	for k, want := range map[string]string{
		"Content-Security-Policy": wantCSP,
		"X-Content-Type-Options":  "nosniff",
		"X-Frame-Options":         "DENY",
		"Referrer-Policy":         "same-origin",
		"Cache-Control":           "no-store",
	} {
		if got := h.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if rec.Code != http.StatusSeeOther && !strings.HasPrefix(h.Get("Content-Type"), "text/html") {
		t.Errorf("Content-Type = %q, want HTML for a shopper", h.Get("Content-Type"))
	}
}

func ptr(v testView) *testView { return &v }

func TestCheckoutPages(t *testing.T) {
	hosted := openView(domain.ModeHostedCheckout)
	smart := openView(domain.ModeSmartRouting)
	page := "/checkout/" + sid

	tests := []checkoutCase{
		{
			name: "malformed id", path: "/checkout/cs_nope", status: 404,
			want: []string{"Checkout not found"}, notWant: []string{"Acme"},
		},
		{
			name: "unknown id looks like a malformed one", path: "/checkout/" + domain.NewSessionID(), status: 404,
			want: []string{"Checkout not found"},
		},
		{
			name: "other paths under /checkout", path: "/checkout/" + sid + "/nope/deeper", status: 404,
			want: []string{"Checkout not found"},
		},
		{
			name: "hosted checkout shows the choice", path: page, view: &hosted, status: 200,
			want: []string{"Acme Hosting", "USD\u00a049.95", `action="/checkout/` + sid + `/pay"`, `<legend>Payment method</legend>`, `value="card"`, `value="bank_transfer"`, "Bank transfer", `href="/checkout/` + sid + `/cancel"`},
			check: func(t *testing.T, f *fakeCheckout, _ *httptest.ResponseRecorder) {
				if len(f.starts) != 0 {
					t.Errorf("showing the choice must not start a payment")
				}
			},
		},
		{
			name: "card first, then wallet, then the rest in the service's order", path: page, status: 200,
			view: ptr(with(hosted, func(v *testView) {
				v.Methods = []payments.MethodView{{Method: "bank_transfer", Label: "Bank"}, {Method: "paypal", Label: "PayPal"}, {Method: "wallet", Label: "Wallet"}, {Method: "card", Label: "Card"}}
			})),
			want: []string{`value="card" checked`},
			check: func(t *testing.T, _ *fakeCheckout, rec *httptest.ResponseRecorder) {
				body := rec.Body.String()
				last := -1
				for _, m := range []string{"card", "wallet", "bank_transfer", "paypal"} {
					i := strings.Index(body, `value="`+m+`"`)
					if i < last {
						t.Errorf("method %s is out of order", m)
					}
					last = i
				}
			},
		},
		{
			name: "smart routing redirects at once", path: page, view: &smart, status: 303, loc: sandboxURL,
			header: map[string]string{"CF-IPCountry": "de"},
			opts:   func(o *httpapi.CheckoutOptions) { o.CountryHeader = "CF-IPCountry" },
			check: func(t *testing.T, f *fakeCheckout, _ *httptest.ResponseRecorder) {
				if len(f.starts) != 1 || f.starts[0] != (startCall{sid, "card", "DE"}) {
					t.Errorf("starts = %+v, want one for card from DE", f.starts)
				}
			},
		},
		{
			name: "smart routing on another origin still redirects (GET is not a form post)", path: page, view: &smart,
			setup:  func(f *fakeCheckout) { f.startURL = "https://checkout.provider.example/c/1" },
			status: 303, loc: "https://checkout.provider.example/c/1",
		},
		{
			name: "smart routing after a failed attempt offers the choice", path: page, status: 200,
			view: ptr(with(smart, func(v *testView) { v.LastAttempt = "failed" })),
			want: []string{"didn&#39;t go through", `aria-describedby="notice"`, `value="card" checked`},
			check: func(t *testing.T, f *fakeCheckout, _ *httptest.ResponseRecorder) {
				if len(f.starts) != 0 {
					t.Errorf("must not retry the failed method by itself")
				}
			},
		},
		{
			name: "smart routing with no provider", path: page, view: &smart, status: 503,
			setup: func(f *fakeCheckout) { f.startErr = fmt.Errorf("route: %w", domain.ErrUnavailable) },
			want:  []string{"This payment method is unavailable", "<form"},
		},
		{
			name: "paid", path: page, status: 200,
			view:    ptr(with(hosted, func(v *testView) { v.Status = domain.StatusPaid })),
			want:    []string{"Payment received", `href="https://shop.example/success"`},
			notWant: []string{"<form"},
		},
		{
			name: "partially refunded is still received", path: page, status: 200,
			view: ptr(with(hosted, func(v *testView) { v.Status = domain.StatusPartiallyRefunded })),
			want: []string{"Payment received", "Part of this payment has since been refunded"},
		},
		{
			name: "refunded", path: page, status: 200,
			view: ptr(with(hosted, func(v *testView) { v.Status = domain.StatusRefunded })),
			want: []string{"Payment refunded"},
		},
		{
			name: "expired", path: page, status: 200,
			view:    ptr(with(hosted, func(v *testView) { v.Status = domain.StatusExpired })),
			want:    []string{"This checkout has expired", `href="https://shop.example/cancel"`},
			notWant: []string{"<form"},
		},
		{
			name: "open but past its expiry", path: page, status: 200,
			view: ptr(with(smart, func(v *testView) { v.ExpiresAt = time.Now().Add(-time.Minute) })),
			want: []string{"This checkout has expired"},
			check: func(t *testing.T, f *fakeCheckout, _ *httptest.ResponseRecorder) {
				if len(f.starts) != 0 {
					t.Errorf("an expired session must not be routed")
				}
			},
		},
		{
			name: "canceled", path: page, status: 200,
			view: ptr(with(hosted, func(v *testView) { v.Status = domain.StatusCanceled })),
			want: []string{"Checkout canceled"},
		},
		{
			name: "processing", path: page, status: 200,
			view: ptr(with(hosted, func(v *testView) { v.Status = domain.StatusProcessing })),
			want: []string{"Payment received, confirming", `http-equiv="refresh" content="3; url=/checkout/` + sid + `/return?poll=1"`},
		},
		{
			name: "store failure hides details", path: page, status: 500,
			setup:   func(f *fakeCheckout) { f.viewErr = errors.New("sqlite: disk I/O error at /var/secret") },
			want:    []string{"Something went wrong"},
			notWant: []string{"sqlite", "secret"},
		},
		{
			name: "wrong method on a page", method: http.MethodDelete, path: page + "/return", view: &hosted, status: 405,
			check: func(t *testing.T, f *fakeCheckout, rec *httptest.ResponseRecorder) {
				if got := rec.Header().Get("Allow"); got != "GET" {
					t.Errorf("Allow = %q", got)
				}
			},
		},
		{
			name: "wrong method on the pay route", method: http.MethodPut, path: page + "/pay", view: &hosted, status: 405,
			check: func(t *testing.T, f *fakeCheckout, rec *httptest.ResponseRecorder) {
				if got := rec.Header().Get("Allow"); got != "GET, POST" {
					t.Errorf("Allow = %q", got)
				}
			},
		},
		{
			name: "wrong method with a malformed id is just not found", method: http.MethodPost, path: "/checkout/cs_nope", status: 404,
		},
		{
			name: "GET on the pay route goes back to the checkout", path: page + "/pay", view: &hosted, status: 303, loc: page,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { checkCase(t, tc, "") })
	}
}

func checkCase(t *testing.T, tc checkoutCase, formOrigins string) {
	t.Helper()
	f, rec := runCheckout(t, tc)
	if rec.Code != tc.status {
		t.Fatalf("status = %d, want %d; body:\n%s", rec.Code, tc.status, rec.Body.String())
	}
	if tc.loc != "" || rec.Code == http.StatusSeeOther {
		if got := rec.Header().Get("Location"); got != tc.loc {
			t.Errorf("Location = %q, want %q", got, tc.loc)
		}
	}
	assertCheckoutHeaders(t, rec, formOrigins)
	body := rec.Body.String()
	for _, w := range tc.want {
		if !strings.Contains(body, w) {
			t.Errorf("body lacks %q:\n%s", w, body)
		}
	}
	for _, w := range tc.notWant {
		if strings.Contains(body, w) {
			t.Errorf("body must not contain %q", w)
		}
	}
	if tc.check != nil {
		tc.check(t, f, rec)
	}
}

func TestCheckoutPay(t *testing.T) {
	hosted := openView(domain.ModeHostedCheckout)
	pay := "/checkout/" + sid + "/pay"
	card := url.Values{"method": {"card"}}
	paid := with(hosted, func(v *testView) { v.Status = domain.StatusPaid })

	tests := []checkoutCase{
		{
			name: "same-origin provider page gets a 303", path: pay, form: card, view: &hosted, status: 303, loc: sandboxURL,
			check: func(t *testing.T, f *fakeCheckout, _ *httptest.ResponseRecorder) {
				if len(f.starts) != 1 || f.starts[0] != (startCall{sid, "card", ""}) {
					t.Errorf("starts = %+v", f.starts)
				}
			},
		},
		{
			name: "relative provider path gets a 303", path: pay, form: card, view: &hosted, status: 303, loc: "/p/sandbox/pay/x",
			setup: func(f *fakeCheckout) { f.startURL = "/p/sandbox/pay/x" },
		},
		{
			name: "unlisted origin gets a hand-off page form-action cannot block", path: pay, form: card, view: &hosted, status: 200,
			setup:   func(f *fakeCheckout) { f.startURL = "https://checkout.provider.example/c/1?a=1&b=2" },
			want:    []string{"Continuing to payment", `http-equiv="refresh" content="0; url=https://checkout.provider.example/c/1?a=1&amp;b=2"`, `href="https://checkout.provider.example/c/1?a=1&amp;b=2"`},
			notWant: []string{"<form"},
		},
		{
			name: "no method chosen", path: pay, form: url.Values{}, view: &hosted, status: 422,
			want: []string{"Choose a payment method.", "Error: Choose how to pay"},
		},
		{
			name: "method not on offer is not routed", path: pay, form: url.Values{"method": {"crypto"}}, view: &hosted, status: 422,
			want: []string{"This payment method is unavailable"},
			check: func(t *testing.T, f *fakeCheckout, _ *httptest.ResponseRecorder) {
				if len(f.starts) != 0 {
					t.Errorf("an unknown method reached routing")
				}
			},
		},
		{
			name: "routing refuses the method", path: pay, form: url.Values{"method": {"bank_transfer"}}, view: &hosted, status: 422,
			setup: func(f *fakeCheckout) {
				f.startErr = domain.Unprocessable("method_unavailable", "method", "no provider takes bank_transfer in USD")
			},
			want:    []string{"This payment method is unavailable right now. Please choose another method.", `value="bank_transfer" checked`},
			notWant: []string{"no provider takes"},
		},
		{
			name: "provider declines at once", path: pay, form: card, view: &hosted, status: 422,
			setup: func(f *fakeCheckout) {
				f.startErr = &domain.Error{Kind: domain.ErrUnprocessable, Code: "payment_declined", Message: "the payment was declined"}
			},
			want: []string{"didn&#39;t go through", `value="card" checked`},
		},
		{
			name: "every provider down", path: pay, form: card, view: &hosted, status: 503,
			setup: func(f *fakeCheckout) { f.startErr = fmt.Errorf("create payment: %w", domain.ErrUnavailable) },
			want:  []string{"This payment method is unavailable"},
			check: func(t *testing.T, _ *fakeCheckout, rec *httptest.ResponseRecorder) {
				if rec.Header().Get("Retry-After") == "" {
					t.Errorf("503 without Retry-After")
				}
			},
		},
		{
			name: "paid meanwhile: conflict shows the paid page", path: pay, form: card, view: &hosted, status: 409,
			setup: func(f *fakeCheckout) {
				f.startErr = domain.Conflict("session_not_open", "session is paid")
				f.afterStart = &paid
			},
			want: []string{"Payment received"},
		},
		{
			name: "already paid: back to the checkout page", path: pay, form: card, view: &paid, status: 303, loc: "/checkout/" + sid,
		},
		{
			name: "provider hands back a script URL", path: pay, form: card, view: &hosted, status: 502,
			setup:   func(f *fakeCheckout) { f.startURL = "javascript:alert(1)" },
			want:    []string{"This payment method is unavailable"},
			notWant: []string{"javascript:"},
		},
		{
			name: "provider hands back a protocol-relative URL", path: pay, form: card, view: &hosted, status: 502,
			setup: func(f *fakeCheckout) { f.startURL = "//evil.example/x" },
		},
		{
			name: "unknown session", path: "/checkout/" + domain.NewSessionID() + "/pay", form: card, status: 404,
			want: []string{"Checkout not found"},
		},
	}
	for _, tc := range tests {
		tc.method = http.MethodPost
		t.Run(tc.name, func(t *testing.T) { checkCase(t, tc, "") })
	}

	t.Run("listed provider origin gets a 303 and is in form-action", func(t *testing.T) {
		checkCase(t, checkoutCase{
			method: http.MethodPost, path: pay, form: card, view: &hosted, status: 303,
			loc:   "https://checkout.provider.example/c/1",
			setup: func(f *fakeCheckout) { f.startURL = "https://checkout.provider.example/c/1" },
			opts: func(o *httpapi.CheckoutOptions) {
				o.FormActionOrigins = []string{"https://checkout.provider.example:443/", "not a url"}
			},
		}, " https://checkout.provider.example")
	})

	// Origins the plugins describe are read per request: a provider that
	// starts (or reports a new origin) after the routes were mounted counts.
	var described []string
	describedOpts := func(o *httpapi.CheckoutOptions) {
		o.FormActionOrigins = []string{"https://configured.example"}
		o.PageOrigins = func() []string { return described }
	}
	t.Run("described origin not yet known: hand-off page", func(t *testing.T) {
		checkCase(t, checkoutCase{
			method: http.MethodPost, path: pay, form: card, view: &hosted, status: 200,
			setup: func(f *fakeCheckout) { f.startURL = "https://pay.described.example/c/1" },
			opts:  describedOpts,
			want:  []string{`href="https://pay.described.example/c/1"`},
		}, " https://configured.example")
	})
	t.Run("described provider origin gets a 303 and is in form-action", func(t *testing.T) {
		described = []string{"https://pay.described.example", "https://configured.example", "::bad"}
		checkCase(t, checkoutCase{
			method: http.MethodPost, path: pay, form: card, view: &hosted, status: 303,
			loc:   "https://pay.described.example/c/1",
			setup: func(f *fakeCheckout) { f.startURL = "https://pay.described.example/c/1" },
			opts:  describedOpts,
		}, " https://configured.example https://pay.described.example")
	})
}

func TestCheckoutReturn(t *testing.T) {
	hosted := openView(domain.ModeHostedCheckout)
	ret := "/checkout/" + sid + "/return"
	pending := with(hosted, func(v *testView) { v.LastAttempt = "pending" })
	tests := []checkoutCase{
		{
			name: "pending attempt: confirming, refreshing", path: ret, view: &pending, status: 200,
			want: []string{"Payment received, confirming", `content="3; url=/checkout/` + sid + `/return?poll=1"`, `href="https://shop.example/success"`},
		},
		{
			name: "poll counter advances", path: ret + "?poll=7", view: &pending, status: 200,
			want: []string{`/return?poll=8"`},
		},
		{
			name: "polling stops at the limit", path: ret + "?poll=999", view: &pending, status: 200,
			opts:    func(o *httpapi.CheckoutOptions) { o.PollLimit = 5 },
			want:    []string{"taking longer than usual", `href="/checkout/` + sid + `/return"`},
			notWant: []string{"http-equiv"},
		},
		{
			name: "garbage poll value starts over", path: ret + "?poll=-3x", view: &pending, status: 200,
			want: []string{`/return?poll=1"`},
		},
		{
			name: "processing session", path: ret, status: 200,
			view: ptr(with(hosted, func(v *testView) { v.Status = domain.StatusProcessing; v.LastAttempt = "processing" })),
			want: []string{"Payment received, confirming"},
		},
		{
			name: "paid", path: ret, status: 200,
			view: ptr(with(hosted, func(v *testView) { v.Status = domain.StatusPaid; v.LastAttempt = "succeeded" })),
			want: []string{"Payment received", "was successful", `href="https://shop.example/success"`},
		},
		{
			name: "failed attempt: try another method", path: ret, status: 200,
			view: ptr(with(hosted, func(v *testView) { v.LastAttempt = "failed" })),
			want: []string{"Payment failed", "try another method", `href="/checkout/` + sid + `"`, `href="/checkout/` + sid + `/cancel"`},
		},
		{
			name: "nothing attempted: back to the checkout", path: ret, view: &hosted, status: 303, loc: "/checkout/" + sid,
		},
		{
			name: "expired", path: ret, status: 200,
			view: ptr(with(hosted, func(v *testView) { v.Status = domain.StatusExpired })),
			want: []string{"expired"},
		},
		{
			name: "unknown session", path: "/checkout/" + domain.NewSessionID() + "/return", status: 404,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { checkCase(t, tc, "") })
	}
}

func TestCheckoutCancel(t *testing.T) {
	hosted := openView(domain.ModeHostedCheckout)
	cancel := "/checkout/" + sid + "/cancel"
	canceledOnce := func(t *testing.T, f *fakeCheckout, _ *httptest.ResponseRecorder) {
		t.Helper()
		if len(f.cancels) != 1 || f.cancels[0] != sid {
			t.Errorf("cancels = %v, want [%s]", f.cancels, sid)
		}
	}
	notCanceled := func(t *testing.T, f *fakeCheckout, _ *httptest.ResponseRecorder) {
		t.Helper()
		if len(f.cancels) != 0 {
			t.Errorf("Cancel was called: %v", f.cancels)
		}
	}
	tests := []checkoutCase{
		{name: "open: cancel and go to cancel_url", path: cancel, view: &hosted, status: 303, loc: "https://shop.example/cancel", check: canceledOnce},
		{name: "POST works too", method: http.MethodPost, path: cancel, view: &hosted, status: 303, loc: "https://shop.example/cancel", check: canceledOnce},
		{
			name: "no cancel_url: canceled page", path: cancel, status: 200, check: canceledOnce,
			view: ptr(with(hosted, func(v *testView) { v.CancelURL = "" })),
			want: []string{"Checkout canceled", `href="https://shop.example/success"`},
		},
		{
			name: "second click: no second cancel", path: cancel, status: 303, loc: "https://shop.example/cancel", check: notCanceled,
			view: ptr(with(hosted, func(v *testView) { v.Status = domain.StatusCanceled })),
		},
		{
			name: "paid: nothing to cancel", path: cancel, status: 303, loc: "/checkout/" + sid, check: notCanceled,
			view: ptr(with(hosted, func(v *testView) { v.Status = domain.StatusPaid })),
		},
		{
			name: "service refuses: show the state", path: cancel, view: &hosted, status: 303, loc: "/checkout/" + sid,
			setup: func(f *fakeCheckout) { f.cancelErr = domain.Conflict("session_processing", "payment in progress") },
		},
		{
			name: "payment started meanwhile: left as is", path: cancel, view: &hosted, status: 303, loc: "/checkout/" + sid,
			setup: func(f *fakeCheckout) { f.cancelBecomes = domain.StatusProcessing },
		},
		{name: "unknown session", path: "/checkout/" + domain.NewSessionID() + "/cancel", status: 404, check: notCanceled},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { checkCase(t, tc, "") })
	}
}

func TestCheckoutAssets(t *testing.T) {
	r, err := checkout.NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	css, _ := r.AssetPath("checkout.css")
	e := httpapi.New(httpapi.Options{}, httpapi.Checkout(&fakeCheckout{}, r, httpapi.CheckoutOptions{}))

	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, css, nil))
	if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/css") {
		t.Fatalf("GET %s = %d %q", css, rec.Code, rec.Header().Get("Content-Type"))
	}
	if cc := rec.Header().Get("Cache-Control"); !strings.Contains(cc, "immutable") {
		t.Errorf("Cache-Control = %q, want immutable", cc)
	}
	if rec.Header().Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("assets need nosniff too")
	}

	rec = httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, checkout.AssetsPrefix+"checkout.css", nil))
	if rec.Code != 404 {
		t.Errorf("unfingerprinted name = %d, want 404", rec.Code)
	}
}
