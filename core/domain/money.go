package domain

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	isocurrency "github.com/bojanz/currency"
)

// Currency is an upper-case ISO 4217 code. Values that did not come from
// ParseCurrency are not trusted: every function here re-checks them.
type Currency string

// Money is an exact amount in the currency's minor units (cents for USD, yen
// for JPY, fils for KWD). Floats never hold money anywhere in Switchyard.
type Money struct {
	Amount   int64
	Currency Currency
}

// String renders m as "49.95 USD" for logs and messages.
func (m Money) String() string {
	return FormatAmount(m.Amount, m.Currency) + " " + string(m.Currency)
}

// ParseMoney parses a decimal amount string and a currency code, as they
// arrive in the merchant API, into a positive Money.
func ParseMoney(amount, code string) (Money, error) {
	c, err := ParseCurrency(code)
	if err != nil {
		return Money{}, err
	}
	v, err := ParseAmount(amount, c)
	if err != nil {
		return Money{}, err
	}
	return Money{Amount: v, Currency: c}, nil
}

// notPayable are codes on the ISO 4217 current list (list one) that no
// shopper pays in: funds and index units ISO lists beside the currency of
// the same country (BOV, CHE, CHW, CLF, COU, MXV, USN, UYI, UYW) and the Arab
// Monetary Fund's accounting dinar (XAD). Precious metals, XDR, XTS and XXX
// have no minor unit ("N.A.") and are not in the table at all.
func notPayable(code string) bool {
	switch code {
	case "BOV", "CHE", "CHW", "CLF", "COU", "MXV", "USN", "UYI", "UYW", "XAD":
		return true
	}
	return false
}

// iso4217Digits is the minor-unit count of an upper-case code on the ISO
// 4217 current list, from github.com/bojanz/currency, whose table is
// generated from ISO's published list one (its CcyMnrUnts column) and kept
// current upstream. golang.org/x/text/currency is not used: its CLDR table
// (2017) has 0 for IDR, COP, IQD and others where ISO has 2 or 3.
func iso4217Digits(code string) (int, bool) {
	if len(code) != 3 || strings.ToUpper(code) != code || notPayable(code) {
		return 0, false
	}
	d, ok := isocurrency.GetDigits(code)
	if !ok {
		return 0, false
	}
	return int(d), true
}

// ParseCurrency accepts an ISO 4217 code in any letter case and returns it
// upper-cased. Only codes on ISO's current list that are paid in (not
// funds or units of account) are accepted.
func ParseCurrency(s string) (Currency, error) {
	if len(s) != 3 {
		return "", Invalid("invalid_currency", "currency", "currency must be a 3-letter ISO 4217 code")
	}
	up := strings.ToUpper(s)
	if _, ok := iso4217Digits(up); !ok {
		if notPayable(up) {
			return "", Invalid("invalid_currency", "currency", "currency %s is not accepted: it is a fund or unit of account, not a currency shoppers pay in", up)
		}
		return "", Invalid("invalid_currency", "currency", "currency %q is not a current ISO 4217 code", s)
	}
	return Currency(up), nil
}

// Valid reports whether c is an accepted currency in canonical form.
func (c Currency) Valid() bool {
	_, ok := iso4217Digits(string(c))
	return ok
}

// Scale is the number of minor-unit decimals ISO 4217 gives c (USD 2, JPY 0,
// KWD 3, IQD 3, IDR 2). It is -1 for an invalid currency (including a
// lower-case spelling, which ParseCurrency never returns) so that a bug
// cannot silently treat an unknown code as having cents.
func (c Currency) Scale() int {
	d, ok := iso4217Digits(string(c))
	if !ok {
		return -1
	}
	return d
}

// Currencies lists every accepted currency code, sorted.
func Currencies() []Currency {
	var out []Currency
	for _, code := range isocurrency.GetCurrencyCodes() {
		if c := Currency(code); c.Valid() {
			out = append(out, c)
		}
	}
	slices.Sort(out)
	return out
}

// maxAmountLen bounds the input before any arithmetic; int64 has 19 digits,
// so anything longer overflows anyway and is not worth scanning.
const maxAmountLen = 32

// ParseAmount parses a positive decimal amount exactly into c's minor units.
//
// The grammar is deliberately narrow, so one amount has one spelling and
// nothing depends on locale: digits, optionally a point followed by at most
// Scale() digits. Rejected: empty, signs ("+1", "-1"), exponents ("1e3"),
// spaces, thousands separators ("1,000", "1_000"), a bare leading or trailing
// point (".5", "1."; JSON numbers forbid them too), leading zeros ("01.00",
// to keep a canonical form; "0.50" is fine), more decimals than the currency
// has even if they are zeros ("49.950" USD), zero, and values beyond int64.
// Fewer decimals are padded: "49.9" USD is 4990.
func ParseAmount(s string, c Currency) (int64, error) {
	v, err := ParseMinorUnits(s, c)
	if err != nil {
		return 0, err
	}
	if v == 0 {
		return 0, Invalid("invalid_amount", "amount", "amount must be greater than zero")
	}
	return v, nil
}

// ParseMinorUnits is ParseAmount without the positivity rule, for bounds in
// configuration where "0" is meaningful.
func ParseMinorUnits(s string, c Currency) (int64, error) {
	scale := c.Scale()
	if scale < 0 {
		return 0, Invalid("invalid_currency", "currency", "currency %q is not a valid ISO 4217 code", string(c))
	}
	return parseDecimal(s, scale, string(c))
}

// parseDecimal does the exact parse for a known scale; name is only used in
// the message about too many decimals.
func parseDecimal(s string, scale int, name string) (int64, error) {
	if s == "" {
		return 0, Invalid("invalid_amount", "amount", "amount is required")
	}
	if len(s) > maxAmountLen {
		return 0, Invalid("invalid_amount", "amount", "amount is too large")
	}
	if s[0] == '-' || s[0] == '+' {
		return 0, Invalid("invalid_amount", "amount", "amount must be a plain positive decimal without a sign")
	}
	intPart, frac, hasPoint := strings.Cut(s, ".")
	if !allDigits(intPart) || !allDigits(frac) {
		return 0, Invalid("invalid_amount", "amount", `amount must be a decimal string like "49.95"`)
	}
	if intPart == "" {
		return 0, Invalid("invalid_amount", "amount", `amount must start with a digit (write "0.5", not ".5")`)
	}
	if hasPoint && frac == "" {
		return 0, Invalid("invalid_amount", "amount", "amount must not end with a decimal point")
	}
	if len(intPart) > 1 && intPart[0] == '0' {
		return 0, Invalid("invalid_amount", "amount", "amount must not have leading zeros")
	}
	if len(frac) > scale {
		return 0, Invalid("invalid_amount", "amount", "%s allows %d decimals, got %d", name, scale, len(frac))
	}
	var v int64
	for _, digits := range []string{intPart, frac} {
		for i := 0; i < len(digits); i++ {
			var ok bool
			if v, ok = mulAdd(v, int64(digits[i]-'0')); !ok {
				return 0, Invalid("invalid_amount", "amount", "amount is too large")
			}
		}
	}
	for i := len(frac); i < scale; i++ {
		var ok bool
		if v, ok = mulAdd(v, 0); !ok {
			return 0, Invalid("invalid_amount", "amount", "amount is too large")
		}
	}
	return v, nil
}

// mulAdd returns v*10+d, reporting false on int64 overflow.
func mulAdd(v, d int64) (int64, bool) {
	if v > (math.MaxInt64-d)/10 {
		return 0, false
	}
	return v*10 + d, true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// FormatAmount renders minor units as the canonical decimal string that
// ParseAmount accepts: always exactly Scale() decimals ("49.90", "500",
// "1.234"). An invalid currency is rendered with no decimals.
func FormatAmount(minor int64, c Currency) string {
	return formatDecimal(minor, max(c.Scale(), 0))
}

func formatDecimal(minor int64, scale int) string {
	neg := minor < 0
	// Work on the magnitude as uint64 so MinInt64 does not overflow.
	mag := uint64(minor)
	if neg {
		mag = -mag
	}
	digits := strconv.FormatUint(mag, 10)
	if scale > 0 {
		if len(digits) <= scale {
			digits = strings.Repeat("0", scale-len(digits)+1) + digits
		}
		digits = digits[:len(digits)-scale] + "." + digits[len(digits)-scale:]
	}
	if neg {
		return "-" + digits
	}
	return digits
}

// MaxScale is the largest minor-unit count on the ISO 4217 list (4: CLF and
// UYW, which are not paid in; payable currencies have at most 3). Keeping it
// tight leaves room for bounds up to ~9.2e14 major units.
const MaxScale = 4

// MajorAmount is a non-negative decimal in major units that is not tied to a
// currency, such as a configured bound ("0.50", "999999.99") that applies to
// whatever currency a session uses. It is parsed once; converting it to a
// currency's minor units is then exact integer arithmetic.
type MajorAmount struct {
	text   string
	scaled int64 // value × 10^MaxScale
}

// ParseMajorAmount parses a decimal with at most MaxScale decimals, using the
// same strict grammar as ParseAmount but allowing zero.
func ParseMajorAmount(s string) (MajorAmount, error) {
	v, err := parseDecimal(s, MaxScale, "a bound")
	if err != nil {
		msg := err.Error()
		if de, ok := AsError(err); ok {
			msg = de.Message
		}
		return MajorAmount{}, fmt.Errorf("decimal %q: %s: %w", s, msg, ErrInvalid)
	}
	return MajorAmount{text: s, scaled: v}, nil
}

// String returns the amount as it was written.
func (a MajorAmount) String() string { return a.text }

// FloorMinor is the largest whole number of minor units (of a currency with
// the given scale) not above a: an integer amount is <= a exactly when it is
// <= FloorMinor. Scales outside 0..MaxScale are clamped.
func (a MajorAmount) FloorMinor(scale int) int64 {
	return a.scaled / pow10(MaxScale-clampScale(scale))
}

// CeilMinor is the smallest whole number of minor units not below a: an
// integer amount is >= a exactly when it is >= CeilMinor.
func (a MajorAmount) CeilMinor(scale int) int64 {
	d := pow10(MaxScale - clampScale(scale))
	q := a.scaled / d
	if a.scaled%d != 0 {
		q++
	}
	return q
}

func clampScale(scale int) int { return min(max(scale, 0), MaxScale) }

func pow10(n int) int64 {
	p := int64(1)
	for range n {
		p *= 10
	}
	return p
}

// AmountLimit is an upper bound given in major units ("1000000" means one
// million of whatever currency the session uses), parsed once from config.
// The zero value means no limit.
type AmountLimit struct {
	max MajorAmount
	set bool
}

// ParseAmountLimit parses a configured maximum such as "1000000" or
// "999999.99". An empty string means no limit.
func ParseAmountLimit(s string) (AmountLimit, error) {
	if s == "" {
		return AmountLimit{}, nil
	}
	m, err := ParseMajorAmount(s)
	if err != nil {
		return AmountLimit{}, fmt.Errorf("max amount: %w", err)
	}
	return AmountLimit{max: m, set: true}, nil
}

// Max returns the limit in c's minor units and whether a limit applies.
func (l AmountLimit) Max(c Currency) (int64, bool) {
	sc := c.Scale()
	if !l.set || sc < 0 {
		return 0, false
	}
	return l.max.FloorMinor(sc), true
}

// Check returns an invalid_amount error when minor exceeds the limit.
func (l AmountLimit) Check(minor int64, c Currency) error {
	limit, ok := l.Max(c)
	if !ok || minor <= limit {
		return nil
	}
	return Invalid("invalid_amount", "amount", "amount must be at most %s %s", FormatAmount(limit, c), c)
}

// String returns the limit as configured, or "" when there is none.
func (l AmountLimit) String() string { return l.max.text }
