package ipn

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/bojanz/currency"
)

// Money is an exact amount in minor units of Currency (4995 USD is 49.95).
// Set is false when the IPN did not carry the field at all, which differs
// from a present zero (PayPro zeroes amounts on test orders).
type Money struct {
	Minor    int64
	Currency string
	Set      bool
}

// String formats m as PayPro writes amounts ("49.95 USD").
func (m Money) String() string {
	if !m.Set {
		return ""
	}
	s, err := FormatAmount(m.Minor, m.Currency)
	if err != nil {
		return strconv.FormatInt(m.Minor, 10) + " minor units " + m.Currency
	}
	return s + " " + m.Currency
}

// Scale is the number of decimals of an ISO 4217 currency (USD 2, JPY 0,
// KWD 3, IQD 3), from ISO's published list (github.com/bojanz/currency),
// the same table the core parses merchant amounts with. The code must be
// upper-case.
func Scale(code string) (int, error) {
	if len(code) != 3 || strings.ToUpper(code) != code {
		return 0, fmt.Errorf("ipn: currency %q is not an upper-case ISO 4217 code", code)
	}
	d, ok := currency.GetDigits(code)
	if !ok {
		return 0, fmt.Errorf("ipn: unknown currency %q", code)
	}
	return int(d), nil
}

// ParseAmount decodes a decimal amount ("49.95", "-3.5", "1500") into minor
// units of code. Extra fraction digits are accepted only when they are
// zeros ("49.9500"), so no amount is ever rounded.
func ParseAmount(s, code string) (int64, error) {
	scale, err := Scale(code)
	if err != nil {
		return 0, err
	}
	raw := s
	s = strings.TrimSpace(s)
	neg := false
	if strings.HasPrefix(s, "-") {
		neg, s = true, s[1:]
	}
	whole, frac, hasDot := strings.Cut(s, ".")
	if whole == "" || !digits(whole) || (hasDot && (frac == "" || !digits(frac))) {
		return 0, fmt.Errorf("ipn: %q is not a decimal amount", raw)
	}
	if len(frac) > scale {
		if strings.Trim(frac[scale:], "0") != "" {
			return 0, fmt.Errorf("ipn: %q has more than %d decimals for %s", raw, scale, code)
		}
		frac = frac[:scale]
	}
	frac += strings.Repeat("0", scale-len(frac))
	var v int64
	for _, c := range whole + frac {
		d := int64(c - '0')
		if v > (math.MaxInt64-d)/10 {
			return 0, fmt.Errorf("ipn: amount %q is out of range", raw)
		}
		v = v*10 + d
	}
	if neg {
		v = -v
	}
	return v, nil
}

// FormatAmount writes minor units of code as a decimal with the currency's
// scale (4995 USD → "49.95", 1500 JPY → "1500", 12345 KWD → "12.345").
func FormatAmount(minor int64, code string) (string, error) {
	scale, err := Scale(code)
	if err != nil {
		return "", err
	}
	sign := ""
	u := uint64(minor)
	if minor < 0 {
		sign, u = "-", uint64(-(minor+1))+1
	}
	s := strconv.FormatUint(u, 10)
	if scale == 0 {
		return sign + s, nil
	}
	if len(s) <= scale {
		s = strings.Repeat("0", scale-len(s)+1) + s
	}
	return sign + s[:len(s)-scale] + "." + s[len(s)-scale:], nil
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
