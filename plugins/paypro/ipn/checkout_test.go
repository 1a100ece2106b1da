package ipn

import (
	"testing"
)

func TestFromCheckout(t *testing.T) {
	const live = "https://store.payproglobal.com/checkout?products%5B1%5D%5Bid%5D=70001&products%5B1%5D%5Bprice%5D%5BKWD%5D%5Bamount%5D=15.375&currency=KWD&billing-email=a%40b.example&x-b=2&x-a=1"
	cases := []struct {
		name  string
		typ   Type
		url   string
		check map[string]string
	}{
		{"live charge", OrderCharged, live, map[string]string{
			"PRODUCT_ID": "70001", "ORDER_CURRENCY_CODE": "KWD", "ORDER_TOTAL_AMOUNT": "15.375", "ORDER_ITEM_UNIT_PRICE": "15.375",
			"ORDER_TAXES_AMOUNT": "0.000", "CUSTOMER_EMAIL": "a@b.example", "ORDER_CUSTOM_FIELDS": "x-a=1,x-b=2", "TEST_MODE": "0",
		}},
		{"full refund refunds the checkout total", OrderRefunded, live, map[string]string{"ORDER_REFUNDED": "15.375"}},
		{"partial refund above total is capped", OrderPartiallyRefunded, live, map[string]string{"ORDER_REFUNDED": "15.375"}},
		{"customer change keeps the new email", OrderCustomerInformationChanged, live, map[string]string{"CUSTOMER_EMAIL": "jane.doe@new-example.com"}},
		{"test checkout zeroes amounts", OrderCharged, live + "&use-test-mode=true&secret-key=s", map[string]string{
			"TEST_MODE": "1", "ORDER_TOTAL_AMOUNT": "0.000", "ORDER_ITEM_BALANCE_CURRENCY_VENDOR_AMOUNT": "0.00",
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := Defaults(tc.typ)
			if err := FromCheckout(v, tc.url); err != nil {
				t.Fatal(err)
			}
			for k, want := range tc.check {
				if got := v.Get(k); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
			if _, err := FromValues(v); err != nil {
				t.Errorf("result does not parse: %v", err)
			}
		})
	}
	if err := FromCheckout(Defaults(OrderCharged), "https://x.example/?products%5B1%5D%5Bprice%5D%5BUSD%5D%5Bamount%5D=abc"); err == nil {
		t.Error("bad price accepted")
	}
}

func TestSimulationBuild(t *testing.T) {
	keys := Keys{ValidationKey: "vk", SecretKey: "sk"}
	v, err := Simulation{Type: OrderRefunded, Fields: []string{"ORDER_ID=42", "COUPON_CODE=", "CUSTOMER_PHONE"}, Resent: true, Keys: keys}.Build()
	if err != nil {
		t.Fatal(err)
	}
	if v.Get("ORDER_ID") != "42" || !v.Has("COUPON_CODE") || v.Has("CUSTOMER_PHONE") || v.Get("IS_RESENT") != "1" {
		t.Errorf("overrides not applied: %v", v)
	}
	if err := Verify(v, keys); err != nil {
		t.Errorf("built IPN does not verify: %v", err)
	}
	v, err = Simulation{Type: OrderCharged, Fields: []string{"IPN_TYPE_ID=2"}, Test: true, Keys: keys}.Build()
	if err != nil {
		t.Fatal(err)
	}
	if v.Get("IPN_TYPE_NAME") != "OrderRefunded" || v.Get("TEST_MODE") != "1" || v.Get("HASH") != Hash("", "", true) {
		t.Errorf("type name %q test %q hash %q", v.Get("IPN_TYPE_NAME"), v.Get("TEST_MODE"), v.Get("HASH"))
	}
	for _, bad := range []Simulation{{Type: 18, Keys: keys}, {Type: OrderCharged}, {Type: OrderCharged, Keys: keys, Fields: []string{"=x"}}} {
		if _, err := bad.Build(); err == nil {
			t.Errorf("%+v built", bad)
		}
	}
}
