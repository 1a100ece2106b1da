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
	SettingLedgerPath    = "ledger_path"
)

// Magic refund amounts, for testing a host's refund handling: a refund
// whose amount in minor units ends in these three digits (6.66, 1,666 …)
// fails.
const (
	// DeclineRefundSuffix: declined on its merits, every time
	// (sdk.Declined, code refund_declined).
	DeclineRefundSuffix = 666
	// UnavailableRefundSuffix: the first call for an idempotency key fails
	// as if the upstream were down (sdk.Unavailable); a retry with the same
	// key succeeds.
	UnavailableRefundSuffix = 777
)

const (
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
	// refundsByIdem a refund idempotency key to its result; outages holds
	// the refund keys that already had their simulated outage.
	payments      map[string]*payment
	byIdem        map[string]string
	refundsByIdem map[string]refundEntry
	outages       map[string]bool
	// ledger, when ledger_path is set, makes the state above durable and
	// shared between sandbox processes.
	ledger *ledger
}

type refundEntry struct {
	ref string
	res provider.RefundResult
}

var (
	_ provider.Provider        = (*Provider)(nil)
	_ provider.HTTPHandler     = (*Provider)(nil)
	_ provider.PartialRefunder = (*Provider)(nil)
)

// PartialRefunds declares provider.PartialRefunder: the sandbox refunds any
// part of what is left.
func (*Provider) PartialRefunds() {}

type settings struct {
	configured  bool
	secret      []byte
	label       string
	callbackTTL time.Duration
	ledgerPath  string
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
		refundsByIdem: map[string]refundEntry{},
		outages:       map[string]bool{},
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
		},
		Methods: []provider.Method{
			{Method: "card", Label: "Card (sandbox)"},
			{Method: "bank_transfer", Label: "Bank transfer (sandbox)"},
			{Method: "wallet", Label: "Wallet (sandbox)"},
		},
		// Its "payments" are button presses: a live instance would mark live
		// sessions paid with no money behind them.
		TestOnly: true,
	}, nil
}

// config is the sandbox's settings as operators write them.
type config struct {
	SigningSecret string        `setting:"signing_secret,required,secret"`
	Label         string        `setting:"label" default:"Switchyard Sandbox"`
	CallbackTTL   time.Duration `setting:"callback_ttl" default:"1h"`
	LedgerPath    string        `setting:"ledger_path"`
}

// Configure implements provider.Provider.
func (p *Provider) Configure(_ context.Context, in map[string]string) error {
	var c config
	if err := sdk.DecodeSettings(in, &c); err != nil {
		return err
	}
	if len(c.SigningSecret) < minSecretLen {
		return sdk.InvalidSetting(SettingSigningSecret, "must be at least %d characters", minSecretLen)
	}
	if c.CallbackTTL <= 0 {
		return sdk.InvalidSetting(SettingCallbackTTL, "must be a positive duration such as 30m")
	}
	s := settings{configured: true, secret: []byte(c.SigningSecret), label: c.Label, callbackTTL: c.CallbackTTL, ledgerPath: c.LedgerPath}
	p.mu.Lock()
	defer p.mu.Unlock()
	if s.ledgerPath != p.settings.ledgerPath || (s.ledgerPath != "" && p.ledger == nil) {
		if err := p.switchLedger(s.ledgerPath); err != nil {
			return err
		}
	}
	p.settings = s
	return nil
}

// switchLedger opens the ledger at path (none for "") and loads what it
// holds. Called with p.mu held.
func (p *Provider) switchLedger(path string) error {
	if p.ledger != nil {
		_ = p.ledger.close()
		p.ledger = nil
	}
	if path == "" {
		return nil
	}
	l, err := openLedger(path)
	if err != nil {
		return sdk.Invalid("setting %s: cannot open the ledger file: %v", SettingLedgerPath, err).WithField(SettingLedgerPath)
	}
	if err := l.update(p.applyRecord, func() ([]LedgerRecord, error) { return nil, nil }); err != nil {
		_ = l.close()
		return sdk.Invalid("setting %s: %v", SettingLedgerPath, err).WithField(SettingLedgerPath)
	}
	p.ledger = l
	return nil
}

// mutate runs fn on the current state with p.mu held and, when there is a
// ledger, with its lock held and the records other processes appended
// applied first. The records fn returns are made durable (ledger) and
// applied to memory, even when fn also returns an error.
func (p *Provider) mutate(fn func() ([]LedgerRecord, error)) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ledger != nil {
		return p.ledger.update(p.applyRecord, fn)
	}
	recs, err := fn()
	for _, r := range recs {
		p.applyRecord(r)
	}
	return err
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

	var pay payment
	err = p.mutate(func() ([]LedgerRecord, error) {
		if req.IdempotencyKey != "" {
			if prev, ok := p.byIdem[req.IdempotencyKey]; ok {
				pay = *p.payments[prev]
				if pay.req.SessionID != req.SessionID || pay.req.Amount != req.Amount ||
					pay.req.Currency != req.Currency || pay.req.Method != req.Method {
					return nil, sdk.Invalid("idempotency key %q was used for a different payment", req.IdempotencyKey).
						WithCode("idempotency_mismatch")
				}
				return nil, nil
			}
		}
		pay = payment{req: req, ref: ref, status: provider.StatusPending}
		return []LedgerRecord{{
			Op: OpPayment, Ref: ref, SessionID: req.SessionID, Amount: req.Amount, Currency: req.Currency,
			Method: req.Method, Key: req.IdempotencyKey, At: p.now().UTC(),
		}}, nil
	})
	if err != nil {
		return provider.CreatePaymentResponse{}, ledgerError(err)
	}
	// The pay link is built from the request, which the ledger does not
	// keep whole (URLs): a replay answers from this request, equal on every
	// field the link signs that the check above compared, and the URLs of
	// one attempt do not change between retries.
	pay.req = req
	return p.created(cfg, &pay), nil
}

// ledgerError keeps categorized errors and reports a ledger failure as
// the sandbox being unavailable (the call may be retried).
func ledgerError(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := sdk.AsError(err); ok {
		return err
	}
	return sdk.Unavailable("sandbox ledger: %v", err)
}

// created builds the CreatePayment answer: a redirect to the signed pay page.
func (p *Provider) created(cfg settings, pay *payment) provider.CreatePaymentResponse {
	link := payLink{
		Ref: pay.ref, SessionID: pay.req.SessionID, Amount: pay.req.Amount, Currency: pay.req.Currency,
		Method: pay.req.Method, ReturnURL: pay.req.ReturnURL, WebhookURL: pay.req.WebhookURL, Merchant: pay.req.MerchantName,
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
	var out provider.Payment
	err := p.mutate(func() ([]LedgerRecord, error) {
		pay, ok := p.payments[req.ProviderRef]
		if !ok {
			return nil, sdk.NotFound("no sandbox payment %q", req.ProviderRef)
		}
		out = provider.Payment{
			ProviderRef: pay.ref, Status: pay.status, Amount: pay.req.Amount,
			Currency: pay.req.Currency, AmountRefunded: pay.refunded,
		}
		return nil, nil
	})
	return out, ledgerError(err)
}

// Refund implements provider.Refunder. Refunds complete at once, except
// for the magic amounts (DeclineRefundSuffix, UnavailableRefundSuffix).
// Every refund executed is one OpRefund ledger record; a replay of a key
// answers the first result without moving money again.
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
	var res provider.RefundResult
	err = p.mutate(func() ([]LedgerRecord, error) {
		if req.IdempotencyKey != "" {
			if prev, ok := p.refundsByIdem[req.IdempotencyKey]; ok {
				if prev.ref != req.ProviderRef || (req.Amount != 0 && req.Amount != prev.res.Amount) {
					return nil, sdk.Invalid("idempotency key %q was used for a different refund", req.IdempotencyKey).
						WithCode("idempotency_mismatch")
				}
				res = prev.res
				return nil, nil
			}
		}
		pay, ok := p.payments[req.ProviderRef]
		if !ok {
			return nil, sdk.NotFound("no sandbox payment %q", req.ProviderRef)
		}
		if pay.status != provider.StatusSucceeded {
			return nil, sdk.Invalid("payment %s is %s, only succeeded payments can be refunded", pay.ref, pay.status).
				WithCode("payment_not_succeeded")
		}
		if req.Currency != "" && req.Currency != pay.req.Currency {
			return nil, sdk.Invalid("refund currency %s does not match payment currency %s", req.Currency, pay.req.Currency).
				WithField("currency")
		}
		left := pay.req.Amount - pay.refunded
		amount := req.Amount
		if amount == 0 {
			amount = left
		}
		if amount > left || amount == 0 {
			return nil, sdk.Invalid("refund of %d exceeds the %d left on payment %s", amount, left, pay.ref).
				WithField("amount").WithCode("refund_exceeds_payment")
		}
		rec := LedgerRecord{Ref: pay.ref, Amount: amount, Key: req.IdempotencyKey, Reason: req.Reason, At: p.now().UTC()}
		switch amount % 1000 {
		case DeclineRefundSuffix:
			rec.Op = OpRefundDeclined
			return []LedgerRecord{rec}, sdk.Declined("the sandbox declines refunds of amounts ending in %d minor units", DeclineRefundSuffix).
				WithCode("refund_declined")
		case UnavailableRefundSuffix:
			if !p.outages[req.IdempotencyKey] {
				rec.Op = OpRefundUnavailable
				return []LedgerRecord{rec}, sdk.Unavailable("simulated sandbox outage for a refund of an amount ending in %d; retry with the same key", UnavailableRefundSuffix)
			}
		}
		rec.Op, rec.RefundRef = OpRefund, refundRef
		res = provider.RefundResult{RefundRef: refundRef, Status: provider.RefundSucceeded, Amount: amount}
		return []LedgerRecord{rec}, nil
	})
	if err != nil {
		return provider.RefundResult{}, ledgerError(err)
	}
	return res, nil
}

// markPaid records the outcome of a verified callback for GetPayment and
// Refund. A payment unknown to this instance (the plugin restarted without
// a ledger) is not an error: the event still reaches the host.
func (p *Provider) markPaid(ref string, status provider.PaymentStatus) error {
	return p.mutate(func() ([]LedgerRecord, error) {
		if pay, ok := p.payments[ref]; !ok || pay.status == provider.StatusSucceeded || pay.status == status {
			return nil, nil
		}
		return []LedgerRecord{{Op: OpStatus, Ref: ref, Status: string(status), At: p.now().UTC()}}, nil
	})
}
