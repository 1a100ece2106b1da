package sdk_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/switchyard/switchyard/sdk"
	"github.com/switchyard/switchyard/sdk/meta"
	"github.com/switchyard/switchyard/sdk/provider"
	"github.com/switchyard/switchyard/sdk/sdktest"
)

// scripted is a provider whose CreatePayment behaviour is chosen by the
// request's Method, so one plugin can exercise every path across the wire.
type scripted struct {
	mu      sync.Mutex
	traceID trace.TraceID
	got     provider.CreatePaymentRequest
}

func (s *scripted) Describe(context.Context) (provider.Description, error) {
	return provider.Description{
		// A hand-written capability list is replaced by what the type has.
		Info:    meta.Info{Name: "scripted", Version: "0.0.1", Capabilities: []string{provider.CapabilityRefunds, "teleport"}},
		Methods: []provider.Method{{Method: "card", Label: "Card", Limits: []provider.AmountLimit{{Currency: "JPY", Min: 50}}}},
	}, nil
}

func (s *scripted) Configure(context.Context, map[string]string) error { return nil }

func (s *scripted) CheckHealth(context.Context) (meta.Health, error) {
	return meta.Health{Status: meta.HealthOK}, nil
}

func (s *scripted) CreatePayment(ctx context.Context, req provider.CreatePaymentRequest) (provider.CreatePaymentResponse, error) {
	s.mu.Lock()
	s.traceID = trace.SpanContextFromContext(ctx).TraceID()
	s.got = req
	s.mu.Unlock()
	switch kind, arg, _ := strings.Cut(req.Method, ":"); kind {
	case "fail":
		return provider.CreatePaymentResponse{}, (&sdk.Error{Category: sdk.Category(arg), Message: "scripted " + arg}).
			WithCode("code_" + arg).WithField("field_" + arg)
	case "plain":
		return provider.CreatePaymentResponse{}, errors.New("plain failure")
	case "panic":
		panic("scripted panic")
	case "block":
		<-ctx.Done()
		return provider.CreatePaymentResponse{}, ctx.Err()
	}
	return provider.CreatePaymentResponse{
		ProviderRef: "ref_1", Status: provider.StatusPending,
		NextAction: provider.NextAction{Type: provider.NextActionRedirect, URL: req.ReturnURL},
	}, nil
}

func (s *scripted) GetPayment(context.Context, provider.GetPaymentRequest) (provider.Payment, error) {
	return provider.Payment{}, sdk.NotFound("none")
}

// HandleWebhook echoes the request back as one event, to check that
// headers, body and times survive the trip unchanged.
func (s *scripted) HandleWebhook(_ context.Context, req provider.WebhookRequest) (provider.WebhookResponse, error) {
	return provider.WebhookResponse{
		Events: []provider.Event{{
			Type: provider.PaymentSucceeded, ProviderEventID: "evt_1", OccurredAt: time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC),
			Data: map[string]string{"remote": req.RemoteAddr, "path": req.Path, "query": req.Query},
		}},
		Response: provider.HTTPResponse{Status: 202, Headers: req.Headers, Body: req.Body},
	}, nil
}

func createWith(p provider.Provider, ctx context.Context, method string) error {
	_, err := p.CreatePayment(ctx, provider.CreatePaymentRequest{Method: method, Amount: 1, Currency: "USD"})
	return err
}

func TestErrorCategoriesCrossTheWire(t *testing.T) {
	p := sdktest.ProviderClient(t, &scripted{})
	for _, c := range []sdk.Category{
		sdk.CategoryInvalidInput, sdk.CategoryDeclined, sdk.CategoryUnauthorized, sdk.CategoryNotFound,
		sdk.CategoryUnavailable, sdk.CategoryRetryable, sdk.CategoryUnimplemented, sdk.CategoryInternal,
	} {
		t.Run(string(c), func(t *testing.T) {
			err := createWith(p, context.Background(), "fail:"+string(c))
			e, ok := sdk.AsError(err)
			if !ok {
				t.Fatalf("host got %T %v, want *sdk.Error", err, err)
			}
			if e.Category != c || e.Code != "code_"+string(c) || e.Field != "field_"+string(c) || e.Message != "scripted "+string(c) {
				t.Errorf("host got %+v", e)
			}
		})
	}
	t.Run("plain error is internal", func(t *testing.T) {
		if got := sdk.CategoryOf(createWith(p, context.Background(), "plain")); got != sdk.CategoryInternal {
			t.Errorf("category %q, want internal", got)
		}
	})
	t.Run("unimplemented HandleHTTP", func(t *testing.T) {
		_, err := p.HandleHTTP(context.Background(), provider.HTTPRequest{Method: "GET", Path: "/"})
		if got := sdk.CategoryOf(err); got != sdk.CategoryUnimplemented {
			t.Errorf("category %q, want unimplemented", got)
		}
	})
}

func TestDeadlineAndPanic(t *testing.T) {
	p := sdktest.ProviderClient(t, &scripted{})

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := createWith(p, ctx, "block")
	if !errors.Is(err, context.DeadlineExceeded) || sdk.CategoryOf(err) != sdk.CategoryUnavailable {
		t.Errorf("blocked call past its deadline: %v (category %q), want deadline exceeded / unavailable", err, sdk.CategoryOf(err))
	}

	err = createWith(p, context.Background(), "panic")
	if sdk.CategoryOf(err) != sdk.CategoryInternal {
		t.Errorf("panicking call: %v, want internal", err)
	}
	// The plugin survives a panic in one call.
	if err := createWith(p, context.Background(), "card"); err != nil {
		t.Errorf("call after a panic: %v", err)
	}
}

func TestRoundTripPreservesFields(t *testing.T) {
	impl := &scripted{}
	p := sdktest.ProviderClient(t, impl)

	d, err := p.Describe(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if d.Kind != meta.KindProvider || d.Methods[0].Limits[0] != (provider.AmountLimit{Currency: "JPY", Min: 50}) {
		t.Errorf("Describe: %+v", d)
	}

	req := provider.CreatePaymentRequest{
		SessionID: "cs_1", AttemptID: "att_1", IdempotencyKey: "idem", Amount: 4995, Currency: "USD", Method: "card",
		CustomerEmail: "a@b.test", Description: "d", ReturnURL: "https://r.test/", CancelURL: "https://c.test/",
		WebhookURL: "https://w.test/", ProviderBaseURL: "https://p.test/", Metadata: map[string]string{"k": "v"},
		MerchantAccount: "acct_1",
	}
	if _, err := p.CreatePayment(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	impl.mu.Lock()
	got := impl.got
	impl.mu.Unlock()
	if got.SessionID != req.SessionID || got.MerchantAccount != req.MerchantAccount || got.Metadata["k"] != "v" ||
		got.ProviderBaseURL != req.ProviderBaseURL || got.WebhookURL != req.WebhookURL || got.Amount != req.Amount {
		t.Errorf("plugin received %+v, host sent %+v", got, req)
	}

	headers := http.Header{"Stripe-Signature": {"t=1,v1=abc"}, "X-Multi": {"a", "b"}}
	body := []byte{0, 1, 2, 0xff, '\n'}
	resp, err := p.HandleWebhook(context.Background(), provider.WebhookRequest{
		Method: "POST", Path: "/hooks/x/y", Query: "a=1&a=2", Headers: headers, Body: body, RemoteAddr: "192.0.2.1:9",
	})
	if err != nil {
		t.Fatal(err)
	}
	e := resp.Events[0]
	if !bytes.Equal(resp.Response.Body, body) {
		t.Errorf("raw body altered in transit: %q, sent %q", resp.Response.Body, body)
	}
	if e.Data["path"] != "/hooks/x/y" || e.Data["remote"] != "192.0.2.1:9" || e.Data["query"] != "a=1&a=2" {
		t.Errorf("webhook request altered in transit: %+v", e.Data)
	}
	if !e.OccurredAt.Equal(time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)) {
		t.Errorf("OccurredAt %v", e.OccurredAt)
	}
	if resp.Response.Status != 202 || strings.Join(resp.Response.Headers.Values("X-Multi"), ",") != "a,b" ||
		resp.Response.Headers.Get("Stripe-Signature") != "t=1,v1=abc" {
		t.Errorf("response %+v", resp.Response)
	}
}

func TestTraceContextReachesPlugin(t *testing.T) {
	impl := &scripted{}
	p := sdktest.ProviderClient(t, impl)
	want := trace.TraceID{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36}
	ctx := trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: want, SpanID: trace.SpanID{0, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7}, TraceFlags: trace.FlagsSampled,
	}))
	if err := createWith(p, ctx, "card"); err != nil {
		t.Fatal(err)
	}
	impl.mu.Lock()
	defer impl.mu.Unlock()
	if impl.traceID != want {
		t.Errorf("plugin saw trace %s, host sent %s", impl.traceID, want)
	}
}

func TestConcurrentCallsDoNotSerialize(t *testing.T) {
	// Every call blocks until all of them are inside the plugin at once; a
	// global lock anywhere on the path would deadlock until the deadline.
	const n = 32
	impl := &barrier{n: n, all: make(chan struct{})}
	p := sdktest.ProviderClient(t, impl)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- createWith(p, ctx, "card")
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("concurrent call: %v", err)
		}
	}
}

type barrier struct {
	scripted
	n    int
	mu   sync.Mutex
	in   int
	all  chan struct{}
	once sync.Once
}

func (b *barrier) CreatePayment(ctx context.Context, _ provider.CreatePaymentRequest) (provider.CreatePaymentResponse, error) {
	b.mu.Lock()
	b.in++
	if b.in == b.n {
		b.once.Do(func() { close(b.all) })
	}
	b.mu.Unlock()
	select {
	case <-b.all:
		return provider.CreatePaymentResponse{ProviderRef: "r", Status: provider.StatusSucceeded}, nil
	case <-ctx.Done():
		return provider.CreatePaymentResponse{}, ctx.Err()
	}
}

// connecting answers HandleHTTP with an account event, as an onboarding
// callback does.
type connecting struct{ *scripted }

func (connecting) HandleHTTP(_ context.Context, req provider.HTTPRequest) (provider.HTTPResponse, error) {
	return provider.HTTPResponse{
		Status: 200, Headers: http.Header{"Content-Type": {"text/html"}}, Body: []byte("connected"),
		Events: []provider.Event{{
			Type: provider.AccountConnected, ProviderEventID: "connect:42:acct_1", RawType: req.Path,
			OccurredAt: time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC),
			Data:       map[string]string{"merchant_id": "42", "account_id": "acct_1", "livemode": "false"},
		}},
	}, nil
}

func TestHTTPResponseEventsCrossTheWire(t *testing.T) {
	p := sdktest.ProviderClient(t, connecting{&scripted{}})
	resp, err := p.HandleHTTP(context.Background(), provider.HTTPRequest{Method: "GET", Path: "/connect/callback"})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != 200 || string(resp.Body) != "connected" || len(resp.Events) != 1 {
		t.Fatalf("response %+v", resp)
	}
	e := resp.Events[0]
	if e.Type != provider.AccountConnected || e.ProviderEventID != "connect:42:acct_1" || e.RawType != "/connect/callback" ||
		!e.OccurredAt.Equal(time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)) ||
		e.Data["merchant_id"] != "42" || e.Data["account_id"] != "acct_1" || e.Data["livemode"] != "false" {
		t.Errorf("event altered in transit: %+v", e)
	}

	// A response without events stays without: no empty slice invented.
	plain, err := sdktest.ProviderClient(t, &scripted{}).HandleWebhook(context.Background(), provider.WebhookRequest{Method: "POST"})
	if err != nil {
		t.Fatal(err)
	}
	if plain.Response.Events != nil {
		t.Errorf("webhook response grew events: %+v", plain.Response.Events)
	}
}

// connTesting adds the optional connection test to scripted.
type connTesting struct{ scripted }

func (*connTesting) TestConnection(context.Context) (meta.TestResult, error) {
	return meta.TestResult{Message: "reached upstream", Details: map[string]string{"account": "acct_1"}}, nil
}

func TestProviderConnectionTestIsOptional(t *testing.T) {
	ctx := context.Background()
	with := sdktest.ProviderClient(t, &connTesting{}).(provider.ConnectionTester)
	res, err := with.TestConnection(ctx)
	if err != nil || res.Message != "reached upstream" || res.Details["account"] != "acct_1" {
		t.Errorf("TestConnection = %+v, %v", res, err)
	}
	without := sdktest.ProviderClient(t, &scripted{}).(provider.ConnectionTester)
	if _, err := without.TestConnection(ctx); sdk.CategoryOf(err) != sdk.CategoryUnimplemented {
		t.Errorf("TestConnection without the interface: %v, want unimplemented", err)
	}
}

// everything implements every optional provider interface.
type everything struct{ connTesting }

func (*everything) HandleHTTP(context.Context, provider.HTTPRequest) (provider.HTTPResponse, error) {
	return provider.HTTPResponse{Status: http.StatusTeapot}, nil
}

func (*everything) Refund(_ context.Context, r provider.RefundRequest) (provider.RefundResult, error) {
	return provider.RefundResult{RefundRef: "re_" + r.ProviderRef, Status: provider.RefundSucceeded, Amount: r.Amount}, nil
}

func (*everything) PartialRefunds()     {}
func (*everything) SubscriptionEvents() {}

func (*everything) Describe(context.Context) (provider.Description, error) {
	return provider.Description{
		Info:        meta.Info{Name: "everything", Version: "1.0.0"},
		Methods:     []provider.Method{{Method: "card", Label: "Card"}},
		PageOrigins: []string{"https://pay.example.test", "https://alt.example.test:8443"},
		TestOnly:    true,
	}, nil
}

var (
	_ provider.HTTPHandler        = (*everything)(nil)
	_ provider.PartialRefunder    = (*everything)(nil)
	_ provider.SubscriptionSource = (*everything)(nil)
	_ provider.ConnectionTester   = (*everything)(nil)
)

func TestCapabilitiesFollowTheInterfaces(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		impl provider.Provider
		want []string
	}{
		{"none", &scripted{}, nil},
		{"connection test only", &connTesting{}, []string{provider.CapabilityTestConnection}},
		{"everything", &everything{}, []string{
			provider.CapabilityHTTP, provider.CapabilityRefunds, provider.CapabilityPartialRefunds,
			provider.CapabilitySubscriptions, provider.CapabilityTestConnection,
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := provider.Capabilities(tc.impl); !slices.Equal(got, tc.want) {
				t.Errorf("provider.Capabilities = %v, want %v", got, tc.want)
			}
			d, err := sdktest.ProviderClient(t, tc.impl).Describe(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(d.Capabilities, tc.want) {
				t.Errorf("Describe across the wire: capabilities %v, want %v", d.Capabilities, tc.want)
			}
		})
	}
}

func TestOptionalProviderCallsWithoutTheInterface(t *testing.T) {
	ctx := context.Background()
	without := sdktest.ProviderClient(t, &scripted{})
	if _, err := without.Refund(ctx, provider.RefundRequest{ProviderRef: "ref_1"}); sdk.CategoryOf(err) != sdk.CategoryUnimplemented {
		t.Errorf("Refund without Refunder: %v, want unimplemented", err)
	}
	if _, err := without.HandleHTTP(ctx, provider.HTTPRequest{Method: "GET", Path: "/"}); sdk.CategoryOf(err) != sdk.CategoryUnimplemented {
		t.Errorf("HandleHTTP without HTTPHandler: %v, want unimplemented", err)
	}
	with := sdktest.ProviderClient(t, &everything{})
	if r, err := with.Refund(ctx, provider.RefundRequest{ProviderRef: "ref_1", Amount: 5}); err != nil || r.RefundRef != "re_ref_1" || r.Amount != 5 {
		t.Errorf("Refund with Refunder = %+v, %v", r, err)
	}
	if r, err := with.HandleHTTP(ctx, provider.HTTPRequest{Method: "GET", Path: "/"}); err != nil || r.Status != http.StatusTeapot {
		t.Errorf("HandleHTTP with HTTPHandler = %+v, %v", r, err)
	}
	d, err := with.Describe(ctx)
	if err != nil || !slices.Equal(d.PageOrigins, []string{"https://pay.example.test", "https://alt.example.test:8443"}) {
		t.Errorf("PageOrigins across the wire = %v, %v", d.PageOrigins, err)
	}
	if !d.TestOnly {
		t.Error("TestOnly lost across the wire")
	}
}
