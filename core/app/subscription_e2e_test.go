package app_test

import (
	"context"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/internal/servetest"
	"github.com/switchyard/switchyard/plugins/paypro/ipn"
)

// newSubscriptionEnv is the hosting environment (whm against whmfake, smtp
// against the in-process SMTP server) with the real paypro binary too: the
// example file's PayPro instance (live mode, enabled by the environment,
// IPNs accepted from the loopback address), a hosting product with a grace
// period of two seconds, and a live merchant key.
func newSubscriptionEnv(t *testing.T, dsn string) *hostingEnv {
	t.Helper()
	return newHostingEnvWith(t, dsn, hostingOptions{
		plugins: []string{"paypro"},
		env: []string{"SWITCHYARD_PAYPRO_ENABLED=true", "PAYPRO_VALIDATION_KEY=" + ppValidationKey,
			"PAYPRO_SECRET_KEY=" + ppSecretKey, "PAYPRO_DEFAULT_PRODUCT=68452"},
		products: `  - sku: hosting-monthly
    name: Monthly hosting
    fulfillment:
      kind: provision
      provisioner: whmtest
      package: basic
      grace_period: 2s
`,
		keyMode: "live",
		edit: func(t *testing.T, cfg string) {
			replaceInConfig(t, cfg, "        default_product: env:PAYPRO_DEFAULT_PRODUCT\n",
				"        default_product: env:PAYPRO_DEFAULT_PRODUCT\n        ip_allowlist: \"127.0.0.1, ::1\"\n")
		},
	})
}

// replaceInConfig replaces old, which must occur exactly once, in the
// configuration file.
func replaceInConfig(t *testing.T, cfg, old, repl string) {
	t.Helper()
	b, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), old); n != 1 {
		t.Fatalf("the example configuration has %q %d times, want once", old, n)
	}
	if err := os.WriteFile(cfg, []byte(strings.Replace(string(b), old, repl, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
}

// sendIPN posts a PayPro IPN answering the checkout link, signed with the
// instance's keys, to serve's webhook intake, as PayPro does.
func sendIPN(t *testing.T, h *hostingEnv, checkout string, typ ipn.Type, fields ...string) {
	t.Helper()
	v, err := ipn.Simulation{Type: typ, CheckoutURL: checkout, Keys: ipn.Keys{ValidationKey: ppValidationKey, SecretKey: ppSecretKey},
		Fields: fields}.Build()
	if err != nil {
		t.Fatal(err)
	}
	r, err := ipn.Post(context.Background(), servetest.Client, h.proc.Public+"/hooks/paypro/paypro", v)
	if err != nil || r.Status != http.StatusOK {
		t.Fatalf("IPN %s: %d %s %v", typ, r.Status, r.Body, err)
	}
}

// TestServeSubscriptionSuspendAndRenew: a hosting session paid through
// PayPro by an order that starts a subscription (OrderCharged with
// SUBSCRIPTION_ID) is provisioned; PayPro's SubscriptionChargeFailed IPN
// suspends the account when the product's grace period ends (suspendacct
// with the reason, service.suspended delivered, the suspended mail sent),
// and its SubscriptionChargeSucceed IPN lifts it (unsuspendacct,
// service.unsuspended delivered). A failed charge of a subscription no
// session started, in an IPN naming this session, changes nothing.
func TestServeSubscriptionSuspendAndRenew(t *testing.T) {
	servetest.Stores(t, func(t *testing.T, dsn string) {
		h := newSubscriptionEnv(t, dsn)
		var s struct {
			SessionID string `json:"session_id"`
		}
		if code, raw := servetest.Call(t, "POST", h.proc.Public+"/v1/sessions", h.key, map[string]any{
			"domain": "shop.test", "amount": "49.95", "currency": "USD", "order_id": "SUB-1",
			"customer_email": "subber@customer.example",
			"items":          []map[string]any{{"sku": "hosting-monthly", "domain": "subber.example", "username": "subber"}},
		}, &s); code != http.StatusCreated {
			t.Fatalf("create session: %d %s", code, raw)
		}
		checkout := checkoutRedirect(t, &payproEnv{base: h.proc.Public, c: servetest.Client}, ppSession{SessionID: s.SessionID})

		sendIPN(t, h, checkout, ipn.OrderCharged, "ORDER_ID=51000001", "SUBSCRIPTION_ID=770001")
		h.hooks.wait(t, "service.activated", 1)
		if _, ok := h.whm.Account("subber"); !ok {
			t.Fatal("no account on whmfake after the paid order")
		}

		// Another subscription's failure: recorded, never applied to the
		// session the IPN's checkout fields name.
		sendIPN(t, h, checkout, ipn.SubscriptionChargeFailed, "ORDER_ID=51000009", "SUBSCRIPTION_ID=770999",
			"SUBSCRIPTION_NUMBER_OF_FAILED_ATTEMPTS=1")

		sendIPN(t, h, checkout, ipn.SubscriptionChargeFailed, "ORDER_ID=51000002", "SUBSCRIPTION_ID=770001",
			"SUBSCRIPTION_NUMBER_OF_FAILED_ATTEMPTS=1")
		suspended := h.hooks.wait(t, "service.suspended", 1)
		calls := h.waitCalls(t, "suspendacct", "user", "subber", 1)
		if len(calls) != 1 || calls[0].Params.Get("reason") != "subscription charge failed" {
			t.Fatalf("suspendacct calls %+v, want one with the reason", calls)
		}
		if !strings.Contains(suspended[0], `"subscription charge failed"`) || !strings.Contains(suspended[0], s.SessionID) {
			t.Fatalf("service.suspended: %s", suspended[0])
		}
		if _, text := h.waitMail(t, "service_suspended", "subber@customer.example"); !strings.Contains(text, "subscription charge failed") {
			t.Errorf("suspended mail does not say why:\n%s", text)
		}

		sendIPN(t, h, checkout, ipn.SubscriptionChargeSucceed, "ORDER_ID=51000002", "SUBSCRIPTION_ID=770001")
		unsuspended := h.hooks.wait(t, "service.unsuspended", 1)
		if n := len(h.waitCalls(t, "unsuspendacct", "user", "subber", 1)); n != 1 {
			t.Fatalf("unsuspendacct calls %d, want 1", n)
		}
		if acct, _ := h.whm.Account("subber"); acct.Suspended || !strings.Contains(unsuspended[0], `"active"`) {
			t.Fatalf("after the renewal: account %+v, event %s", acct, unsuspended[0])
		}
		if n := len(h.whm.Calls("suspendacct")); n != 1 {
			t.Errorf("suspendacct calls %d, want 1 (the unknown subscription suspended nothing)", n)
		}
	})
}
