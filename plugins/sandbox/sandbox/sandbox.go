package sandbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/bojanz/currency"

	"github.com/switchyard/switchyard/sdk"
	"github.com/switchyard/switchyard/sdk/meta"
	"github.com/switchyard/switchyard/sdk/provider"
)

// Version is the sandbox plugin's version, reported by Describe.
const Version = "1.0.0"

// Setting keys.
const (
	SettingSigningSecret = "signing_secret"
	SettingLabel         = "label"
	SettingCallbackTTL   = "callback_ttl"
)

const (
	defaultLabel       = "Switchyard Sandbox"
	defaultCallbackTTL = time.Hour
	// clockSkew tolerates a pay page timestamp slightly in the future.
	clockSkew = 5 * time.Minute
	// minSecretLen keeps operators from configuring a guessable secret.
	minSecretLen = 16
)

// Provider is the sandbox payment provider. Its zero value is not usable;
// call New. It is safe for concurrent use.
type Provider struct {
	now func() time.Time

	mu       sync.RWMutex
	settings settings
	// payments by ProviderRef; byIdem maps an idempotency key to a ref and
	// refundsByIdem a refund idempotency key to its result.
	payments      map[string]*payment
	byIdem        map[string]string
	refundsByIdem map[string]provider.RefundResult
}

var _ provider.Provider = (*Provider)(nil)

type settings struct {
	configured  bool
	secret      []byte
	label       string
	callbackTTL time.Duration
}

type payment struct {
	req      provider.CreatePaymentRequest
	ref      string
	status   provider.PaymentStatus
	refunded int64
}

// Option adjusts a Provider; used by tests.
type Option func(*Provider)

// WithClock replaces time.Now, so tests can age a pay page.
func WithClock(now func() time.Time) Option { return func(p *Provider) { p.now = now } }

// New returns an unconfigured sandbox provider.
func New(opts ...Option) *Provider {
	p := &Provider{
		now:           time.Now,
		payments:      map[string]*payment{},
		byIdem:        map[string]string{},
		refundsByIdem: map[string]provider.RefundResult{},
	}
	for _, o := range opts {
		o(p)
	}
	return p
}

// Describe implements provider.Provider.
func (p *Provider) Describe(context.Context) (provider.Description, error) {
	return provider.Description{
		Info: meta.Info{
			Name:    "sandbox",
			Version: Version,
			Kind:    meta.KindProvider,
			Capabilities: []string{
				provider.CapabilityHTTP, provider.CapabilityRefunds, provider.CapabilityPartialRefunds,
			},
		},
		Methods: []provider.Method{
			{Method: "card", Label: "Card (sandbox)"},
			{Method: "bank_transfer", Label: "Bank transfer (sandbox)"},
			{Method: "wallet", Label: "Wallet (sandbox)"},
		},
	}, nil
}

// Configure implements provider.Provider.
func (p *Provider) Configure(_ context.Context, in map[string]string) error {
	s := settings{configured: true, label: defaultLabel, callbackTTL: defaultCallbackTTL}
	secret := in[SettingSigningSecret]
	if secret == "" {
		return sdk.Invalid("setting %s is required", SettingSigningSecret).WithField(SettingSigningSecret)
	}
	if len(secret) < minSecretLen {
		return sdk.Invalid("setting %s must be at least %d characters", SettingSigningSecret, minSecretLen).
			WithField(SettingSigningSecret)
	}
	s.secret = []byte(secret)
	if l := strings.TrimSpace(in[SettingLabel]); l != "" {
		s.label = l
	}
	if raw := in[SettingCallbackTTL]; raw != "" {
		d, err := time.ParseDuration(raw)
		if err != nil || d <= 0 {
			return sdk.Invalid("setting %s must be a positive duration such as 30m, got %q", SettingCallbackTTL, raw).
				WithField(SettingCallbackTTL)
		}
		s.callbackTTL = d
	}
	for k := range in {
		switch k {
		case SettingSigningSecret, SettingLabel, SettingCallbackTTL:
		default:
			return sdk.Invalid("unknown setting %q", k).WithField(k)
		}
	}
	p.mu.Lock()
	p.settings = s
	p.mu.Unlock()
	return nil
}

func (p *Provider) config() (settings, error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if !p.settings.configured {
		return settings{}, sdk.Unavailable("sandbox is not configured")
	}
	return p.settings, nil
}

// CheckHealth implements provider.Provider.
func (p *Provider) CheckHealth(context.Context) (meta.Health, error) {
	if _, err := p.config(); err != nil {
		return meta.Health{Status: meta.HealthDown, Message: "not configured"}, nil
	}
	return meta.Health{Status: meta.HealthOK, Message: "sandbox ready"}, nil
}

func validCurrency(code string) bool {
	if len(code) != 3 || strings.ToUpper(code) != code {
		return false
	}
	_, ok := currency.GetDigits(code)
	return ok
}

func absoluteURL(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}

func validate(req provider.CreatePaymentRequest) error {
	switch {
	case req.Amount <= 0:
		return sdk.Invalid("amount must be positive, got %d", req.Amount).WithField("amount").WithCode("invalid_amount")
	case !validCurrency(req.Currency):
		return sdk.Invalid("currency %q is not an upper-case ISO 4217 code", req.Currency).
			WithField("currency").WithCode("invalid_currency")
	case !knownMethod(req.Method):
		return sdk.Invalid("method %q is not offered by the sandbox", req.Method).WithField("method").WithCode("invalid_method")
	case req.SessionID == "":
		return sdk.Invalid("session id is required").WithField("session_id")
	case !absoluteURL(req.ProviderBaseURL):
		return sdk.Invalid("provider base url %q is not absolute", req.ProviderBaseURL).WithField("provider_base_url")
	case !absoluteURL(req.WebhookURL):
		return sdk.Invalid("webhook url %q is not absolute", req.WebhookURL).WithField("webhook_url")
	case req.ReturnURL != "" && !absoluteURL(req.ReturnURL):
		return sdk.Invalid("return url %q is not absolute", req.ReturnURL).WithField("return_url")
	}
	return nil
}

func knownMethod(m string) bool {
	switch m {
	case "card", "bank_transfer", "wallet":
		return true
	}
	return false
}

func newRef(prefix string) (string, error) {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		return "", sdk.Internal("read random: %w", err)
	}
	return prefix + hex.EncodeToString(b), nil
}

// CreatePayment implements provider.Provider.
func (p *Provider) CreatePayment(ctx context.Context, req provider.CreatePaymentRequest) (provider.CreatePaymentResponse, error) {
	if err := ctx.Err(); err != nil {
		return provider.CreatePaymentResponse{}, err
	}
	cfg, err := p.config()
	if err != nil {
		return provider.CreatePaymentResponse{}, err
	}
	if err := validate(req); err != nil {
		return provider.CreatePaymentResponse{}, err
	}
	ref, err := newRef("sbx_")
	if err != nil {
		return provider.CreatePaymentResponse{}, err
	}

	p.mu.Lock()
	if req.IdempotencyKey != "" {
		if prev, ok := p.byIdem[req.IdempotencyKey]; ok {
			pay := p.payments[prev]
			p.mu.Unlock()
			if pay.req.SessionID != req.SessionID || pay.req.Amount != req.Amount ||
				pay.req.Currency != req.Currency || pay.req.Method != req.Method {
				return provider.CreatePaymentResponse{}, sdk.Invalid("idempotency key %q was used for a different payment", req.IdempotencyKey).
					WithCode("idempotency_mismatch")
			}
			return p.created(cfg, pay), nil
		}
		p.byIdem[req.IdempotencyKey] = ref
	}
	pay := &payment{req: req, ref: ref, status: provider.StatusPending}
	p.payments[ref] = pay
	p.mu.Unlock()
	return p.created(cfg, pay), nil
}

// created builds the CreatePayment answer: a redirect to the signed pay page.
func (p *Provider) created(cfg settings, pay *payment) provider.CreatePaymentResponse {
	link := payLink{
		Ref: pay.ref, SessionID: pay.req.SessionID, Amount: pay.req.Amount, Currency: pay.req.Currency,
		Method: pay.req.Method, ReturnURL: pay.req.ReturnURL, WebhookURL: pay.req.WebhookURL,
	}
	q := link.values()
	q.Set(fieldSig, sign(cfg.secret, purposePayLink, q))
	return provider.CreatePaymentResponse{
		ProviderRef: pay.ref,
		Status:      provider.StatusPending,
		NextAction: provider.NextAction{
			Type: provider.NextActionRedirect,
			URL:  strings.TrimRight(pay.req.ProviderBaseURL, "/") + "/pay/" + pay.ref + "?" + q.Encode(),
		},
	}
}

// GetPayment implements provider.Provider.
func (p *Provider) GetPayment(ctx context.Context, req provider.GetPaymentRequest) (provider.Payment, error) {
	if err := ctx.Err(); err != nil {
		return provider.Payment{}, err
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	pay, ok := p.payments[req.ProviderRef]
	if !ok {
		return provider.Payment{}, sdk.NotFound("no sandbox payment %q", req.ProviderRef)
	}
	return provider.Payment{
		ProviderRef: pay.ref, Status: pay.status, Amount: pay.req.Amount,
		Currency: pay.req.Currency, AmountRefunded: pay.refunded,
	}, nil
}

// Refund implements provider.Provider. Refunds complete at once.
func (p *Provider) Refund(ctx context.Context, req provider.RefundRequest) (provider.RefundResult, error) {
	if err := ctx.Err(); err != nil {
		return provider.RefundResult{}, err
	}
	if req.Amount < 0 {
		return provider.RefundResult{}, sdk.Invalid("refund amount must not be negative").WithField("amount")
	}
	refundRef, err := newRef("sbxre_")
	if err != nil {
		return provider.RefundResult{}, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if req.IdempotencyKey != "" {
		if prev, ok := p.refundsByIdem[req.IdempotencyKey]; ok {
			return prev, nil
		}
	}
	pay, ok := p.payments[req.ProviderRef]
	if !ok {
		return provider.RefundResult{}, sdk.NotFound("no sandbox payment %q", req.ProviderRef)
	}
	if pay.status != provider.StatusSucceeded {
		return provider.RefundResult{}, sdk.Invalid("payment %s is %s, only succeeded payments can be refunded", pay.ref, pay.status).
			WithCode("payment_not_succeeded")
	}
	if req.Currency != "" && req.Currency != pay.req.Currency {
		return provider.RefundResult{}, sdk.Invalid("refund currency %s does not match payment currency %s", req.Currency, pay.req.Currency).
			WithField("currency")
	}
	left := pay.req.Amount - pay.refunded
	amount := req.Amount
	if amount == 0 {
		amount = left
	}
	if amount > left || amount == 0 {
		return provider.RefundResult{}, sdk.Invalid("refund of %d exceeds the %d left on payment %s", amount, left, pay.ref).
			WithField("amount").WithCode("refund_exceeds_payment")
	}
	pay.refunded += amount
	res := provider.RefundResult{RefundRef: refundRef, Status: provider.RefundSucceeded, Amount: amount}
	if req.IdempotencyKey != "" {
		p.refundsByIdem[req.IdempotencyKey] = res
	}
	return res, nil
}

// markPaid records the outcome of a verified callback for GetPayment. A
// payment unknown to this instance (the plugin restarted) is not an error:
// the event still reaches the host.
func (p *Provider) markPaid(ref string, status provider.PaymentStatus) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if pay, ok := p.payments[ref]; ok && pay.status != provider.StatusSucceeded {
		pay.status = status
	}
}
