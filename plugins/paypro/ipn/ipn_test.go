package ipn

import (
	"crypto/md5" //nolint:gosec // PayPro's HASH
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func readFixture(t *testing.T, name string) url.Values {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	v, err := url.ParseQuery(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return v
}

func TestParseEveryTypeFixture(t *testing.T) {
	cases := []struct {
		file  string
		typ   Type
		check func(t *testing.T, n *IPN)
	}{
		{"01_OrderCharged.form", OrderCharged, func(t *testing.T, n *IPN) {
			wantMoney(t, "total", n.OrderTotalAmount, 4995, "USD")
			wantMoney(t, "paypro expenses", n.ItemBalancePayProExpensesAmount, 450, "USD")
			if !reflect.DeepEqual(n.Licenses, []string{"SYPRO-7K2Q-M4XD-91TA"}) {
				t.Errorf("licenses %q", n.Licenses)
			}
			if n.CustomerEmail != "jane.doe@example.com" || n.CustomerCountryCode != "US" || n.CreditCardLast4 != "4242" {
				t.Errorf("customer fields %+v", n)
			}
			if at, ok := n.PlacedAt(); !ok || at.Format("2006-01-02T15:04:05Z07:00") != "2026-11-22T01:15:42Z" {
				t.Errorf("placed at %v %v", at, ok)
			}
		}},
		{"02_OrderRefunded.form", OrderRefunded, func(t *testing.T, n *IPN) {
			wantMoney(t, "refunded", n.OrderRefunded, 4995, "USD")
			wantMoney(t, "vendor refunded", n.OrderVendorRefunded, 4545, "USD")
			if n.ActionReason != "Customer request" || n.RefundIssuedBy != "Vendor" {
				t.Errorf("reason %q issued by %q", n.ActionReason, n.RefundIssuedBy)
			}
		}},
		{"03_OrderChargedBack.form", OrderChargedBack, func(t *testing.T, n *IPN) {
			if n.ActionReason != "Fraudulent transaction" || n.OrderStatus != "Chargeback" {
				t.Errorf("reason %q status %q", n.ActionReason, n.OrderStatus)
			}
		}},
		{"04_OrderDeclined.form", OrderDeclined, func(t *testing.T, n *IPN) {
			if n.ActionReason != "Insufficient funds" {
				t.Errorf("reason %q", n.ActionReason)
			}
		}},
		{"05_OrderPartiallyRefunded.form", OrderPartiallyRefunded, func(t *testing.T, n *IPN) {
			wantMoney(t, "refunded", n.OrderRefunded, 2000, "USD")
			wantMoney(t, "item balance refunded", n.ItemBalanceRefunded, 2000, "USD")
		}},
		{"06_SubscriptionChargeSucceed.form", SubscriptionChargeSucceed, func(t *testing.T, n *IPN) {
			if n.SubscriptionID != 764521 || n.SubscriptionBillingCycles != 3 || n.SubscriptionRenewalType != "Auto" {
				t.Errorf("subscription %d cycles %d renewal %q", n.SubscriptionID, n.SubscriptionBillingCycles, n.SubscriptionRenewalType)
			}
			wantMoney(t, "next charge", n.SubscriptionNextChargeAmount, 4995, "USD")
			if !n.SubscriptionNextChargeInBilling {
				t.Error("SUBSCRIPTION_NEXT_CHARGE_CURRENCY=1 not decoded")
			}
		}},
		{"07_SubscriptionChargeFailed.form", SubscriptionChargeFailed, func(t *testing.T, n *IPN) {
			if n.SubscriptionFailedAttempts != 1 || n.ActionReason != "Card expired" {
				t.Errorf("failed attempts %d reason %q", n.SubscriptionFailedAttempts, n.ActionReason)
			}
		}},
		{"08_SubscriptionSuspended.form", SubscriptionSuspended, func(t *testing.T, n *IPN) {
			if n.SubscriptionStatusName != "Suspended" || n.SubscriptionCancellationReasonID != 3 {
				t.Errorf("status %q reason id %d", n.SubscriptionStatusName, n.SubscriptionCancellationReasonID)
			}
		}},
		{"09_SubscriptionRenewed.form", SubscriptionRenewed, func(t *testing.T, n *IPN) {
			if n.SubscriptionStatusName != "Active" {
				t.Errorf("status %q", n.SubscriptionStatusName)
			}
		}},
		{"10_SubscriptionTerminated.form", SubscriptionTerminated, func(t *testing.T, n *IPN) {
			if n.SubscriptionStatusName != "Terminated" || n.ActionReason != "Customer canceled" {
				t.Errorf("status %q reason %q", n.SubscriptionStatusName, n.ActionReason)
			}
		}},
		{"11_SubscriptionFinished.form", SubscriptionFinished, func(t *testing.T, n *IPN) {
			if n.SubscriptionFinishDate != "11/22/2026" {
				t.Errorf("finish date %q", n.SubscriptionFinishDate)
			}
		}},
		{"12_LicenseRequested.form", LicenseRequested, func(t *testing.T, n *IPN) {
			if n.CustomLicenseInfo != "edition=pro;seats=1" || n.ProductQuantity != 1 {
				t.Errorf("license info %q qty %d", n.CustomLicenseInfo, n.ProductQuantity)
			}
		}},
		{"13_TrialCharge.form", TrialCharge, func(t *testing.T, n *IPN) {
			if !n.IsOnTrialPeriod || n.TrialPeriodTill != "12/06/2026" {
				t.Errorf("trial %v till %q", n.IsOnTrialPeriod, n.TrialPeriodTill)
			}
		}},
		{"14_OrderChargebackIsWon.form", OrderChargebackIsWon, nil},
		{"15_OrderCustomerInformationChanged.form", OrderCustomerInformationChanged, func(t *testing.T, n *IPN) {
			if n.CustomerEmail != "jane.doe@new-example.com" {
				t.Errorf("email %q", n.CustomerEmail)
			}
		}},
		{"16_InstantLeadNotification.form", InstantLeadNotification, func(t *testing.T, n *IPN) {
			if n.LeadTypeID != 1 || n.LeadTypeName != "Abandoned cart" || n.LeadCampaignID != "3307" || n.LeadFollowUpID != "3" {
				t.Errorf("lead %d %q %q %q", n.LeadTypeID, n.LeadTypeName, n.LeadCampaignID, n.LeadFollowUpID)
			}
			wantMoney(t, "total", n.OrderTotalAmount, 0, "USD")
		}},
		{"17_OrderOnWaiting.form", OrderOnWaiting, func(t *testing.T, n *IPN) {
			if n.PaymentMethodName != "Wire Transfer" || n.OrderStatus != "Waiting" {
				t.Errorf("method %q status %q", n.PaymentMethodName, n.OrderStatus)
			}
		}},
		{"21_SubscriptionPaymentInfoChanged.form", SubscriptionPaymentInfoChanged, func(t *testing.T, n *IPN) {
			if n.CreditCardLast4 != "1881" || n.CreditCardExpirationDate != "03/2031" {
				t.Errorf("card %q %q", n.CreditCardLast4, n.CreditCardExpirationDate)
			}
		}},
	}
	if len(cases) != len(Types()) {
		t.Fatalf("%d fixtures for %d IPN types", len(cases), len(Types()))
	}
	for _, tc := range cases {
		t.Run(tc.typ.String(), func(t *testing.T) {
			v := readFixture(t, tc.file)
			n, err := FromValues(v)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if n.TypeID != tc.typ || n.TypeName != tc.typ.String() {
				t.Errorf("type %d %q, want %d %q", n.TypeID, n.TypeName, tc.typ, tc.typ)
			}
			if n.OrderID != 18304429 || n.OrderCurrency != "USD" || n.TestMode || n.IsResent {
				t.Errorf("order %d currency %q test %v resent %v", n.OrderID, n.OrderCurrency, n.TestMode, n.IsResent)
			}
			if len(n.Extra) != 0 {
				t.Errorf("documented fields landed in Extra: %v", n.Extra)
			}
			if tc.check != nil {
				tc.check(t, n)
			}
		})
	}
}

func wantMoney(t *testing.T, what string, m Money, minor int64, cur string) {
	t.Helper()
	if !m.Set || m.Minor != minor || m.Currency != cur {
		t.Errorf("%s = %+v, want %d %s", what, m, minor, cur)
	}
}

func TestParseMultipleLicensesAndNumberedTaxes(t *testing.T) {
	n, err := FromValues(readFixture(t, "multi_license_taxes.form"))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"AAAA-1111-BBBB", "CCCC-2222-DDDD", "EEEE-3333-FFFF"}; !reflect.DeepEqual(n.Licenses, want) {
		t.Errorf("licenses %q, want %q", n.Licenses, want)
	}
	if want := []Tax{{"VAT", "19"}, {"Digital services levy", "1.0"}}; !reflect.DeepEqual(n.Taxes, want) {
		t.Errorf("taxes %+v, want %+v", n.Taxes, want)
	}
	wantMoney(t, "total", n.OrderTotalAmount, 7197, "EUR")
	wantMoney(t, "taxes", n.OrderTaxesAmount, 1200, "EUR")
	wantMoney(t, "unit price", n.ItemUnitPrice, 1999, "EUR")
	// Balance amounts stay in the vendor's balance currency.
	wantMoney(t, "balance total", n.OrderTotalBalanceAmount, 4995, "USD")
	if n.ProductQuantity != 3 {
		t.Errorf("quantity %d", n.ProductQuantity)
	}
}

func TestParseTaxForms(t *testing.T) {
	cases := []struct {
		name string
		in   url.Values
		want []Tax
	}{
		{"none", url.Values{}, nil},
		{"unnumbered", url.Values{"ORDER_ITEM_TAX_NAME": {"VAT"}, "ORDER_ITEM_TAX_RATE": {"20"}}, []Tax{{"VAT", "20"}}},
		{"numbered out of order", url.Values{
			"ORDER_ITEM_TAX_NAME_10": {"J"}, "ORDER_ITEM_TAX_RATE_10": {"1"},
			"ORDER_ITEM_TAX_NAME_2": {"B"}, "ORDER_ITEM_TAX_RATE_2": {"2"},
		}, []Tax{{"B", "2"}, {"J", "1"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := Defaults(OrderCharged)
			for k, x := range tc.in {
				v[k] = x
			}
			n, err := FromValues(v)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(n.Taxes, tc.want) {
				t.Errorf("taxes %+v, want %+v", n.Taxes, tc.want)
			}
		})
	}
	v := Defaults(OrderCharged)
	v.Set("ORDER_ITEM_TAX_NAME_x", "bad")
	if _, err := FromValues(v); err == nil {
		t.Error("a tax field without a number was accepted")
	}
}

func TestAmountsExact(t *testing.T) {
	cases := []struct {
		in, cur string
		want    int64
		wantErr bool
	}{
		{"49.95", "USD", 4995, false},
		{"49.9500", "USD", 4995, false},
		{"49.9", "USD", 4990, false},
		{"0", "USD", 0, false},
		{" 12.00 ", "USD", 1200, false},
		{"-3.50", "USD", -350, false},
		{"0.29", "USD", 29, false}, // 0.29*100 is 28.999… in binary floating point
		{"1.005", "USD", 0, true},
		{"49.951", "USD", 0, true},
		{"5480", "JPY", 5480, false},
		{"5480.00", "JPY", 5480, false},
		{"5480.5", "JPY", 0, true},
		{"15.375", "KWD", 15375, false},
		{"15.3", "KWD", 15300, false},
		{"15.3755", "KWD", 0, true},
		{"", "USD", 0, true},
		{"4,99", "USD", 0, true},
		{"1e3", "USD", 0, true},
		{"+1.00", "USD", 0, true},
		{".50", "USD", 0, true},
		{"5.", "USD", 0, true},
		{"92233720368547758.08", "USD", 0, true},
		{"92233720368547758.07", "USD", 9223372036854775807, false},
		{"49.95", "usd", 0, true},
		{"49.95", "ZZZ", 0, true},
		// ISO 4217 scales that golang.org/x/text's CLDR table had wrong:
		// an IPN in these currencies must parse, not be rejected whole.
		{"1.234", "IQD", 1234, false},
		{"1000.50", "COP", 100050, false},
		{"15000.25", "IDR", 1500025, false},
		{"12000.5", "LAK", 1200050, false},
	}
	for _, tc := range cases {
		got, err := ParseAmount(tc.in, tc.cur)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("ParseAmount(%q, %s) = %d, %v; want %d, err %v", tc.in, tc.cur, got, err, tc.want, tc.wantErr)
		}
	}
	formats := []struct {
		minor int64
		cur   string
		want  string
	}{
		{4995, "USD", "49.95"}, {5, "USD", "0.05"}, {-350, "USD", "-3.50"}, {5480, "JPY", "5480"},
		{15375, "KWD", "15.375"}, {7, "KWD", "0.007"}, {0, "EUR", "0.00"},
		{-9223372036854775808, "USD", "-92233720368547758.08"},
	}
	for _, f := range formats {
		if got, err := FormatAmount(f.minor, f.cur); err != nil || got != f.want {
			t.Errorf("FormatAmount(%d, %s) = %q, %v; want %q", f.minor, f.cur, got, err, f.want)
		}
	}
	for _, file := range []struct {
		name  string
		minor int64
		cur   string
	}{{"order_JPY.form", 5480, "JPY"}, {"order_KWD.form", 15375, "KWD"}} {
		n, err := FromValues(readFixture(t, file.name))
		if err != nil {
			t.Fatalf("%s: %v", file.name, err)
		}
		wantMoney(t, file.name, n.OrderTotalAmount, file.minor, file.cur)
	}
}

func FuzzParseAmount(f *testing.F) {
	for _, s := range []string{"49.95", "0", "-1.5", "15.375", "1e3", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, cur := range []string{"USD", "JPY", "KWD"} {
			minor, err := ParseAmount(s, cur)
			if err != nil {
				continue
			}
			back, err := FormatAmount(minor, cur)
			if err != nil {
				t.Fatalf("format %d: %v", minor, err)
			}
			again, err := ParseAmount(back, cur)
			if err != nil || again != minor {
				t.Fatalf("%q → %d → %q → %d, %v", s, minor, back, again, err)
			}
		}
	})
}

func TestFromValuesRejects(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(url.Values)
	}{
		{"missing type", func(v url.Values) { v.Del("IPN_TYPE_ID") }},
		{"unassigned type 18", func(v url.Values) { v.Set("IPN_TYPE_ID", "18") }},
		{"type name contradicts id", func(v url.Values) { v.Set("IPN_TYPE_NAME", "OrderRefunded") }},
		{"type name wrong case", func(v url.Values) { v.Set("IPN_TYPE_NAME", "ordercharged") }},
		{"type name missing (the id alone is unsigned)", func(v url.Values) { v.Del("IPN_TYPE_NAME") }},
		{"missing order id", func(v url.Values) { v.Del("ORDER_ID") }},
		{"order id not an integer", func(v url.Values) { v.Set("ORDER_ID", "18304429x") }},
		{"amount with comma", func(v url.Values) { v.Set("ORDER_TOTAL_AMOUNT", "49,95") }},
		{"amount without currency", func(v url.Values) { v.Del("ORDER_CURRENCY_CODE") }},
		{"zero amount without currency, and a non-zero one", func(v url.Values) {
			v.Del("ORDER_CURRENCY_CODE")
			for k := range v {
				if strings.HasPrefix(k, "ORDER_") && (strings.Contains(k, "AMOUNT") || strings.Contains(k, "DISCOUNT") || strings.Contains(k, "PRICE")) && !strings.Contains(k, "BALANCE") {
					v.Set(k, "0.00")
				}
			}
			v.Set("ORDER_TOTAL_AMOUNT", "1.00")
		}},
		{"bad flag", func(v url.Values) { v.Set("TEST_MODE", "yes") }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := Defaults(OrderCharged)
			tc.mutate(v)
			if _, err := FromValues(v); err == nil {
				t.Error("accepted")
			}
		})
	}
	if _, err := Parse([]byte("%zz")); err == nil {
		t.Error("Parse accepted a malformed body")
	}
}

func TestZeroAmountsWithoutCurrency(t *testing.T) {
	v := Defaults(InstantLeadNotification)
	v.Del("ORDER_CURRENCY_CODE")
	for k := range v {
		if strings.HasPrefix(k, "ORDER_") && !strings.Contains(k, "BALANCE") && (strings.Contains(k, "AMOUNT") || strings.Contains(k, "DISCOUNT") || strings.Contains(k, "PRICE")) {
			v.Set(k, "0.00")
		}
	}
	n, err := FromValues(v)
	if err != nil {
		t.Fatalf("a lead notification with zero amounts and no currency: %v", err)
	}
	if !n.OrderTotalAmount.Set || n.OrderTotalAmount.Minor != 0 {
		t.Errorf("total %+v", n.OrderTotalAmount)
	}
	for _, s := range []string{"0", "00.000", "0."} {
		if zeroDecimal(s) != (s != "0.") {
			t.Errorf("zeroDecimal(%q)", s)
		}
	}
}

func TestCustomFieldsAndExtra(t *testing.T) {
	v := Defaults(OrderCharged)
	v.Set("ORDER_CUSTOM_FIELDS", "x-switchyard-session=cs_1,x-other=a=b")
	v.Set("CHECKOUT_QUERY_STRING", "products[1][id]=1&x-switchyard-ref=att_9")
	v.Set("SOMETHING_NEW", "kept")
	n, err := FromValues(v)
	if err != nil {
		t.Fatal(err)
	}
	if got := n.CustomField("x-switchyard-session"); got != "cs_1" {
		t.Errorf("session %q", got)
	}
	if got := n.CustomField("x-other"); got != "a=b" {
		t.Errorf("x-other %q", got)
	}
	if got := n.CustomField("x-switchyard-ref"); got != "att_9" {
		t.Errorf("fallback to CHECKOUT_QUERY_STRING: %q", got)
	}
	if got := n.CustomField("x-missing"); got != "" {
		t.Errorf("missing field %q", got)
	}
	if n.Extra.Get("SOMETHING_NEW") != "kept" || len(n.Extra) != 1 {
		t.Errorf("extra %v", n.Extra)
	}
}

func TestParseType(t *testing.T) {
	for in, want := range map[string]Type{"1": OrderCharged, "OrderCharged": OrderCharged, "orderrefunded": OrderRefunded, " 21 ": SubscriptionPaymentInfoChanged} {
		if got, err := ParseType(in); err != nil || got != want {
			t.Errorf("ParseType(%q) = %v, %v", in, got, err)
		}
	}
	for _, in := range []string{"18", "0", "OrderPaid", ""} {
		if _, err := ParseType(in); err == nil {
			t.Errorf("ParseType(%q) accepted", in)
		}
	}
	if Type(19).String() != "IPNType(19)" || Type(19).Valid() {
		t.Error("unknown type reported as known")
	}
}

const (
	testValidationKey = "vk_3f9a1c0e5b7d4a2e"
	testSecretKey     = "wErt6HmQ"
)

func TestSignatureMatchesReference(t *testing.T) {
	v := Defaults(OrderCharged)
	// Computed independently from the reference's formula.
	in := "18304429" + "Processed" + "49.95" + "jane.doe@example.com" + testValidationKey + "0" + "OrderCharged"
	sum := sha256.Sum256([]byte(in))
	if got := Signature(v, testValidationKey); got != hex.EncodeToString(sum[:]) {
		t.Errorf("Signature = %s, want %x", got, sum)
	}
	h := md5.Sum([]byte("456346" + "wErt6HmQ")) //nolint:gosec // the reference's example
	if got := Hash("456346", "wErt6HmQ", false); got != hex.EncodeToString(h[:]) {
		t.Errorf("Hash = %s", got)
	}
	one := md5.Sum([]byte("1")) //nolint:gosec
	if got := Hash("456346", "wErt6HmQ", true); got != hex.EncodeToString(one[:]) {
		t.Errorf("test Hash = %s", got)
	}
}

func TestVerify(t *testing.T) {
	keys := Keys{ValidationKey: testValidationKey, SecretKey: testSecretKey}
	signed := func(mutate func(url.Values)) url.Values {
		v := Defaults(OrderCharged)
		if mutate != nil {
			mutate(v)
		}
		Sign(v, keys)
		return v
	}
	cases := []struct {
		name    string
		v       url.Values
		keys    Keys
		after   func(url.Values)
		wantErr error
	}{
		{name: "valid", v: signed(nil), keys: keys},
		{name: "valid, upper-case hex digests", v: signed(nil), keys: keys, after: func(v url.Values) {
			v.Set("SIGNATURE", strings.ToUpper(v.Get("SIGNATURE")))
			v.Set("HASH", strings.ToUpper(v.Get("HASH")))
		}},
		{name: "wrong signature", v: signed(nil), keys: keys, after: func(v url.Values) {
			v.Set("SIGNATURE", Signature(v, "another-key"))
		}, wantErr: ErrSignatureMismatch},
		{name: "wrong validation key", v: signed(nil), keys: Keys{ValidationKey: "other", SecretKey: testSecretKey}, wantErr: ErrSignatureMismatch},
		{name: "tampered amount with valid hash", v: signed(nil), keys: keys, after: func(v url.Values) {
			v.Set("ORDER_TOTAL_AMOUNT", "4995.00")
		}, wantErr: ErrSignatureMismatch},
		{name: "tampered status", v: signed(nil), keys: keys, after: func(v url.Values) { v.Set("ORDER_STATUS", "Refunded") }, wantErr: ErrSignatureMismatch},
		{name: "tampered test flag", v: signed(func(v url.Values) { v.Set("TEST_MODE", "1") }), keys: keys, after: func(v url.Values) {
			v.Set("TEST_MODE", "0")
		}, wantErr: ErrSignatureMismatch},
		{name: "amount reformatted", v: signed(nil), keys: keys, after: func(v url.Values) { v.Set("ORDER_TOTAL_AMOUNT", "49.950") }, wantErr: ErrSignatureMismatch},
		{name: "missing signature", v: signed(nil), keys: keys, after: func(v url.Values) { v.Del("SIGNATURE") }, wantErr: ErrSignatureMissing},
		{name: "truncated signature", v: signed(nil), keys: keys, after: func(v url.Values) { v.Set("SIGNATURE", v.Get("SIGNATURE")[:32]) }, wantErr: ErrSignatureMismatch},
		{name: "non-hex signature", v: signed(nil), keys: keys, after: func(v url.Values) { v.Set("SIGNATURE", strings.Repeat("zz", 32)) }, wantErr: ErrSignatureMismatch},
		{name: "wrong case email", v: signed(nil), keys: keys, after: func(v url.Values) { v.Set("CUSTOMER_EMAIL", "Jane.Doe@example.com") }, wantErr: ErrSignatureMismatch},
		{name: "wrong case type name", v: signed(nil), keys: keys, after: func(v url.Values) { v.Set("IPN_TYPE_NAME", "ordercharged") }, wantErr: ErrSignatureMismatch},
		{name: "wrong case signature key", v: signed(nil), keys: Keys{ValidationKey: strings.ToUpper(testValidationKey), SecretKey: testSecretKey}, wantErr: ErrSignatureMismatch},
		{name: "missing hash", v: signed(nil), keys: keys, after: func(v url.Values) { v.Del("HASH") }, wantErr: ErrHashMissing},
		{name: "wrong hash", v: signed(nil), keys: keys, after: func(v url.Values) { v.Set("HASH", Hash("18304429", "nope", false)) }, wantErr: ErrHashMismatch},
		{name: "test hash on a live order", v: signed(nil), keys: keys, after: func(v url.Values) { v.Set("HASH", Hash("", "", true)) }, wantErr: ErrHashMismatch},
		{name: "test order uses MD5(1)", v: signed(func(v url.Values) { v.Set("TEST_MODE", "1") }), keys: keys},
		{name: "no secret key: hash not checked", v: signed(nil), keys: Keys{ValidationKey: testValidationKey}, after: func(v url.Values) { v.Set("HASH", "garbage") }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.after != nil {
				tc.after(tc.v)
			}
			err := Verify(tc.v, tc.keys)
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Errorf("Verify = %v, want %v", err, tc.wantErr)
			}
			if err != nil && (strings.Contains(err.Error(), testValidationKey) || strings.Contains(err.Error(), testSecretKey)) {
				t.Errorf("error leaks a key: %v", err)
			}
		})
	}
	if err := Verify(signed(nil), Keys{}); err == nil {
		t.Error("Verify without a validation key succeeded")
	}
}

func TestDefaultsParse(t *testing.T) {
	for _, ty := range Types() {
		v := Defaults(ty)
		Sign(v, Keys{ValidationKey: testValidationKey, SecretKey: testSecretKey})
		n, err := FromValues(v)
		if err != nil {
			t.Errorf("%s: %v", ty, err)
			continue
		}
		if n.TypeID != ty || Verify(v, Keys{ValidationKey: testValidationKey, SecretKey: testSecretKey}) != nil {
			t.Errorf("%s: type %v or signature broken", ty, n.TypeID)
		}
	}
}
