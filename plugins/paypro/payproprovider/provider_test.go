package payproprovider

import (
	"context"
	"maps"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/switchyard/switchyard/plugins/paypro/ipn"
	"github.com/switchyard/switchyard/plugins/paypro/payprofake"
	"github.com/switchyard/switchyard/sdk/provider"
	"github.com/switchyard/switchyard/sdk/sdkerr"
	"github.com/switchyard/switchyard/sdk/sdktest"
)

func TestConformance(t *testing.T) {
	fake := payprofake.New(t, testVendorID, testAPISecret)
	settings := baseSettings()
	maps.Copy(settings, apiSettings(fake.URL()))
	var orders atomic.Int64
	p := sdktest.ProviderClient(t, New())
	sdktest.RunProviderConformance(t, p, sdktest.ProviderConformanceConfig{
		Settings:         settings,
		RequiredSettings: []string{SettingValidationKey},
		SignedWebhook: func(t testing.TB, req provider.CreatePaymentRequest, resp provider.CreatePaymentResponse) provider.WebhookRequest {
			tt := t.(*testing.T)
			v := forCheckout(tt, fixtureByType(tt, ipn.OrderCharged), resp.NextAction.URL)
			return webhook(v, payproAddr)
		},
		// PayPro charges an order (its own order and item ids, one pair
		// per payment here) and says so in the OrderCharged IPN, whose
		// Data the host hands back to Refund; the fake API learns of the
		// order so DoRefund and DoPartialRefund can refund it.
		PayUpstream: func(t testing.TB, p provider.Client, req provider.CreatePaymentRequest, resp provider.CreatePaymentResponse) map[string]string {
			tt := t.(*testing.T)
			n := orders.Add(1)
			v := fixtureByType(tt, ipn.OrderCharged)
			v.Set(ipn.FieldOrderID, strconv.FormatInt(70000000+n, 10))
			v.Set("ORDER_ITEM_ID", strconv.FormatInt(80000000+n, 10))
			data := sdktest.PayWithWebhook(func(testing.TB, provider.CreatePaymentRequest, provider.CreatePaymentResponse) provider.WebhookRequest {
				return webhook(forCheckout(tt, v, resp.NextAction.URL), payproAddr)
			})(t, p, req, resp)
			fake.AddOrder(payprofake.Order{ID: 70000000 + n, ItemID: 80000000 + n, Total: req.Amount, Currency: req.Currency})
			return data
		},
	})
}

func TestCheckoutURL(t *testing.T) {
	cases := []struct {
		name     string
		settings map[string]string
		req      func(*provider.CreatePaymentRequest)
		want     map[string]string
		absent   []string
	}{
		{
			name: "live, dynamic price, default product",
			want: map[string]string{
				"products[1][id]": "68452", "products[1][price][USD][amount]": "49.95", "currency": "USD",
				"billing-email": "jane.doe@example.com", FieldSession: "cs_1", FieldRef: "att_cs_1",
				FieldAmount: "4995", FieldCurrency: "USD",
			},
			absent: []string{"use-test-mode", "secret-key", "ipn-domain"},
		},
		{
			name:     "test mode and ipn domain",
			settings: map[string]string{SettingTestMode: "true", SettingIPNDomain: "ipn.shop.example.com"},
			want:     map[string]string{"use-test-mode": "true", "secret-key": testSecretKey, "ipn-domain": "ipn.shop.example.com"},
		},
		{
			name:     "product per method, fixed price",
			settings: map[string]string{"product_paypal": "70001", SettingDynamicPrice: "false"},
			req:      func(r *provider.CreatePaymentRequest) { r.Method = MethodPayPal },
			want:     map[string]string{"products[1][id]": "70001"},
			absent:   []string{"products[1][price][USD][amount]"},
		},
		{
			name: "zero-decimal and three-decimal currencies",
			req:  func(r *provider.CreatePaymentRequest) { r.Amount, r.Currency = 5480, "JPY" },
			want: map[string]string{"products[1][price][JPY][amount]": "5480", "currency": "JPY"},
		},
		{
			name: "KWD",
			req:  func(r *provider.CreatePaymentRequest) { r.Amount, r.Currency = 15375, "KWD" },
			want: map[string]string{"products[1][price][KWD][amount]": "15.375"},
		},
		{
			name:     "checkout base",
			settings: map[string]string{SettingCheckoutBase: "https://secure.payproglobal.test/checkout"},
			want:     map[string]string{"products[1][id]": "68452"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := configured(t, tc.settings)
			req := paymentRequest("cs_1", 4995, "USD")
			if tc.req != nil {
				tc.req(&req)
			}
			resp := checkout(t, p, req)
			if resp.ProviderRef != "att_cs_1" || resp.Status != provider.StatusPending || resp.NextAction.Type != provider.NextActionRedirect {
				t.Errorf("response %+v", resp)
			}
			u, err := url.Parse(resp.NextAction.URL)
			if err != nil {
				t.Fatal(err)
			}
			wantBase := DefaultCheckoutBase
			if b := tc.settings[SettingCheckoutBase]; b != "" {
				wantBase = b
			}
			if got := u.Scheme + "://" + u.Host + u.Path; got != wantBase {
				t.Errorf("base %q, want %q", got, wantBase)
			}
			q := u.Query()
			for k, v := range tc.want {
				if q.Get(k) != v {
					t.Errorf("%s = %q, want %q", k, q.Get(k), v)
				}
			}
			for _, k := range tc.absent {
				if q.Has(k) {
					t.Errorf("%s present: %q", k, q.Get(k))
				}
			}
			if len(q.Get(FieldToken)) != 32 {
				t.Errorf("token %q", q.Get(FieldToken))
			}
		})
	}
	// The live URL never carries the secret key.
	resp := checkout(t, configured(t, nil), paymentRequest("cs_2", 100, "USD"))
	if strings.Contains(resp.NextAction.URL, testSecretKey) || strings.Contains(resp.NextAction.URL, testValidationKey) {
		t.Errorf("live checkout URL leaks a key: %s", resp.NextAction.URL)
	}
}

func TestCreatePaymentErrors(t *testing.T) {
	p := configured(t, map[string]string{SettingDefaultProduct: "", "product_card": "1"})
	req := paymentRequest("cs_1", 4995, "USD")
	req.Method = MethodWallet
	_, err := p.CreatePayment(context.Background(), req)
	if e, ok := sdkerr.As(err); !ok || e.Category != sdkerr.CategoryInvalidInput || e.Code != "method_not_configured" {
		t.Errorf("wallet without product: %v", err)
	}
	req.Method = MethodCard
	if _, err := p.CreatePayment(context.Background(), req); err != nil {
		t.Errorf("card with product: %v", err)
	}
	req.SessionID = ""
	if _, err := p.CreatePayment(context.Background(), req); sdkerr.CategoryOf(err) != sdkerr.CategoryInvalidInput {
		t.Error("missing session id accepted")
	}
	if _, err := New().CreatePayment(context.Background(), paymentRequest("cs_1", 1, "USD")); sdkerr.CategoryOf(err) != sdkerr.CategoryUnavailable {
		t.Errorf("unconfigured: %v", err)
	}
}

func TestConfigureErrors(t *testing.T) {
	cases := []struct {
		name  string
		extra map[string]string
		field string
	}{
		{"no validation key", map[string]string{SettingValidationKey: ""}, SettingValidationKey},
		{"unknown setting", map[string]string{"api_key": "x"}, "api_key"},
		{"unknown method product", map[string]string{"product_crypto": "1"}, "product_crypto"},
		{"bad product id", map[string]string{"product_card": "abc"}, "product_card"},
		{"bad default product", map[string]string{SettingDefaultProduct: "-4"}, SettingDefaultProduct},
		{"bad test mode", map[string]string{SettingTestMode: "maybe"}, SettingTestMode},
		{"test mode without secret", map[string]string{SettingTestMode: "true", SettingSecretKey: ""}, SettingSecretKey},
		{"ipn domain with scheme", map[string]string{SettingIPNDomain: "https://ipn.example.com"}, SettingIPNDomain},
		{"bad allowlist entry", map[string]string{SettingIPAllowlist: "198.199.123.239, paypro.com"}, SettingIPAllowlist},
		{"bad trusted proxy", map[string]string{SettingTrustedProxies: "10.0.0.0/33"}, SettingTrustedProxies},
		{"checkout base not absolute", map[string]string{SettingCheckoutBase: "/checkout"}, SettingCheckoutBase},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := baseSettings()
			for k, v := range tc.extra {
				if v == "" {
					delete(s, k)
				} else {
					s[k] = v
				}
			}
			err := New().Configure(context.Background(), s)
			e, ok := sdkerr.As(err)
			if !ok || e.Category != sdkerr.CategoryInvalidInput || e.Field != tc.field {
				t.Fatalf("Configure = %v, want invalid input on %s", err, tc.field)
			}
			if strings.Contains(err.Error(), testSecretKey) || strings.Contains(err.Error(), testValidationKey) {
				t.Errorf("error leaks a key: %v", err)
			}
		})
	}
}

func TestGetPaymentFollowsIPNs(t *testing.T) {
	p := configured(t, nil)
	resp := checkout(t, p, paymentRequest("cs_get", 4995, "USD"))
	get := func() provider.Payment {
		t.Helper()
		got, err := p.GetPayment(context.Background(), provider.GetPaymentRequest{ProviderRef: resp.ProviderRef})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	if g := get(); g.Status != provider.StatusPending || g.Amount != 4995 || g.Currency != "USD" {
		t.Errorf("before IPN: %+v", g)
	}
	handle(t, p, webhook(forCheckout(t, fixtureByType(t, 1), resp.NextAction.URL), payproAddr))
	if g := get(); g.Status != provider.StatusSucceeded || g.Amount != 4995 || g.Currency != "USD" {
		t.Errorf("after OrderCharged: %+v", g)
	}
	handle(t, p, webhook(forCheckout(t, fixtureByType(t, 5), resp.NextAction.URL), payproAddr))
	if g := get(); g.AmountRefunded != 2000 {
		t.Errorf("after partial refund: %+v", g)
	}
	_, err := p.GetPayment(context.Background(), provider.GetPaymentRequest{ProviderRef: "att_unknown"})
	if sdkerr.CategoryOf(err) != sdkerr.CategoryNotFound {
		t.Errorf("unknown ref: %v", err)
	}
}
