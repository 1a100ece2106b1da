package ipn

import (
	"fmt"
	"net/url"
	"sort"
	"strings"
)

// FromCheckout fills v with what PayPro would report for an order placed
// through checkoutURL: the x- custom fields (ORDER_CUSTOM_FIELDS), the raw
// query (CHECKOUT_QUERY_STRING), product, currency, billing email, the
// dynamic price (as unit price and totals, without tax) and, for a test
// checkout (use-test-mode=true) or a v already marked TEST_MODE=1, every
// amount zeroed as PayPro does for test orders. Refund amounts already in v
// are capped to the new total (a full refund, OrderRefunded, refunds all of
// it). The simulator uses it to answer a real checkout.
func FromCheckout(v url.Values, checkoutURL string) error {
	u, err := url.Parse(checkoutURL)
	if err != nil {
		return fmt.Errorf("ipn: checkout url: %w", err)
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return fmt.Errorf("ipn: checkout url query: %w", err)
	}
	var custom []string
	for k := range q {
		if strings.HasPrefix(k, "x-") {
			custom = append(custom, k+"="+q.Get(k))
		}
	}
	sort.Strings(custom)
	v.Set(FieldCustomFields, strings.Join(custom, ","))
	v.Set(FieldCheckoutQuery, u.RawQuery)
	if id := q.Get("products[1][id]"); id != "" {
		v.Set("PRODUCT_ID", id)
	}
	// OrderCustomerInformationChanged reports the email that replaced the
	// one the checkout was opened with.
	if e := q.Get("billing-email"); e != "" && v.Get(FieldTypeID) != fmt.Sprint(int(OrderCustomerInformationChanged)) {
		v.Set(FieldCustomerEmail, e)
	}
	cur := q.Get("currency")
	price := ""
	for k := range q {
		if c, ok := strings.CutPrefix(k, "products[1][price]["); ok {
			if c, ok = strings.CutSuffix(c, "][amount]"); ok {
				cur, price = c, q.Get(k)
			}
		}
	}
	if cur != "" {
		v.Set("ORDER_CURRENCY_CODE", cur)
	}
	test := q.Get("use-test-mode") == "true" || v.Get(FieldTestMode) == "1"
	if test {
		v.Set(FieldTestMode, "1")
	}
	if price == "" && !test {
		return nil
	}
	if test {
		price = "0"
	}
	minor, err := ParseAmount(price, v.Get("ORDER_CURRENCY_CODE"))
	if err != nil {
		return err
	}
	total, _ := FormatAmount(minor, v.Get("ORDER_CURRENCY_CODE"))
	zero, _ := FormatAmount(0, v.Get("ORDER_CURRENCY_CODE"))
	v.Set("PRODUCT_QUANTITY", "1")
	for _, k := range []string{"ORDER_ITEM_UNIT_PRICE", "ORDER_ITEM_TOTAL_AMOUNT", FieldTotalAmount, "ORDER_TOTAL_AMOUNT_SHOWN", "ORDER_TOTAL_AMOUNT_WITH_TAXES_SHOWN"} {
		v.Set(k, total)
	}
	v.Set("ORDER_TAXES_AMOUNT", zero)
	full := v.Get(FieldTypeID) == fmt.Sprint(int(OrderRefunded))
	for _, k := range []string{"ORDER_REFUNDED", "ORDER_ITEM_REFUNDED"} {
		if full {
			v.Set(k, total)
		} else if r := v.Get(k); r != "" {
			if rm, err := ParseAmount(r, v.Get("ORDER_CURRENCY_CODE")); err != nil || rm > minor {
				v.Set(k, total)
			}
		}
	}
	if test {
		for k := range v {
			if strings.Contains(k, "AMOUNT") || strings.Contains(k, "REFUNDED") || strings.HasSuffix(k, "_DISCOUNT") {
				v.Set(k, zeroFor(k, v))
			}
		}
	}
	return nil
}

func zeroFor(k string, v url.Values) string {
	cur := v.Get("ORDER_CURRENCY_CODE")
	if strings.Contains(k, "BALANCE_CURRENCY") {
		cur = v.Get("VENDOR_BALANCE_CURRENCY_CODE")
	}
	if k == "SUBSCRIPTION_NEXT_CHARGE_AMOUNT" {
		cur = v.Get("SUBSCRIPTION_NEXT_CHARGE_CURRENCY_CODE")
	}
	z, err := FormatAmount(0, cur)
	if err != nil {
		return "0"
	}
	return z
}
