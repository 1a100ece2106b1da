package sdktest

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/switchyard/switchyard/sdk/meta"
	"github.com/switchyard/switchyard/sdk/provider"
	"github.com/switchyard/switchyard/sdk/sdkerr"
)

// ProviderConformanceConfig tunes RunProviderConformance for one provider.
type ProviderConformanceConfig struct {
	// Settings are passed to Configure before anything else.
	Settings map[string]string
	// RequiredSettings are keys without which Configure must fail with
	// sdk.CategoryInvalidInput; each is checked by leaving it out.
	RequiredSettings []string
	// Currency and Amount are used for payments in methods that accept any
	// currency; defaults "USD" and 1999. Methods that list currencies use
	// their first one.
	Currency string
	Amount   int64
	// BaseURL stands in for Switchyard's public base URL; default
	// "https://switchyard.test".
	BaseURL string
	// SignedWebhook builds a webhook signed the way your upstream signs
	// it, reporting the given payment as succeeded. The suite feeds it to
	// HandleWebhook and checks the normalized payment.succeeded event, then
	// alters it and checks that the altered copies are refused. Without it
	// those checks skip.
	SignedWebhook func(t testing.TB, req provider.CreatePaymentRequest, resp provider.CreatePaymentResponse) provider.WebhookRequest
	// TamperWebhook, when set, alters a copy of the signed webhook in a
	// signed part; HandleWebhook must refuse the result. By default the
	// suite raises the amount in the body (and, where a header or form
	// field is named like a signature, alters the signature).
	TamperWebhook func(provider.WebhookRequest) provider.WebhookRequest
	// HTTPRoute, for a provider.HTTPHandler, builds a request one of its
	// routes answers with a 2xx or 3xx. By default the suite follows the
	// payment's redirect when it points below ProviderBaseURL (a pay page
	// served through HandleHTTP).
	HTTPRoute func(t testing.TB, req provider.CreatePaymentRequest, resp provider.CreatePaymentResponse) provider.HTTPRequest
	// PayUpstream, for a provider.Refunder, gets a payment the suite
	// created paid in full upstream and returns its PaymentData, so the
	// refund checks (refund_full, refund_partial, refund_over_refund,
	// refund_idempotent) have something to refund. PayWithWebhook builds
	// one from SignedWebhook; a plugin backed by a stateful test double
	// also marks the payment paid there. Without it those checks skip.
	PayUpstream PayUpstreamFunc
	// Concurrency is how many CreatePayment calls run at once in the
	// concurrency check; default 16.
	Concurrency int
}

func (c *ProviderConformanceConfig) defaults() {
	if c.Currency == "" {
		c.Currency = "USD"
	}
	if c.Amount == 0 {
		c.Amount = 1999
	}
	if c.BaseURL == "" {
		c.BaseURL = "https://switchyard.test"
	}
	if c.Concurrency == 0 {
		c.Concurrency = 16
	}
}

// paymentRequest builds a valid CreatePaymentRequest for method m.
func (c ProviderConformanceConfig) paymentRequest(m provider.Method, n int) provider.CreatePaymentRequest {
	cur := c.Currency
	if len(m.Currencies) > 0 {
		cur = m.Currencies[0]
	}
	amount := c.Amount
	if l, ok := limitFor(m, cur); ok {
		if l.Min > 0 && amount < l.Min {
			amount = l.Min
		}
		if l.Max > 0 && amount > l.Max {
			amount = l.Max
		}
	}
	session := fmt.Sprintf("cs_conformance_%s_%d", m.Method, n)
	return provider.CreatePaymentRequest{
		SessionID:       session,
		AttemptID:       session + "_a1",
		IdempotencyKey:  session + "_a1",
		Amount:          amount,
		Currency:        cur,
		Method:          m.Method,
		CustomerEmail:   "shopper@example.com",
		Description:     "conformance order " + session,
		MerchantName:    "Conformance Shop",
		ReturnURL:       c.BaseURL + "/checkout/" + session + "/return",
		CancelURL:       c.BaseURL + "/checkout/" + session,
		WebhookURL:      c.BaseURL + "/hooks/conformance/prv_conformance",
		ProviderBaseURL: c.BaseURL + "/p/prv_conformance",
		Metadata:        map[string]string{"order_id": "ord_" + session},
	}
}

func limitFor(m provider.Method, cur string) (provider.AmountLimit, bool) {
	var fallback provider.AmountLimit
	found := false
	for _, l := range m.Limits {
		if l.Currency == cur {
			return l, true
		}
		if l.Currency == "" {
			fallback, found = l, true
		}
	}
	return fallback, found
}

// RunProviderConformance checks that p — the host-side client from
// ProviderClient or LaunchProvider, so every call crosses the real gRPC
// adapters — meets the provider contract. Every check is a subtest that
// sets up what it needs itself (Describe, Configure, a payment), so one can
// run alone:
//
//	go test -run 'TestConformance/webhook_tampered_rejected'
//
// and each failure says what the plugin must do. It configures p with
// cfg.Settings and creates payments, so run it against a sandbox or
// test-mode account.
func RunProviderConformance(t *testing.T, p provider.Client, cfg ProviderConformanceConfig) {
	t.Helper()
	cfg.defaults()
	s := &providerSuite{p: p, cfg: cfg}
	t.Run("describe", s.checkDescribe)
	t.Run("configure", s.checkConfigure)
	t.Run("configure_unknown_setting", s.checkUnknownSetting)
	t.Run("health", func(t *testing.T) { s.configured(t); checkHealthy(t, p.CheckHealth) })
	t.Run("create_payment", s.checkCreatePayment)
	t.Run("create_payment_idempotent", s.checkIdempotent)
	t.Run("create_payment_invalid_input", s.checkInvalidPayments)
	t.Run("get_payment", s.checkGetPayment)
	t.Run("get_payment_unknown", func(t *testing.T) {
		s.configured(t)
		_, err := p.GetPayment(callCtx(t), provider.GetPaymentRequest{ProviderRef: "conformance_no_such_payment"})
		wantCategory(t, "GetPayment(unknown ref) must be sdk.NotFound", err, sdkerr.CategoryNotFound)
	})
	t.Run("refund_unknown", s.checkRefundUnknown)
	t.Run("refund_full", s.checkRefundFull)
	t.Run("refund_partial", s.checkRefundPartial)
	t.Run("refund_over_refund", s.checkOverRefund)
	t.Run("refund_idempotent", s.checkRefundIdempotent)
	t.Run("webhook_unsigned_rejected", s.checkUnsignedWebhooks)
	t.Run("webhook_signed_normalized", s.checkSignedWebhook)
	t.Run("webhook_tampered_rejected", s.checkTamperedWebhooks)
	t.Run("http_unknown_route", s.checkUnknownRoute)
	t.Run("http_route", s.checkHTTPRoute)
	t.Run("cancelled_context", s.checkCancelled)
	t.Run("concurrent_create_payment", s.checkConcurrent)
}

// providerSuite holds what the checks share, each piece made on first use
// so that any one check can run on its own.
type providerSuite struct {
	p   provider.Client
	cfg ProviderConformanceConfig

	mu    sync.Mutex
	desc  *provider.Description
	ready bool // configured with cfg.Settings
	first *createdPayment
}

// description is Describe's answer; a failure stops the calling check.
func (s *providerSuite) description(t *testing.T) provider.Description {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.desc == nil {
		d, err := s.p.Describe(callCtx(t))
		if err != nil {
			t.Fatalf("Describe: %v (it must work before Configure and without I/O)", err)
		}
		if len(d.Methods) == 0 {
			t.Fatal("Describe lists no payment methods: every provider offers at least one")
		}
		s.desc = &d
	}
	return *s.desc
}

// configured makes sure Configure(cfg.Settings) succeeded.
func (s *providerSuite) configured(t *testing.T) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ready {
		return
	}
	if err := s.p.Configure(callCtx(t), s.cfg.Settings); err != nil {
		t.Fatalf("Configure(ProviderConformanceConfig.Settings): %v (these settings must be accepted)", err)
	}
	s.ready = true
}

// forget records that a check reconfigured the plugin.
func (s *providerSuite) forget() {
	s.mu.Lock()
	s.ready = false
	s.mu.Unlock()
}

// payment is one payment made with the first method.
func (s *providerSuite) payment(t *testing.T) createdPayment {
	t.Helper()
	d := s.description(t)
	s.configured(t)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.first == nil {
		req := s.cfg.paymentRequest(d.Methods[0], 0)
		resp, err := s.p.CreatePayment(callCtx(t), req)
		if err != nil {
			t.Fatalf("CreatePayment(%s): %v (a valid request must create a payment)", req.Method, err)
		}
		if resp.ProviderRef == "" {
			t.Fatalf("CreatePayment(%s) returned no ProviderRef: return the upstream payment id", req.Method)
		}
		s.first = &createdPayment{req: req, resp: resp}
	}
	return *s.first
}

func (s *providerSuite) checkDescribe(t *testing.T) {
	d := s.description(t)
	checkInfo(t, d.Info, meta.KindProvider)
	checkMethods(t, d.Methods)
	for _, o := range d.PageOrigins {
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" ||
			(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
			t.Errorf("Describe: PageOrigins entry %q must be an origin, scheme://host[:port] without path or credentials", o)
		}
	}
}

func (s *providerSuite) checkConfigure(t *testing.T) {
	s.forget()
	checkConfigure(t, s.p.Configure, s.cfg.Settings, s.cfg.RequiredSettings)
	s.mu.Lock()
	s.ready = !t.Failed()
	s.mu.Unlock()
}

// unknownSetting is a key no plugin knows.
const unknownSetting = "conformance_no_such_setting"

func (s *providerSuite) checkUnknownSetting(t *testing.T) {
	checkUnknownSetting(t, s.p.Configure, s.cfg.Settings)
	s.forget()
}

func (s *providerSuite) checkCreatePayment(t *testing.T) {
	d := s.description(t)
	s.configured(t)
	for _, m := range d.Methods {
		req := s.cfg.paymentRequest(m, 0)
		resp, err := s.p.CreatePayment(callCtx(t), req)
		if err != nil {
			t.Errorf("CreatePayment(%s): %v (every method Describe lists must take a valid payment)", m.Method, err)
			continue
		}
		checkCreated(t, m.Method, resp)
	}
}

func (s *providerSuite) checkIdempotent(t *testing.T) {
	first := s.payment(t)
	again, err := s.p.CreatePayment(callCtx(t), first.req)
	if err != nil {
		t.Fatalf("CreatePayment with a repeated IdempotencyKey: %v (the host retries with the same key after a timeout: return the first payment)", err)
	}
	if again.ProviderRef != first.resp.ProviderRef {
		t.Errorf("CreatePayment with a repeated IdempotencyKey returned %q, first call %q: the same key must return the same payment", again.ProviderRef, first.resp.ProviderRef)
	}
}

func (s *providerSuite) checkInvalidPayments(t *testing.T) {
	d := s.description(t)
	s.configured(t)
	base := s.cfg.paymentRequest(d.Methods[0], 1)
	cases := []struct {
		name   string
		mutate func(*provider.CreatePaymentRequest)
	}{
		{"zero amount", func(r *provider.CreatePaymentRequest) { r.Amount = 0 }},
		{"negative amount", func(r *provider.CreatePaymentRequest) { r.Amount = -100 }},
		{"bogus currency", func(r *provider.CreatePaymentRequest) { r.Currency = "ZZQ" }},
		{"lower-case currency", func(r *provider.CreatePaymentRequest) { r.Currency = "usd" }},
		{"unknown method", func(r *provider.CreatePaymentRequest) { r.Method = "no_such_method" }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := base
			req.IdempotencyKey += "_" + tc.name
			tc.mutate(&req)
			_, err := s.p.CreatePayment(callCtx(t), req)
			wantCategory(t, "CreatePayment with "+tc.name+" must be refused with sdk.Invalid", err, sdkerr.CategoryInvalidInput)
		})
	}
}

func (s *providerSuite) checkGetPayment(t *testing.T) {
	first := s.payment(t)
	got, err := s.p.GetPayment(callCtx(t), provider.GetPaymentRequest{ProviderRef: first.resp.ProviderRef, SessionID: first.req.SessionID})
	if err != nil {
		t.Fatalf("GetPayment(%s): %v (a payment CreatePayment made must be found)", first.resp.ProviderRef, err)
	}
	if got.ProviderRef != first.resp.ProviderRef {
		t.Errorf("GetPayment: ProviderRef %q, want %q", got.ProviderRef, first.resp.ProviderRef)
	}
	if got.Amount != first.req.Amount || got.Currency != first.req.Currency {
		t.Errorf("GetPayment: %d %s, want the payment's %d %s", got.Amount, got.Currency, first.req.Amount, first.req.Currency)
	}
	if !got.Status.Valid() {
		t.Errorf("GetPayment: Status %q is not one of pending, processing, succeeded, failed", got.Status)
	}
}

func (s *providerSuite) checkRefundUnknown(t *testing.T) {
	if !s.description(t).Has(provider.CapabilityRefunds) {
		_, err := s.p.Refund(callCtx(t), provider.RefundRequest{ProviderRef: "conformance_no_such_payment", IdempotencyKey: "conformance_refund_unknown"})
		wantCategory(t, "Refund on a provider without provider.Refunder", err, sdkerr.CategoryUnimplemented)
		return
	}
	s.configured(t)
	_, err := s.p.Refund(callCtx(t), provider.RefundRequest{
		ProviderRef: "conformance_no_such_payment", Currency: s.cfg.Currency, IdempotencyKey: "conformance_refund_unknown",
	})
	wantCategory(t, "Refund(unknown ref) must be sdk.NotFound", err, sdkerr.CategoryNotFound)
}

func (s *providerSuite) checkUnsignedWebhooks(t *testing.T) {
	s.configured(t)
	bodies := map[string][]byte{
		"garbage": []byte("garbage \x00\xff not a webhook"),
		"empty":   nil,
		"json":    []byte(`{"type":"payment.succeeded","id":"evt_forged","amount":1999}`),
	}
	for name, body := range bodies {
		t.Run(name, func(t *testing.T) {
			s.wantRejected(t, "an unsigned webhook", provider.WebhookRequest{
				Method: http.MethodPost, Path: "/hooks/conformance/prv_conformance",
				Headers:    http.Header{"Content-Type": {"application/json"}},
				Body:       body,
				RemoteAddr: "203.0.113.7:40000",
			})
		})
	}
}

// wantRejected fails unless HandleWebhook refuses req: no events, and an
// unauthorized/invalid_input error or a non-2xx response.
func (s *providerSuite) wantRejected(t *testing.T, what string, req provider.WebhookRequest) {
	t.Helper()
	resp, err := s.p.HandleWebhook(callCtx(t), req)
	if err != nil {
		wantCategory(t, "HandleWebhook("+what+") must fail with sdk.Unauthorized or sdk.Invalid", err,
			sdkerr.CategoryInvalidInput, sdkerr.CategoryUnauthorized)
		return
	}
	if len(resp.Events) > 0 {
		t.Errorf("HandleWebhook(%s) produced %d events: a request that does not verify must produce none: %+v", what, len(resp.Events), resp.Events)
	}
	if st := resp.Response.Status; st == 0 || (st >= 200 && st < 300) {
		t.Errorf("HandleWebhook(%s) answered %d: answer a non-2xx status or return sdk.Unauthorized", what, st)
	}
}

// signed is the webhook cfg.SignedWebhook builds for the suite's payment.
func (s *providerSuite) signed(t *testing.T) (createdPayment, provider.WebhookRequest) {
	t.Helper()
	if s.cfg.SignedWebhook == nil {
		t.Skip("ProviderConformanceConfig.SignedWebhook is not set: give the suite a way to sign a webhook as your upstream does, so it can check verification")
	}
	first := s.payment(t)
	return first, s.cfg.SignedWebhook(t, first.req, first.resp)
}

func (s *providerSuite) checkSignedWebhook(t *testing.T) {
	first, wh := s.signed(t)
	resp, err := s.p.HandleWebhook(callCtx(t), wh)
	if err != nil {
		t.Fatalf("HandleWebhook(signed): %v (a correctly signed webhook must verify)", err)
	}
	if st := resp.Response.Status; st >= 400 {
		t.Errorf("HandleWebhook(signed) answered %d: a verified webhook gets a 2xx or 3xx answer", st)
	}
	checkSucceededEvent(t, resp.Events, first.req, first.resp)
}

func (s *providerSuite) checkTamperedWebhooks(t *testing.T) {
	first, wh := s.signed(t)
	tampered := map[string]provider.WebhookRequest{}
	if s.cfg.TamperWebhook != nil {
		tampered["custom"] = s.cfg.TamperWebhook(cloneWebhook(wh))
	} else {
		body, ok := tamperAmount(wh.Body, first.req.Amount)
		if !ok {
			t.Fatalf("the signed webhook's body does not contain the amount %d (as %s): set ProviderConformanceConfig.TamperWebhook to change a signed field", first.req.Amount, strings.Join(amountForms(first.req.Amount), " or "))
		}
		w := cloneWebhook(wh)
		w.Body = body
		tampered["amount_raised"] = w
		if w, ok := tamperSignature(cloneWebhook(wh)); ok {
			tampered["signature_altered"] = w
		}
	}
	for name, w := range tampered {
		t.Run(name, func(t *testing.T) {
			s.wantRejected(t, "a signed webhook altered after signing ("+name+")", w)
		})
	}
}

func (s *providerSuite) checkUnknownRoute(t *testing.T) {
	d := s.description(t)
	s.configured(t)
	resp, err := s.p.HandleHTTP(callCtx(t), provider.HTTPRequest{
		Method: http.MethodGet, Path: "/conformance/no/such/route", BaseURL: s.cfg.BaseURL + "/p/prv_conformance",
	})
	if !d.Has(provider.CapabilityHTTP) {
		wantCategory(t, "HandleHTTP on a provider without provider.HTTPHandler", err, sdkerr.CategoryUnimplemented)
		return
	}
	if err != nil {
		wantCategory(t, "HandleHTTP(unknown route) must answer 404 or sdk.NotFound", err, sdkerr.CategoryNotFound)
		return
	}
	if resp.Status != http.StatusNotFound {
		t.Errorf("HandleHTTP(unknown route) = %d: answer 404 for paths you do not serve", resp.Status)
	}
}

func (s *providerSuite) checkHTTPRoute(t *testing.T) {
	if !s.description(t).Has(provider.CapabilityHTTP) {
		t.Skip("the provider does not implement provider.HTTPHandler")
	}
	first := s.payment(t)
	var req provider.HTTPRequest
	switch {
	case s.cfg.HTTPRoute != nil:
		req = s.cfg.HTTPRoute(t, first.req, first.resp)
	default:
		r, ok := routeOf(first.resp.NextAction.URL, first.req.ProviderBaseURL)
		if !ok {
			t.Fatalf("the provider implements provider.HTTPHandler but its redirect %q is not below ProviderBaseURL %q: set ProviderConformanceConfig.HTTPRoute to a request one of your routes answers", first.resp.NextAction.URL, first.req.ProviderBaseURL)
		}
		req = r
	}
	resp, err := s.p.HandleHTTP(callCtx(t), req)
	if err != nil {
		t.Fatalf("HandleHTTP(%s %s): %v (a route you serve must answer)", req.Method, req.Path, err)
	}
	if resp.Status >= 400 {
		t.Errorf("HandleHTTP(%s %s) = %d: a route you serve must answer 2xx or 3xx", req.Method, req.Path, resp.Status)
	}
	if (resp.Status == 0 || resp.Status == http.StatusOK) && len(resp.Body) == 0 {
		t.Errorf("HandleHTTP(%s %s) answered 200 with an empty body", req.Method, req.Path)
	}
}

func (s *providerSuite) checkCancelled(t *testing.T) {
	d := s.description(t)
	s.configured(t)
	checkCancelledInPlugin(t, "CreatePayment", func(ctx context.Context) error {
		_, err := s.p.CreatePayment(ctx, s.cfg.paymentRequest(d.Methods[0], 2))
		return err
	})
}

func (s *providerSuite) checkConcurrent(t *testing.T) {
	d := s.description(t)
	s.configured(t)
	refs := make([]string, s.cfg.Concurrency)
	errs := make([]error, s.cfg.Concurrency)
	var wg sync.WaitGroup
	for i := range s.cfg.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := s.p.CreatePayment(callCtx(t), s.cfg.paymentRequest(d.Methods[i%len(d.Methods)], 100+i))
			refs[i], errs[i] = resp.ProviderRef, err
		}()
	}
	wg.Wait()
	seen := map[string]bool{}
	for i, err := range errs {
		if err != nil {
			t.Errorf("concurrent CreatePayment %d: %v (the host calls you from many goroutines at once)", i, err)
			continue
		}
		if seen[refs[i]] {
			t.Errorf("concurrent CreatePayment: ProviderRef %q returned twice for different idempotency keys", refs[i])
		}
		seen[refs[i]] = true
	}
}

// createdPayment is a payment the suite created, kept for later checks.
type createdPayment struct {
	req  provider.CreatePaymentRequest
	resp provider.CreatePaymentResponse
}

func checkMethods(t *testing.T, methods []provider.Method) {
	t.Helper()
	if len(methods) == 0 {
		t.Error("Describe: no payment methods")
	}
	seen := map[string]bool{}
	for _, m := range methods {
		if !machineName.MatchString(m.Method) {
			t.Errorf("method %q: name must match %s", m.Method, machineName)
		}
		if seen[m.Method] {
			t.Errorf("method %q listed twice", m.Method)
		}
		seen[m.Method] = true
		if m.Label == "" {
			t.Errorf("method %q: empty Label", m.Method)
		}
		for _, c := range m.Currencies {
			if !validCurrency(c) {
				t.Errorf("method %q: %q is not an upper-case ISO 4217 currency", m.Method, c)
			}
		}
		for _, c := range m.Countries {
			if !countryCode.MatchString(c) {
				t.Errorf("method %q: %q is not an ISO 3166-1 alpha-2 country", m.Method, c)
			}
		}
		for _, l := range m.Limits {
			if l.Currency != "" && !validCurrency(l.Currency) {
				t.Errorf("method %q: limit currency %q is not ISO 4217", m.Method, l.Currency)
			}
			if l.Min < 0 || l.Max < 0 || (l.Max > 0 && l.Min > l.Max) {
				t.Errorf("method %q: limit %+v is not a range", m.Method, l)
			}
		}
	}
}

func checkCreated(t *testing.T, method string, resp provider.CreatePaymentResponse) {
	t.Helper()
	if resp.ProviderRef == "" {
		t.Errorf("CreatePayment(%s): empty ProviderRef", method)
	}
	if !resp.Status.Valid() {
		t.Errorf("CreatePayment(%s): invalid Status %q", method, resp.Status)
	}
	switch resp.NextAction.Type {
	case provider.NextActionRedirect:
		if !absoluteURL(resp.NextAction.URL) {
			t.Errorf("CreatePayment(%s): redirect URL %q is not an absolute http(s) URL", method, resp.NextAction.URL)
		}
	case provider.NextActionNone:
		if resp.Status == provider.StatusPending {
			t.Errorf("CreatePayment(%s): pending with no next action leaves the shopper stuck", method)
		}
	default:
		t.Errorf("CreatePayment(%s): unknown NextAction.Type %q", method, resp.NextAction.Type)
	}
}

func checkSucceededEvent(t *testing.T, events []provider.Event, req provider.CreatePaymentRequest, resp provider.CreatePaymentResponse) {
	t.Helper()
	for _, e := range events {
		if !e.Type.Valid() {
			t.Errorf("event type %q is not a normalized type", e.Type)
		}
		if e.ProviderEventID == "" {
			t.Errorf("event %s: empty ProviderEventID", e.Type)
		}
		if e.OccurredAt.IsZero() {
			t.Errorf("event %s: zero OccurredAt", e.Type)
		}
		if e.RawType == "" {
			t.Errorf("event %s: empty RawType", e.Type)
		}
	}
	for _, e := range events {
		if e.Type != provider.PaymentSucceeded {
			continue
		}
		if e.ProviderRef != resp.ProviderRef {
			t.Errorf("payment.succeeded: ProviderRef %q, want %q", e.ProviderRef, resp.ProviderRef)
		}
		if e.SessionID != req.SessionID {
			t.Errorf("payment.succeeded: SessionID %q, want %q", e.SessionID, req.SessionID)
		}
		if e.Amount != req.Amount || e.Currency != req.Currency {
			t.Errorf("payment.succeeded: %d %s, want %d %s", e.Amount, e.Currency, req.Amount, req.Currency)
		}
		return
	}
	t.Errorf("signed webhook produced no payment.succeeded event: %+v", events)
}
