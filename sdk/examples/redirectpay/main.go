// Command redirectpay is the smallest useful provider plugin: it sends the
// shopper to an external hosted payment page and learns the outcome from a
// signed webhook. docs/plugins.md walks through it; sdk/sdktest builds it and
// runs the conformance suite against the binary.
package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/switchyard/switchyard/sdk"
	"github.com/switchyard/switchyard/sdk/meta"
	"github.com/switchyard/switchyard/sdk/provider"
)

type config struct {
	WebhookSecret string  `setting:"webhook_secret,required,secret"`
	PayURL        url.URL `setting:"pay_url" default:"https://pay.redirectpay.example/checkout"`
}

// Gateway keeps its payments in memory; a real one asks its upstream.
type Gateway struct {
	mu       sync.Mutex
	cfg      *config
	payments map[string]provider.Payment // by ProviderRef = idempotency key
}

var _ provider.Provider = (*Gateway)(nil)

var currencies = []string{"EUR", "USD"}

func (g *Gateway) Describe(context.Context) (provider.Description, error) {
	return provider.Description{
		Info:        meta.Info{Name: "redirectpay", Version: "1.0.0"},
		Methods:     []provider.Method{{Method: "card", Label: "Card (RedirectPay)", Currencies: currencies}},
		PageOrigins: []string{"https://pay.redirectpay.example"},
	}, nil
}

func (g *Gateway) Configure(_ context.Context, settings map[string]string) error {
	var c config
	if err := sdk.DecodeSettings(settings, &c); err != nil {
		return err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.cfg = &c
	return nil
}

func (g *Gateway) config() (*config, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.cfg == nil {
		return nil, sdk.Unavailable("not configured")
	}
	return g.cfg, nil
}

func (g *Gateway) CheckHealth(context.Context) (meta.Health, error) {
	if _, err := g.config(); err != nil {
		return meta.Health{Status: meta.HealthDown, Message: "not configured"}, nil
	}
	return meta.Health{Status: meta.HealthOK}, nil
}

func (g *Gateway) CreatePayment(ctx context.Context, r provider.CreatePaymentRequest) (provider.CreatePaymentResponse, error) {
	if err := ctx.Err(); err != nil {
		return provider.CreatePaymentResponse{}, err
	}
	cfg, err := g.config()
	if err != nil {
		return provider.CreatePaymentResponse{}, err
	}
	if r.Amount <= 0 || !slices.Contains(currencies, r.Currency) || r.Method != "card" {
		return provider.CreatePaymentResponse{}, sdk.Invalid("cannot take %d %q by %q", r.Amount, r.Currency, r.Method)
	}
	ref := "rp_" + r.IdempotencyKey // the same key gives the same payment
	g.mu.Lock()
	if _, ok := g.payments[ref]; !ok {
		g.payments[ref] = provider.Payment{ProviderRef: ref, Status: provider.StatusPending, Amount: r.Amount, Currency: r.Currency}
	}
	g.mu.Unlock()
	sdk.Logger(ctx).Debug("redirecting to the pay page", "ref", ref)
	page := cfg.PayURL
	page.RawQuery = url.Values{"ref": {ref}, "session": {r.SessionID}, "amount": {fmt.Sprint(r.Amount)},
		"currency": {r.Currency}, "return_url": {r.ReturnURL}, "notify_url": {r.WebhookURL}}.Encode()
	return provider.CreatePaymentResponse{ProviderRef: ref, Status: provider.StatusPending,
		NextAction: provider.NextAction{Type: provider.NextActionRedirect, URL: page.String()}}, nil
}

func (g *Gateway) GetPayment(_ context.Context, r provider.GetPaymentRequest) (provider.Payment, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if p, ok := g.payments[r.ProviderRef]; ok {
		return p, nil
	}
	return provider.Payment{}, sdk.NotFound("no payment %q", r.ProviderRef)
}

// Notification is what RedirectPay posts, signed with HMAC-SHA256 of the body
// in the RedirectPay-Signature header (hex).
type Notification struct {
	ID, Ref, Session, Status, Currency string
	Amount                             int64
	At                                 time.Time
}

func (g *Gateway) HandleWebhook(_ context.Context, r provider.WebhookRequest) (provider.WebhookResponse, error) {
	cfg, err := g.config()
	if err != nil {
		return provider.WebhookResponse{}, err
	}
	mac := hmac.New(sha256.New, []byte(cfg.WebhookSecret))
	mac.Write(r.Body)
	if got, _ := hex.DecodeString(r.Headers.Get("RedirectPay-Signature")); !hmac.Equal(got, mac.Sum(nil)) {
		return provider.WebhookResponse{}, sdk.Unauthorized("signature does not verify")
	}
	var n Notification
	if err := json.Unmarshal(r.Body, &n); err != nil {
		return provider.WebhookResponse{}, sdk.Invalid("notification: %v", err)
	}
	types := map[string]provider.EventType{"paid": provider.PaymentSucceeded, "failed": provider.PaymentFailed}
	typ, ok := types[n.Status]
	if !ok { // acknowledged, nothing to apply
		return provider.WebhookResponse{Response: provider.HTTPResponse{Status: http.StatusNoContent}}, nil
	}
	return provider.WebhookResponse{Events: []provider.Event{{
		Type: typ, ProviderEventID: n.ID, ProviderRef: n.Ref, SessionID: n.Session,
		Amount: n.Amount, Currency: n.Currency, OccurredAt: n.At, RawType: n.Status,
	}}}, nil
}

func main() {
	if err := sdk.Serve(sdk.ServeOpts{Provider: &Gateway{payments: map[string]provider.Payment{}}}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
