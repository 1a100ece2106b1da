package stripeprovider

import (
	"math"
	"strings"

	"github.com/bojanz/currency"

	"github.com/switchyard/switchyard/sdk"
)

// Stripe's amount rules (https://docs.stripe.com/currencies, "Minor units in
// API amounts", "Zero-decimal", "Three-decimal" and "Special cases"):
//
//   - Every currency is two-decimal in the API unless listed below.
//   - Zero-decimal currencies take whole units.
//   - Three-decimal currencies take thousandths, but the last digit must be 0
//     for compatibility with Stripe's payment partners.
//   - ISK is effectively zero-decimal but stays two-decimal in the API for
//     backwards compatibility: amounts must be divisible by 100.
//   - HUF and TWD are zero-decimal for payouts only; charges take two-decimal
//     amounts, so no extra rule applies to Checkout.
//   - UGX is on the zero-decimal list for charges (its two-decimal special
//     case concerns payouts only).
//
// Switchyard amounts are minor units at ISO 4217's scale (the published
// list, through github.com/bojanz/currency, which the core parses merchant
// amounts with too), which is not always Stripe's: IQD is three-decimal in
// ISO but two-decimal at Stripe, ISK and UGX zero-decimal in ISO. Conversion
// therefore goes through the two scales, and an amount that cannot be
// represented exactly is rejected rather than rounded: rounding money
// silently would charge the shopper something other than what the merchant
// asked for.
var (
	zeroDecimal = set("BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF",
		"UGX", "VND", "VUV", "XAF", "XOF", "XPF")
	threeDecimal = set("BHD", "JOD", "KWD", "OMR", "TND")
	// wholeUnitsInTwoDecimal are two-decimal in the API but only accept whole
	// units (amount divisible by 100).
	wholeUnitsInTwoDecimal = set("ISK")
)

func set(codes ...string) map[string]bool {
	m := make(map[string]bool, len(codes))
	for _, c := range codes {
		m[c] = true
	}
	return m
}

// stripeScale is the number of decimals Stripe's API uses for code.
func stripeScale(code string) int {
	switch {
	case zeroDecimal[code]:
		return 0
	case threeDecimal[code]:
		return 3
	}
	return 2
}

// switchyardScale is the minor-unit scale of code in Switchyard, or -1 for a
// code that is not ISO 4217.
func switchyardScale(code string) int {
	if len(code) != 3 || strings.ToUpper(code) != code {
		return -1
	}
	d, ok := currency.GetDigits(code)
	if !ok {
		return -1
	}
	return int(d)
}

func validCurrency(code string) bool { return switchyardScale(code) >= 0 }

func pow10(n int) int64 {
	p := int64(1)
	for range n {
		p *= 10
	}
	return p
}

// toStripeAmount converts minor units of code to the integer Stripe's API
// expects, enforcing Stripe's per-currency rules.
func toStripeAmount(amount int64, code string) (int64, error) {
	sw := switchyardScale(code)
	if sw < 0 {
		return 0, sdk.Invalid("currency %q is not an upper-case ISO 4217 code", code).
			WithField("currency").WithCode("invalid_currency")
	}
	if amount <= 0 {
		return 0, sdk.Invalid("amount must be positive, got %d", amount).WithField("amount").WithCode("invalid_amount")
	}
	st := stripeScale(code)
	var out int64
	switch {
	case st >= sw:
		f := pow10(st - sw)
		if amount > math.MaxInt64/f {
			return 0, sdk.Invalid("amount %d %s is too large", amount, code).WithField("amount").WithCode("invalid_amount")
		}
		out = amount * f
	default:
		f := pow10(sw - st)
		if amount%f != 0 {
			return 0, sdk.Invalid("stripe charges %s in whole units: %d minor units is not a multiple of %d", code, amount, f).
				WithField("amount").WithCode("invalid_amount")
		}
		out = amount / f
	}
	if threeDecimal[code] && out%10 != 0 {
		return 0, sdk.Invalid("stripe requires %s amounts to end in 0 (a multiple of 0.010), got %d", code, amount).
			WithField("amount").WithCode("invalid_amount")
	}
	if wholeUnitsInTwoDecimal[code] && out%100 != 0 {
		return 0, sdk.Invalid("stripe charges %s in whole units only, got %d", code, amount).
			WithField("amount").WithCode("invalid_amount")
	}
	return out, nil
}

// fromStripeAmount converts an amount reported by Stripe in code back to
// Switchyard minor units. exact is false when Stripe's amount has precision
// Switchyard's scale cannot hold (only possible for amounts not created by
// this plugin); the value is then truncated toward zero.
func fromStripeAmount(amount int64, code string) (minor int64, exact bool) {
	sw := switchyardScale(code)
	if sw < 0 {
		return amount, false
	}
	st := stripeScale(code)
	if st >= sw {
		f := pow10(st - sw)
		return amount / f, amount%f == 0
	}
	return amount * pow10(sw-st), true
}
