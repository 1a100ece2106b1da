package stripeprovider

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	stripe "github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"

	"github.com/switchyard/switchyard/sdk"
	"github.com/switchyard/switchyard/sdk/meta"
	"github.com/switchyard/switchyard/sdk/provider"
)

// Version is the plugin's version, reported by Describe.
const Version = "1.0.0"

// Provider is the Stripe provider. Build it with New; it is unusable until
// Configure succeeds and safe for concurrent use afterwards.
type Provider struct {
	log        hclog.Logger
	now        func() time.Time
	httpClient *http.Client

	mu   sync.RWMutex
	inst *instance
}

var (
	_ provider.Provider           = (*Provider)(nil)
	_ provider.HTTPHandler        = (*Provider)(nil)
	_ provider.PartialRefunder    = (*Provider)(nil)
	_ provider.SubscriptionSource = (*Provider)(nil)
)

// PartialRefunds declares provider.PartialRefunder: Stripe refunds any part
// of a charge, several times.
func (*Provider) PartialRefunds() {}

// SubscriptionEvents declares provider.SubscriptionSource: Stripe Billing
// reports invoices and subscriptions through webhooks.
func (*Provider) SubscriptionEvents() {}

// instance is everything built from one set of settings; Configure swaps it
// atomically so in-flight calls finish on the old one.
type instance struct {
	settings
	api *client.API
}

// Option adjusts a Provider.
type Option func(*Provider)

// WithLogger sets the logger (hclog JSON on stderr under sdk.Serve).
func WithLogger(l hclog.Logger) Option { return func(p *Provider) { p.log = l } }

// WithClock replaces time.Now, for signature-tolerance and state-expiry tests.
func WithClock(now func() time.Time) Option { return func(p *Provider) { p.now = now } }

// WithHTTPClient replaces the HTTP client used for Stripe calls.
func WithHTTPClient(c *http.Client) Option { return func(p *Provider) { p.httpClient = c } }

// New returns an unconfigured provider.
func New(opts ...Option) *Provider {
	p := &Provider{
		log:        hclog.NewNullLogger(),
		now:        time.Now,
		httpClient: &http.Client{Timeout: 30 * time.Second},
	}
	for _, o := range opts {
		o(p)
	}
	return p
}

// Describe implements provider.Provider. The currency lists are Stripe's
// presentment currencies for each default payment method type; an operator
// who maps a method to narrower types (method_bank_transfer=us_bank_account)
// gets Stripe's own rejection for the rest at CreatePayment.
func (p *Provider) Describe(context.Context) (provider.Description, error) {
	return provider.Description{
		Info: meta.Info{
			Name:    "stripe",
			Version: Version,
		},
		// Stripe Checkout's hosted page; a custom checkout domain is the
		// operator's to add (plugins.instances[].page_origins).
		PageOrigins: []string{"https://checkout.stripe.com"},
		Methods: []provider.Method{
			{Method: MethodCard, Label: "Card", Currencies: cardCurrencies(), Limits: minimumCharges()},
			{Method: MethodWallet, Label: "Wallet (Link, Apple Pay, Google Pay)", Currencies: cardCurrencies(), Limits: minimumCharges()},
			{Method: MethodBankTransfer, Label: "Bank transfer", Currencies: []string{"USD", "EUR", "GBP", "JPY", "MXN"}, Limits: minimumCharges()},
		},
	}, nil
}

// Configure implements provider.Provider.
func (p *Provider) Configure(_ context.Context, in map[string]string) error {
	s, err := parseSettings(in)
	if err != nil {
		return err
	}
	inst := &instance{settings: s, api: p.newAPI(s)}
	p.mu.Lock()
	p.inst = inst
	p.mu.Unlock()
	return nil
}

// newAPI builds a stripe-go client bound to this instance's key and base
// URLs. Retries are left to stripe-go: every mutating call carries an
// idempotency key, so a retried POST cannot create a second object.
func (p *Provider) newAPI(s settings) *client.API {
	logger := &stripe.LeveledLogger{Level: stripe.LevelNull}
	retries := int64(2)
	cfg := func(base string) *stripe.BackendConfig {
		return &stripe.BackendConfig{
			HTTPClient:        p.httpClient,
			LeveledLogger:     logger,
			MaxNetworkRetries: &retries,
			EnableTelemetry:   stripe.Bool(false),
			URL:               stripe.String(base),
		}
	}
	return client.New(s.secretKey, &stripe.Backends{
		API:     stripe.GetBackendWithConfig(stripe.APIBackend, cfg(s.apiBase)),
		Connect: stripe.GetBackendWithConfig(stripe.ConnectBackend, cfg(s.connectBase)),
		Uploads: stripe.GetBackendWithConfig(stripe.UploadsBackend, cfg(s.apiBase)),
	})
}

func (p *Provider) instance() (*instance, error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.inst == nil {
		return nil, sdk.Unavailable("stripe provider is not configured")
	}
	return p.inst, nil
}

// CheckHealth implements provider.Provider. It does not call Stripe: the
// host polls it, and a failing Stripe shows up as Unavailable errors that
// the router's circuit breaker already counts.
func (p *Provider) CheckHealth(context.Context) (meta.Health, error) {
	inst, err := p.instance()
	if err != nil {
		return meta.Health{Status: meta.HealthDown, Message: "not configured"}, nil
	}
	return meta.Health{Status: meta.HealthOK, Message: "configured (" + inst.mode + " mode)"}, nil
}
