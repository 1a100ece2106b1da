package payproprovider

import (
	"context"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/switchyard/switchyard/plugins/paypro/ipn"
	"github.com/switchyard/switchyard/sdk"
	"github.com/switchyard/switchyard/sdk/meta"
	"github.com/switchyard/switchyard/sdk/provider"
)

// Version is the plugin's version, reported by Describe.
const Version = "1.0.0"

// maxRemembered bounds the payments and refund totals kept in memory; the
// oldest are forgotten first.
const maxRemembered = 50000

// Provider is the PayPro Global provider. Its zero value is not usable;
// call New. It is safe for concurrent use.
//
// PayPro has no payment object before the shopper completes the checkout,
// so the provider remembers the payments it created (for GetPayment) and
// the refund totals it has seen (to tell one partial refund from the next)
// in memory only. Both are conveniences: sessions are settled by IPNs, and
// the host de-duplicates them.
type Provider struct {
	now        func() time.Time
	httpClient *http.Client

	mu       sync.RWMutex
	settings *settings
	payments map[string]*payment
	order    []string          // refs in creation order, for eviction
	refunded map[int64][]int64 // order id → cumulative refund totals seen
	// refunds remembers the results of refund calls by idempotency key
	// (PayPro's API has none), oldest evicted first.
	refunds     map[string]provider.RefundResult
	refundOrder []string
}

var (
	_ provider.Provider           = (*Provider)(nil)
	_ provider.PartialRefunder    = (*Provider)(nil)
	_ provider.SubscriptionSource = (*Provider)(nil)
)

// PartialRefunds declares provider.PartialRefunder: Orders/DoPartialRefund
// refunds part of an order item.
func (*Provider) PartialRefunds() {}

// SubscriptionEvents declares provider.SubscriptionSource: PayPro's IPNs
// report subscription charges, suspensions and cancellations.
func (*Provider) SubscriptionEvents() {}

type payment struct {
	req      provider.CreatePaymentRequest
	resp     provider.CreatePaymentResponse
	status   provider.PaymentStatus
	refunded int64
	// paid and paidCurrency are what a verified IPN confirmed was charged
	// (confirmedAmount); 0 until one did. GetPayment reports these, never
	// the amount the checkout link asked for.
	paid         int64
	paidCurrency string
}

// Option adjusts a Provider; used by tests.
type Option func(*Provider)

// WithClock replaces time.Now.
func WithClock(now func() time.Time) Option { return func(p *Provider) { p.now = now } }

// WithHTTPClient replaces the client for PayPro's API.
func WithHTTPClient(c *http.Client) Option { return func(p *Provider) { p.httpClient = c } }

// New returns an unconfigured provider.
func New(opts ...Option) *Provider {
	p := &Provider{
		now: time.Now, httpClient: &http.Client{Timeout: 30 * time.Second},
		payments: map[string]*payment{}, refunded: map[int64][]int64{}, refunds: map[string]provider.RefundResult{},
	}
	for _, o := range opts {
		o(p)
	}
	return p
}

// Describe implements provider.Provider.
func (p *Provider) Describe(context.Context) (provider.Description, error) {
	methods := make([]provider.Method, 0, len(methodLabels))
	for _, l := range methodLabels {
		methods = append(methods, provider.Method{Method: l.method, Label: l.label})
	}
	return provider.Description{
		Info: meta.Info{
			Name:    "paypro",
			Version: Version,
		},
		// The default checkout_base's origin: Describe cannot depend on
		// settings, so a moved checkout_base is the operator's to add.
		PageOrigins: []string{pageOrigin(DefaultCheckoutBase)},
		Methods:     methods,
	}, nil
}

// Configure implements provider.Provider.
func (p *Provider) Configure(ctx context.Context, in map[string]string) error {
	if err := ctx.Err(); err != nil {
		return sdk.Unavailable("configure: %w", err)
	}
	s, err := parseSettings(in)
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.settings = &s
	p.mu.Unlock()
	return nil
}

func (p *Provider) config() (*settings, error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.settings == nil {
		return nil, sdk.Unavailable("paypro is not configured")
	}
	return p.settings, nil
}

// CheckHealth implements provider.Provider. PayPro offers no endpoint to
// probe with these credentials, so health means "configured".
func (p *Provider) CheckHealth(context.Context) (meta.Health, error) {
	s, err := p.config()
	if err != nil {
		return meta.Health{Status: meta.HealthDown, Message: "not configured"}, nil
	}
	msg := "paypro ready (live)"
	if s.testMode {
		msg = "paypro ready (test mode)"
	}
	return meta.Health{Status: meta.HealthOK, Message: msg}, nil
}

// CreatePayment implements provider.Provider: it returns the PayPro
// checkout URL as a redirect. The ProviderRef is the attempt id, because
// PayPro assigns no id before the order exists.
func (p *Provider) CreatePayment(ctx context.Context, req provider.CreatePaymentRequest) (provider.CreatePaymentResponse, error) {
	if err := ctx.Err(); err != nil {
		return provider.CreatePaymentResponse{}, sdk.Unavailable("create payment: %w", err)
	}
	s, err := p.config()
	if err != nil {
		return provider.CreatePaymentResponse{}, err
	}
	product, err := validate(s, req)
	if err != nil {
		return provider.CreatePaymentResponse{}, err
	}
	ref := paymentRef(req)
	p.mu.RLock()
	prev, ok := p.payments[ref]
	p.mu.RUnlock()
	if ok {
		return prev.resp, nil
	}
	u, err := checkoutURL(*s, req, product, checkoutRef{session: req.SessionID, ref: ref, amount: req.Amount, currency: req.Currency})
	if err != nil {
		return provider.CreatePaymentResponse{}, sdk.Invalid("%w", err).WithField("currency")
	}
	resp := provider.CreatePaymentResponse{
		ProviderRef: ref, Status: provider.StatusPending,
		NextAction: provider.NextAction{Type: provider.NextActionRedirect, URL: u},
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if prev, ok := p.payments[ref]; ok {
		return prev.resp, nil
	}
	p.payments[ref] = &payment{req: req, resp: resp, status: provider.StatusPending}
	p.order = append(p.order, ref)
	for len(p.order) > maxRemembered {
		delete(p.payments, p.order[0])
		p.order = p.order[1:]
	}
	return resp, nil
}

// paymentRef is the attempt id, or the idempotency key when the host sent
// no attempt id; both are stable across retries of one attempt.
func paymentRef(req provider.CreatePaymentRequest) string {
	if req.AttemptID != "" {
		return req.AttemptID
	}
	return req.IdempotencyKey
}

func validate(s *settings, req provider.CreatePaymentRequest) (string, error) {
	if req.Amount <= 0 {
		return "", sdk.Invalid("amount must be positive, got %d", req.Amount).WithField("amount").WithCode("invalid_amount")
	}
	if _, err := ipn.Scale(req.Currency); err != nil {
		return "", sdk.Invalid("currency %q is not an upper-case ISO 4217 code", req.Currency).WithField("currency").WithCode("invalid_currency")
	}
	if !knownMethod(req.Method) {
		return "", sdk.Invalid("method %q is not offered by paypro", req.Method).WithField("method").WithCode("invalid_method")
	}
	if req.SessionID == "" {
		return "", sdk.Invalid("session id is required").WithField("session_id")
	}
	if paymentRef(req) == "" {
		return "", sdk.Invalid("attempt id or idempotency key is required").WithField("attempt_id")
	}
	product := s.products[req.Method]
	if product == "" {
		product = s.defaultProduct
	}
	if product == "" {
		return "", sdk.Invalid("no PayPro product is configured for method %q: set %s%s or %s",
			req.Method, settingProductPrefix, req.Method, SettingDefaultProduct).WithField("method").WithCode("method_not_configured")
	}
	return product, nil
}

// GetPayment implements provider.Provider from what this process has
// created and seen in verified IPNs; after a restart it knows nothing
// (PayPro's order API is not used), which is reported as not found. A
// payment not yet succeeded reports the amount its checkout link asks for;
// a succeeded one the amount a verified IPN confirmed was charged, or 0
// (not stated) when none did: the price asked is not a confirmation.
func (p *Provider) GetPayment(ctx context.Context, req provider.GetPaymentRequest) (provider.Payment, error) {
	if err := ctx.Err(); err != nil {
		return provider.Payment{}, sdk.Unavailable("get payment: %w", err)
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	pay, ok := p.payments[req.ProviderRef]
	if !ok {
		return provider.Payment{}, sdk.NotFound("paypro payment %q is not known to this plugin process", req.ProviderRef)
	}
	out := provider.Payment{ProviderRef: req.ProviderRef, Status: pay.status, AmountRefunded: pay.refunded,
		Amount: pay.req.Amount, Currency: pay.req.Currency}
	if pay.status == provider.StatusSucceeded {
		out.Amount, out.Currency = pay.paid, pay.paidCurrency
	}
	return out, nil
}

// observe updates the remembered payment after a verified, linked event.
func (p *Provider) observe(ref string, ev provider.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	pay, ok := p.payments[ref]
	if !ok {
		return
	}
	switch ev.Type {
	case provider.PaymentSucceeded:
		pay.status = provider.StatusSucceeded
		if ev.Amount > 0 && ev.Currency != "" {
			pay.paid, pay.paidCurrency = ev.Amount, ev.Currency
		}
	case provider.PaymentDisputed, provider.PaymentDisputeWon:
		pay.status = provider.StatusSucceeded
	case provider.PaymentProcessing:
		if pay.status == provider.StatusPending {
			pay.status = provider.StatusProcessing
		}
	case provider.PaymentFailed:
		if pay.status != provider.StatusSucceeded {
			pay.status = provider.StatusFailed
		}
	case provider.PaymentRefunded:
		pay.status, pay.refunded = provider.StatusSucceeded, pay.req.Amount
	case provider.PaymentPartiallyRefunded:
		pay.status = provider.StatusSucceeded
		pay.refunded = min(pay.req.Amount, pay.refunded+ev.Amount)
	}
}

// refundDelta returns the part of an order's cumulative refunded total
// (PayPro's ORDER_REFUNDED) that the previous, smaller total seen for the
// order does not cover. It depends only on the set of totals seen, so a
// redelivered IPN yields the same amount as the first delivery.
func (p *Provider) refundDelta(order, total int64) int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	seen, known := p.refunded[order]
	if !known && len(p.refunded) >= maxRemembered {
		for k := range p.refunded { // forget an arbitrary order
			delete(p.refunded, k)
			break
		}
	}
	var prev int64
	found := false
	for _, t := range seen {
		if t < total && t > prev {
			prev = t
		}
		found = found || t == total
	}
	if !found {
		p.refunded[order] = append(seen, total)
	}
	return total - prev
}

// pageOrigin is scheme://host of an absolute URL constant.
func pageOrigin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		panic(err)
	}
	return u.Scheme + "://" + u.Host
}
