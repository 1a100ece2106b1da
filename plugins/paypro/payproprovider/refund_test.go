package payproprovider

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/plugins/paypro/ipn"
	"github.com/switchyard/switchyard/plugins/paypro/payprofake"
	"github.com/switchyard/switchyard/sdk"
	"github.com/switchyard/switchyard/sdk/provider"
)

const (
	testVendorID  = 150138
	testAPISecret = "343304e4-70c3-48b2-8cbb-4e3c59cfa81e"
)

func apiSettings(base string) map[string]string {
	return map[string]string{
		SettingVendorAccountID: strconv.Itoa(testVendorID),
		SettingAPISecretKey:    testAPISecret,
		SettingAPIBase:         base,
	}
}

// chargedData pays a checkout with a signed OrderCharged IPN and returns
// the payment.succeeded event's Data: what the host stores and hands back
// as RefundRequest.PaymentData.
func chargedData(t *testing.T, p *Provider, session string, amount int64, cur string) (string, map[string]string) {
	t.Helper()
	resp := checkout(t, p, paymentRequest(session, amount, cur))
	out := handle(t, p, webhook(forCheckout(t, fixtureByType(t, ipn.OrderCharged), resp.NextAction.URL), payproAddr))
	for _, ev := range out.Events {
		if ev.Type == provider.PaymentSucceeded {
			return resp.ProviderRef, ev.Data
		}
	}
	t.Fatalf("OrderCharged gave no payment.succeeded: %+v", out.Events)
	return "", nil
}

func TestRefundThroughPayProAPI(t *testing.T) {
	fake := payprofake.New(t, testVendorID, testAPISecret)
	p := configured(t, apiSettings(fake.URL()))
	ref, data := chargedData(t, p, "cs_refund", 12345, "KWD")
	orderID, _ := strconv.ParseInt(data["order_id"], 10, 64)
	itemID, err := strconv.ParseInt(data["order_item_id"], 10, 64)
	if orderID == 0 || err != nil || itemID == 0 {
		t.Fatalf("payment.succeeded Data lacks the order ids PayPro's API needs: %v", data)
	}
	fake.AddOrder(payprofake.Order{ID: orderID, ItemID: itemID, Total: 12345, Currency: "KWD"})
	ctx := context.Background()

	// Partial: DoPartialRefund on the item, the amount in KWD's 3 decimals.
	part := provider.RefundRequest{ProviderRef: ref, SessionID: "cs_refund", Amount: 2345, Currency: "KWD",
		IdempotencyKey: "switchyard_refund_re_1", Reason: "requested_by_customer", PaymentData: data}
	for i := range 2 {
		res, err := p.Refund(ctx, part)
		if err != nil || res.Status != provider.RefundSucceeded || res.Amount != 2345 {
			t.Fatalf("partial refund call %d: %+v, %v", i, res, err)
		}
	}
	// Beyond what is left: PayPro's refundNotice, as a decline.
	_, err = p.Refund(ctx, provider.RefundRequest{ProviderRef: ref, Amount: 10001, Currency: "KWD", IdempotencyKey: "switchyard_refund_re_2", PaymentData: data})
	if e, ok := sdk.AsError(err); !ok || e.Category != sdk.CategoryDeclined || !strings.Contains(e.Message, "exceeds the amount available") {
		t.Errorf("over-refund: %v, want declined with PayPro's notice", err)
	}
	// The rest of the order through DoRefund (Amount 0: everything left).
	if _, err := p.Refund(ctx, provider.RefundRequest{ProviderRef: ref, Currency: "KWD", IdempotencyKey: "switchyard_refund_re_3",
		Reason: "duplicate", PaymentData: data}); err != nil {
		t.Fatalf("full refund: %v", err)
	}
	_, err = p.Refund(ctx, provider.RefundRequest{ProviderRef: ref, Currency: "KWD", IdempotencyKey: "switchyard_refund_re_4", PaymentData: data})
	if sdk.CategoryOf(err) != sdk.CategoryDeclined || !strings.Contains(err.Error(), "already refunded") {
		t.Errorf("second full refund: %v, want declined (already refunded)", err)
	}

	got := fake.Refunds()
	if len(got) != 2 {
		t.Fatalf("fake executed %d refunds, want 2 (the retried key is one): %+v", len(got), got)
	}
	if g := got[0]; g.Operation != "DoPartialRefund" || g.OrderItemID != itemID || g.Amount != 2345 || g.Reason != "Requested by customer" {
		t.Errorf("partial refund at PayPro: %+v", g)
	}
	if g := got[1]; g.Operation != "DoRefund" || g.OrderID != orderID || g.Amount != 10000 || !g.Full || g.Reason != "Duplicate payment" {
		t.Errorf("full refund at PayPro: %+v", g)
	}
}

func TestRefundErrors(t *testing.T) {
	fake := payprofake.New(t, testVendorID, testAPISecret)
	ctx := context.Background()
	data := map[string]string{"order_id": "18304429", "order_item_id": "77"}
	fake.AddOrder(payprofake.Order{ID: 18304429, ItemID: 77, Total: 4995, Currency: "USD"})
	req := func(key string, amount int64) provider.RefundRequest {
		return provider.RefundRequest{ProviderRef: "att_x", Amount: amount, Currency: "USD", IdempotencyKey: key, PaymentData: data}
	}

	t.Run("no order known", func(t *testing.T) {
		p := configured(t, apiSettings(fake.URL()))
		_, err := p.Refund(ctx, provider.RefundRequest{ProviderRef: "att_x", IdempotencyKey: "k"})
		if sdk.CategoryOf(err) != sdk.CategoryNotFound {
			t.Errorf("refund without PaymentData: %v, want not found", err)
		}
	})
	t.Run("api not configured", func(t *testing.T) {
		p := configured(t, nil)
		_, err := p.Refund(ctx, req("k", 0))
		if e, ok := sdk.AsError(err); !ok || e.Category != sdk.CategoryInvalidInput || e.Code != "refunds_not_configured" {
			t.Errorf("refund without API settings: %v", err)
		}
	})
	t.Run("wrong secret", func(t *testing.T) {
		s := apiSettings(fake.URL())
		s[SettingAPISecretKey] = "not-the-key-0000"
		p := configured(t, s)
		_, err := p.Refund(ctx, req("k", 100))
		if sdk.CategoryOf(err) != sdk.CategoryInvalidInput || !strings.Contains(err.Error(), "apiSecretKey") {
			t.Errorf("wrong secret: %v, want invalid naming apiSecretKey", err)
		}
		if strings.Contains(err.Error(), "not-the-key-0000") {
			t.Error("the error carries the secret key")
		}
	})
	t.Run("caller not whitelisted", func(t *testing.T) {
		fake.AllowOnly("192.0.2.10")
		defer fake.AllowOnly()
		p := configured(t, apiSettings(fake.URL()))
		_, err := p.Refund(ctx, req("k", 100))
		if sdk.CategoryOf(err) != sdk.CategoryUnauthorized || !strings.Contains(err.Error(), "whitelisted") {
			t.Errorf("unlisted caller: %v, want unauthorized mentioning the IP whitelist", err)
		}
	})
	t.Run("paypro down", func(t *testing.T) {
		fake.FailWith(http.StatusServiceUnavailable)
		defer fake.FailWith(0)
		p := configured(t, apiSettings(fake.URL()))
		if _, err := p.Refund(ctx, req("k", 100)); sdk.CategoryOf(err) != sdk.CategoryUnavailable {
			t.Errorf("503: %v, want unavailable", err)
		}
	})
	t.Run("unreachable", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		srv.Close()
		p := configured(t, apiSettings(srv.URL+"/api"))
		if _, err := p.Refund(ctx, req("k", 100)); sdk.CategoryOf(err) != sdk.CategoryUnavailable {
			t.Errorf("unreachable: %v, want unavailable", err)
		}
	})
	t.Run("unknown item", func(t *testing.T) {
		p := configured(t, apiSettings(fake.URL()))
		r := req("k", 100)
		r.PaymentData = map[string]string{"order_id": "1", "order_item_id": "999"}
		if _, err := p.Refund(ctx, r); sdk.CategoryOf(err) != sdk.CategoryInvalidInput || !strings.Contains(err.Error(), "999") {
			t.Errorf("unknown item: %v, want invalid with PayPro's error", err)
		}
	})
	if n := len(fake.Refunds()); n != 0 {
		t.Errorf("fake executed %d refunds in failure cases, want 0", n)
	}
}

func TestRefundSettings(t *testing.T) {
	cases := []struct {
		name  string
		in    map[string]string
		field string
	}{
		{"vendor without secret", map[string]string{SettingVendorAccountID: "150138"}, SettingAPISecretKey},
		{"secret without vendor", map[string]string{SettingAPISecretKey: "x"}, SettingVendorAccountID},
		{"vendor not a number", map[string]string{SettingVendorAccountID: "acct", SettingAPISecretKey: "x"}, SettingVendorAccountID},
		{"api base with query", map[string]string{SettingVendorAccountID: "1", SettingAPISecretKey: "x", SettingAPIBase: "https://x.test/api?a=1"}, SettingAPIBase},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := baseSettings()
			for k, v := range tc.in {
				s[k] = v
			}
			err := New().Configure(context.Background(), s)
			if e, ok := sdk.AsError(err); !ok || e.Field != tc.field {
				t.Errorf("Configure: %v, want an error on %s", err, tc.field)
			}
		})
	}
}
