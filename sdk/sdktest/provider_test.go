package sdktest_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard/sdk"
	"github.com/switchyard/switchyard/sdk/meta"
	"github.com/switchyard/switchyard/sdk/provider"
	"github.com/switchyard/switchyard/sdk/sdktest"
)

// flaws break one rule each, so the suite's checks can be seen failing.
type flaws struct {
	ignoreCtx, acceptUnknown, trustWebhooks, brokenPage, refundTwice, overRefund bool
}

// pagedProvider signs JSON webhooks with HMAC-SHA256, serves a pay page
// under its ProviderBaseURL and refunds paid payments in parts.
type pagedProvider struct {
	flaws
	mu       sync.Mutex
	key      []byte
	payments map[string]provider.Payment
	refunds  map[string]provider.RefundResult // by idempotency key
}

var (
	_ provider.Provider        = (*pagedProvider)(nil)
	_ provider.HTTPHandler     = (*pagedProvider)(nil)
	_ provider.PartialRefunder = (*pagedProvider)(nil)
)

func (*pagedProvider) PartialRefunds() {}

func (p *pagedProvider) Refund(_ context.Context, r provider.RefundRequest) (provider.RefundResult, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if prev, ok := p.refunds[r.IdempotencyKey]; ok && !p.refundTwice {
		return prev, nil
	}
	pay, ok := p.payments[r.ProviderRef]
	switch {
	case !ok:
		return provider.RefundResult{}, sdk.NotFound("no payment %s", r.ProviderRef)
	case pay.Status != provider.StatusSucceeded:
		return provider.RefundResult{}, sdk.Invalid("payment %s is not paid", r.ProviderRef)
	}
	left := pay.Amount - pay.AmountRefunded
	amount := r.Amount
	if amount == 0 {
		amount = left
	}
	if amount <= 0 || (amount > left && !p.overRefund) {
		return provider.RefundResult{}, sdk.Invalid("refund of %d exceeds the %d left", amount, left).WithField("amount")
	}
	pay.AmountRefunded += amount
	p.payments[r.ProviderRef] = pay
	res := provider.RefundResult{RefundRef: fmt.Sprintf("pgre_%d", len(p.refunds)+1), Status: provider.RefundSucceeded, Amount: amount}
	p.refunds[r.IdempotencyKey] = res
	return res, nil
}

func (p *pagedProvider) Describe(context.Context) (provider.Description, error) {
	return provider.Description{Info: meta.Info{Name: "paged", Version: "1.0.0"},
		Methods: []provider.Method{{Method: "card", Label: "Card", Currencies: []string{"EUR"}}}}, nil
}

func (p *pagedProvider) Configure(_ context.Context, in map[string]string) error {
	var c struct {
		Key string `setting:"key,required,secret"`
	}
	if p.acceptUnknown {
		c.Key = in["key"]
	} else if err := sdk.DecodeSettings(in, &c); err != nil {
		return err
	}
	if c.Key == "" {
		return sdk.InvalidSetting("key", "is required")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.key, p.payments, p.refunds = []byte(c.Key), map[string]provider.Payment{}, map[string]provider.RefundResult{}
	return nil
}

func (p *pagedProvider) CheckHealth(context.Context) (meta.Health, error) {
	return meta.Health{Status: meta.HealthOK}, nil
}

func (p *pagedProvider) CreatePayment(ctx context.Context, r provider.CreatePaymentRequest) (provider.CreatePaymentResponse, error) {
	if err := ctx.Err(); err != nil && !p.ignoreCtx {
		return provider.CreatePaymentResponse{}, err
	}
	if r.Amount <= 0 || r.Currency != "EUR" || r.Method != "card" {
		return provider.CreatePaymentResponse{}, sdk.Invalid("unsupported payment")
	}
	ref := "pg_" + r.IdempotencyKey
	p.mu.Lock()
	p.payments[ref] = provider.Payment{ProviderRef: ref, Status: provider.StatusPending, Amount: r.Amount, Currency: r.Currency}
	p.mu.Unlock()
	return provider.CreatePaymentResponse{ProviderRef: ref, Status: provider.StatusPending,
		NextAction: provider.NextAction{Type: provider.NextActionRedirect, URL: r.ProviderBaseURL + "/pay/" + ref}}, nil
}

func (p *pagedProvider) GetPayment(_ context.Context, r provider.GetPaymentRequest) (provider.Payment, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if pay, ok := p.payments[r.ProviderRef]; ok {
		return pay, nil
	}
	return provider.Payment{}, sdk.NotFound("no payment %s", r.ProviderRef)
}

func (p *pagedProvider) HandleWebhook(_ context.Context, r provider.WebhookRequest) (provider.WebhookResponse, error) {
	p.mu.Lock()
	mac := hmac.New(sha256.New, p.key)
	p.mu.Unlock()
	mac.Write(r.Body)
	if got, _ := hex.DecodeString(r.Headers.Get("Paged-Signature")); !p.trustWebhooks && !hmac.Equal(got, mac.Sum(nil)) {
		return provider.WebhookResponse{}, sdk.Unauthorized("bad signature")
	}
	var e struct {
		Ref, Session, Currency string
		Amount                 int64
	}
	if err := json.Unmarshal(r.Body, &e); err != nil || e.Ref == "" {
		return provider.WebhookResponse{}, sdk.Invalid("not a paged event")
	}
	p.mu.Lock()
	if pay, ok := p.payments[e.Ref]; ok {
		pay.Status = provider.StatusSucceeded
		p.payments[e.Ref] = pay
	}
	p.mu.Unlock()
	return provider.WebhookResponse{Events: []provider.Event{{
		Type: provider.PaymentSucceeded, ProviderEventID: "evt_" + e.Ref, ProviderRef: e.Ref, SessionID: e.Session,
		Amount: e.Amount, Currency: e.Currency, OccurredAt: time.Now(), RawType: "paid",
	}}}, nil
}

func (p *pagedProvider) HandleHTTP(_ context.Context, r provider.HTTPRequest) (provider.HTTPResponse, error) {
	ref, ok := strings.CutPrefix(r.Path, "/pay/")
	if _, err := p.GetPayment(context.Background(), provider.GetPaymentRequest{ProviderRef: ref}); !ok || err != nil {
		return provider.HTTPResponse{Status: http.StatusNotFound, Body: []byte("not found")}, nil
	}
	if p.brokenPage {
		return provider.HTTPResponse{Status: http.StatusInternalServerError, Body: []byte("oops")}, nil
	}
	return provider.HTTPResponse{Body: []byte("<h1>Pay " + ref + "</h1>")}, nil
}

const pagedKey = "paged-test-key"

func pagedSigned(_ testing.TB, req provider.CreatePaymentRequest, resp provider.CreatePaymentResponse) provider.WebhookRequest {
	body := fmt.Sprintf(`{"Ref":%q,"Session":%q,"Currency":%q,"Amount":%d}`, resp.ProviderRef, req.SessionID, req.Currency, req.Amount)
	mac := hmac.New(sha256.New, []byte(pagedKey))
	mac.Write([]byte(body))
	return provider.WebhookRequest{Method: http.MethodPost, Body: []byte(body),
		Headers: http.Header{"Paged-Signature": {hex.EncodeToString(mac.Sum(nil))}}}
}

func pagedConfig() sdktest.ProviderConformanceConfig {
	return sdktest.ProviderConformanceConfig{
		Settings: map[string]string{"key": pagedKey}, RequiredSettings: []string{"key"},
		SignedWebhook: pagedSigned,
		PayUpstream:   sdktest.PayWithWebhook(pagedSigned),
	}
}

func TestProviderConformance(t *testing.T) {
	sdktest.RunProviderConformance(t, sdktest.ProviderClient(t, &pagedProvider{}), pagedConfig())
}

// brokenEnv selects a flawed provider for TestFlawedProviderHelper.
const brokenEnv = "SDKTEST_FLAWED_PROVIDER"

// TestFlawedProviderHelper runs the suite against the flawed provider
// brokenEnv names; TestConformanceCatchesFlaws runs it in a child process
// and reads the verdict.
func TestFlawedProviderHelper(t *testing.T) {
	var f flaws
	switch os.Getenv(brokenEnv) {
	case "":
		t.Skip("run by TestConformanceCatchesFlaws")
	case "ignore_ctx":
		f.ignoreCtx = true
	case "accept_unknown":
		f.acceptUnknown = true
	case "trust_webhooks":
		f.trustWebhooks = true
	case "broken_page":
		f.brokenPage = true
	case "refund_twice":
		f.refundTwice = true
	case "over_refund":
		f.overRefund = true
	}
	sdktest.RunProviderConformance(t, sdktest.ProviderClient(t, &pagedProvider{flaws: f}), pagedConfig())
}

// TestConformanceCatchesFlaws: each flaw fails exactly the check meant to
// catch it, run alone by name, with a message saying what to do.
func TestConformanceCatchesFlaws(t *testing.T) {
	for _, tc := range []struct{ flaw, check, says string }{
		{"ignore_ctx", "cancelled_context", "check ctx.Err() before doing work"},
		{"accept_unknown", "configure_unknown_setting", "must be refused with sdk.Invalid"},
		{"trust_webhooks", "webhook_tampered_rejected", "a request that does not verify must produce none"},
		{"broken_page", "http_route", "a route you serve must answer 2xx or 3xx"},
		{"refund_twice", "refund_idempotent", "the same key must return the same refund and never move money twice"},
		{"over_refund", "refund_over_refund", "must be refused with sdk.Invalid"},
	} {
		t.Run(tc.flaw, func(t *testing.T) {
			run := func(check string) (string, error) {
				cmd := exec.Command(os.Args[0], "-test.run", "^TestFlawedProviderHelper$/^"+check+"$", "-test.v", "-test.count=1")
				cmd.Env = append(os.Environ(), brokenEnv+"="+tc.flaw)
				out, err := cmd.CombinedOutput()
				return string(out), err
			}
			out, err := run(tc.check)
			if err == nil || !strings.Contains(out, "--- FAIL: TestFlawedProviderHelper/"+tc.check) || !strings.Contains(out, tc.says) {
				t.Errorf("check %s against a provider that does %s: err %v, want it to fail saying %q:\n%s", tc.check, tc.flaw, err, tc.says, out)
			}
			if strings.Count(out, "=== RUN   TestFlawedProviderHelper/") < 1 || strings.Contains(out, "TestFlawedProviderHelper/describe") {
				t.Errorf("check %s did not run alone:\n%s", tc.check, out)
			}
			// The same provider passes every other check.
			if out, err := run("(" + othersThan(tc.check) + ")"); err != nil {
				t.Errorf("a provider that does %s fails checks other than %s:\n%s", tc.flaw, tc.check, out)
			}
		})
	}
}

func othersThan(check string) string {
	all := []string{"describe", "configure", "configure_unknown_setting", "health", "create_payment", "create_payment_idempotent",
		"create_payment_invalid_input", "get_payment", "get_payment_unknown", "refund_unknown", "refund_full", "refund_partial", "refund_over_refund", "refund_idempotent",
		"webhook_unsigned_rejected",
		"webhook_signed_normalized", "webhook_tampered_rejected", "http_unknown_route", "http_route", "cancelled_context",
		"concurrent_create_payment"}
	var out []string
	for _, c := range all {
		if c != check {
			out = append(out, c)
		}
	}
	return strings.Join(out, "|")
}
