package sdktest

import (
	"context"
	"fmt"
	"net/http"
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
	// SignedWebhook, when set, builds a validly signed webhook that reports
	// the given payment as succeeded. The suite feeds it to HandleWebhook
	// and checks the normalized payment.succeeded event.
	SignedWebhook func(t testing.TB, req provider.CreatePaymentRequest, resp provider.CreatePaymentResponse) provider.WebhookRequest
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

// RunProviderConformance checks that p — normally the host-side client from
// ProviderClient or a launched plugin binary — meets the provider contract.
// It configures p with cfg.Settings and creates payments, so run it against
// a sandbox or test-mode account.
func RunProviderConformance(t *testing.T, p provider.Client, cfg ProviderConformanceConfig) {
	t.Helper()
	cfg.defaults()

	var desc provider.Description
	t.Run("describe", func(t *testing.T) {
		d, err := p.Describe(callCtx(t))
		if err != nil {
			t.Fatalf("Describe: %v", err)
		}
		desc = d
		checkInfo(t, d.Info, meta.KindProvider)
		checkMethods(t, d.Methods)
	})
	if len(desc.Methods) == 0 {
		t.Fatal("provider conformance: Describe failed or lists no methods; nothing else can be checked")
	}

	t.Run("configure", func(t *testing.T) {
		checkConfigure(t, p.Configure, cfg.Settings, cfg.RequiredSettings)
	})
	t.Run("health", func(t *testing.T) { checkHealthy(t, p.CheckHealth) })

	created := make([]createdPayment, len(desc.Methods))
	t.Run("create_payment", func(t *testing.T) {
		for i, m := range desc.Methods {
			req := cfg.paymentRequest(m, 0)
			resp, err := p.CreatePayment(callCtx(t), req)
			if err != nil {
				t.Errorf("CreatePayment(%s): %v", m.Method, err)
				continue
			}
			checkCreated(t, m.Method, resp)
			created[i] = createdPayment{req: req, resp: resp}
		}
	})
	first := created[0]
	if first.resp.ProviderRef == "" {
		t.Fatal("provider conformance: CreatePayment failed; payment checks skipped")
	}

	t.Run("create_payment_idempotent", func(t *testing.T) {
		again, err := p.CreatePayment(callCtx(t), first.req)
		if err != nil {
			t.Fatalf("CreatePayment with a repeated IdempotencyKey: %v", err)
		}
		if again.ProviderRef != first.resp.ProviderRef {
			t.Errorf("CreatePayment with a repeated IdempotencyKey returned %q, first call %q", again.ProviderRef, first.resp.ProviderRef)
		}
	})

	t.Run("create_payment_invalid_input", func(t *testing.T) {
		base := cfg.paymentRequest(desc.Methods[0], 1)
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
				_, err := p.CreatePayment(callCtx(t), req)
				wantCategory(t, "CreatePayment with "+tc.name, err, sdkerr.CategoryInvalidInput)
			})
		}
	})

	t.Run("get_payment", func(t *testing.T) {
		got, err := p.GetPayment(callCtx(t), provider.GetPaymentRequest{ProviderRef: first.resp.ProviderRef, SessionID: first.req.SessionID})
		if err != nil {
			t.Fatalf("GetPayment(%s): %v", first.resp.ProviderRef, err)
		}
		if got.ProviderRef != first.resp.ProviderRef {
			t.Errorf("GetPayment: ProviderRef %q, want %q", got.ProviderRef, first.resp.ProviderRef)
		}
		if got.Amount != first.req.Amount || got.Currency != first.req.Currency {
			t.Errorf("GetPayment: %d %s, want %d %s", got.Amount, got.Currency, first.req.Amount, first.req.Currency)
		}
		if !got.Status.Valid() {
			t.Errorf("GetPayment: invalid Status %q", got.Status)
		}
	})

	t.Run("get_payment_unknown", func(t *testing.T) {
		_, err := p.GetPayment(callCtx(t), provider.GetPaymentRequest{ProviderRef: "conformance_no_such_payment"})
		wantCategory(t, "GetPayment(unknown ref)", err, sdkerr.CategoryNotFound)
	})

	if desc.Has(provider.CapabilityRefunds) {
		t.Run("refund_unknown", func(t *testing.T) {
			_, err := p.Refund(callCtx(t), provider.RefundRequest{
				ProviderRef: "conformance_no_such_payment", Currency: cfg.Currency, IdempotencyKey: "conformance_refund_unknown",
			})
			wantCategory(t, "Refund(unknown ref)", err, sdkerr.CategoryNotFound)
		})
	}

	t.Run("webhook_unsigned_rejected", func(t *testing.T) {
		bodies := map[string][]byte{
			"garbage": []byte("garbage \x00\xff not a webhook"),
			"empty":   nil,
			"json":    []byte(`{"type":"payment.succeeded","id":"evt_forged","amount":1999}`),
		}
		for name, body := range bodies {
			t.Run(name, func(t *testing.T) {
				resp, err := p.HandleWebhook(callCtx(t), provider.WebhookRequest{
					Method: http.MethodPost, Path: "/hooks/conformance/prv_conformance",
					Headers:    http.Header{"Content-Type": {"application/json"}},
					Body:       body,
					RemoteAddr: "203.0.113.7:40000",
				})
				if err != nil {
					wantCategory(t, "HandleWebhook(unsigned)", err, sdkerr.CategoryInvalidInput, sdkerr.CategoryUnauthorized)
					return
				}
				if len(resp.Events) > 0 {
					t.Errorf("HandleWebhook(unsigned) produced %d events: %+v", len(resp.Events), resp.Events)
				}
				if s := resp.Response.Status; s == 0 || (s >= 200 && s < 300) {
					t.Errorf("HandleWebhook(unsigned) answered %d, want a non-2xx status or an error", s)
				}
			})
		}
	})

	if cfg.SignedWebhook != nil {
		t.Run("webhook_signed_normalized", func(t *testing.T) {
			wh := cfg.SignedWebhook(t, first.req, first.resp)
			resp, err := p.HandleWebhook(callCtx(t), wh)
			if err != nil {
				t.Fatalf("HandleWebhook(signed): %v", err)
			}
			if s := resp.Response.Status; s >= 400 {
				t.Errorf("HandleWebhook(signed) answered %d", s)
			}
			checkSucceededEvent(t, resp.Events, first.req, first.resp)
		})
	}

	t.Run("http_routes", func(t *testing.T) {
		resp, err := p.HandleHTTP(callCtx(t), provider.HTTPRequest{
			Method: http.MethodGet, Path: "/conformance/no/such/route", BaseURL: cfg.BaseURL + "/p/prv_conformance",
		})
		if !desc.Has(provider.CapabilityHTTP) {
			wantCategory(t, "HandleHTTP without the http capability", err, sdkerr.CategoryUnimplemented)
			return
		}
		if err != nil {
			wantCategory(t, "HandleHTTP(unknown route)", err, sdkerr.CategoryNotFound)
			return
		}
		if resp.Status != http.StatusNotFound {
			t.Errorf("HandleHTTP(unknown route) = %d, want 404", resp.Status)
		}
	})

	t.Run("cancelled_context", func(t *testing.T) {
		checkCancelled(t, func(ctx context.Context) error {
			_, err := p.CreatePayment(ctx, cfg.paymentRequest(desc.Methods[0], 2))
			return err
		})
	})

	t.Run("concurrent_create_payment", func(t *testing.T) {
		refs := make([]string, cfg.Concurrency)
		errs := make([]error, cfg.Concurrency)
		var wg sync.WaitGroup
		for i := range cfg.Concurrency {
			wg.Add(1)
			go func() {
				defer wg.Done()
				resp, err := p.CreatePayment(callCtx(t), cfg.paymentRequest(desc.Methods[i%len(desc.Methods)], 100+i))
				refs[i], errs[i] = resp.ProviderRef, err
			}()
		}
		wg.Wait()
		seen := map[string]bool{}
		for i, err := range errs {
			if err != nil {
				t.Errorf("concurrent CreatePayment %d: %v", i, err)
				continue
			}
			if seen[refs[i]] {
				t.Errorf("concurrent CreatePayment: ProviderRef %q returned twice for different idempotency keys", refs[i])
			}
			seen[refs[i]] = true
		}
	})
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
