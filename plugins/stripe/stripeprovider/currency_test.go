package stripeprovider

import (
	"testing"

	"github.com/switchyard/switchyard/sdk"
)

// Each table is one of Stripe's documented currency rules.
func TestToStripeAmount(t *testing.T) {
	type tc struct {
		cur     string
		minor   int64
		want    int64
		wantErr bool
	}
	run := func(t *testing.T, cases []tc) {
		t.Helper()
		for _, c := range cases {
			got, err := toStripeAmount(c.minor, c.cur)
			if c.wantErr {
				if err == nil {
					t.Errorf("%d %s: got %d, want an error", c.minor, c.cur, got)
				} else if sdk.CategoryOf(err) != sdk.CategoryInvalidInput {
					t.Errorf("%d %s: category %q, want invalid_input", c.minor, c.cur, sdk.CategoryOf(err))
				}
				continue
			}
			if err != nil || got != c.want {
				t.Errorf("%d %s = %d, %v; want %d", c.minor, c.cur, got, err, c.want)
			}
		}
	}
	t.Run("two-decimal default", func(t *testing.T) {
		run(t, []tc{{"USD", 4995, 4995, false}, {"EUR", 1, 1, false}, {"GBP", 100000, 100000, false}})
	})
	t.Run("zero-decimal list", func(t *testing.T) {
		var cases []tc
		for _, cur := range []string{"BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF"} {
			cases = append(cases, tc{cur, 500, 500, false})
		}
		run(t, cases)
	})
	t.Run("zero-decimal at Stripe, two-decimal in ISO", func(t *testing.T) {
		// MGA has 2 minor-unit digits in ISO 4217: 5.00 MGA is 500 minor
		// units and 5 at Stripe; 5.50 MGA cannot be charged.
		run(t, []tc{{"MGA", 500, 5, false}, {"MGA", 550, 0, true}})
	})
	t.Run("three-decimal last digit zero", func(t *testing.T) {
		var cases []tc
		for _, cur := range []string{"BHD", "JOD", "KWD", "OMR", "TND"} {
			cases = append(cases, tc{cur, 5120, 5120, false}, tc{cur, 5124, 0, true}, tc{cur, 10, 10, false}, tc{cur, 1, 0, true})
		}
		run(t, cases)
	})
	t.Run("ISK two-decimal in API, whole units", func(t *testing.T) {
		// ISK has no minor unit in Switchyard; 5 ISK is 500 at Stripe.
		run(t, []tc{{"ISK", 5, 500, false}, {"ISK", 1234, 123400, false}})
	})
	t.Run("HUF and TWD charge two-decimal", func(t *testing.T) {
		// Only payouts are zero-decimal; charges keep fractions.
		run(t, []tc{{"HUF", 17550, 17550, false}, {"TWD", 1050, 1050, false}})
	})
	t.Run("UGX zero-decimal for charges", func(t *testing.T) {
		run(t, []tc{{"UGX", 37000, 37000, false}})
	})
	t.Run("scale differs from ISO data", func(t *testing.T) {
		// ISO 4217 has IQD at 3 decimals; Stripe treats it as two-decimal,
		// so 1.500 IQD is 150 and 1.505 IQD cannot be charged. COP and IDR
		// are two-decimal in both.
		run(t, []tc{{"IQD", 1500, 150, false}, {"IQD", 1505, 0, true}, {"COP", 100050, 100050, false}, {"IDR", 1500025, 1500025, false}})
	})
	t.Run("invalid", func(t *testing.T) {
		run(t, []tc{{"USD", 0, 0, true}, {"USD", -1, 0, true}, {"usd", 100, 0, true}, {"ZZQ", 100, 0, true}, {"", 100, 0, true},
			{"IQD", 1 << 62, 0, true}})
	})
}

func TestFromStripeAmount(t *testing.T) {
	cases := []struct {
		cur   string
		in    int64
		want  int64
		exact bool
	}{
		{"USD", 4995, 4995, true},
		{"JPY", 500, 500, true},
		{"KWD", 5120, 5120, true},
		{"ISK", 500, 5, true},
		{"ISK", 550, 5, false},
		{"HUF", 17550, 17550, true},
		{"IQD", 150000, 1500000, true},
		{"MGA", 5, 500, true},
	}
	for _, c := range cases {
		got, exact := fromStripeAmount(c.in, c.cur)
		if got != c.want || exact != c.exact {
			t.Errorf("fromStripeAmount(%d, %s) = %d, %v; want %d, %v", c.in, c.cur, got, exact, c.want, c.exact)
		}
	}
	// Round trip for every currency Describe offers.
	for _, cur := range cardCurrencies() {
		if !validCurrency(cur) {
			t.Errorf("card currency %s is not on the ISO 4217 current list", cur)
			continue
		}
		minor := int64(1000)
		st, err := toStripeAmount(minor, cur)
		if err != nil {
			t.Errorf("%s: %v", cur, err)
			continue
		}
		if back, exact := fromStripeAmount(st, cur); back != minor || !exact {
			t.Errorf("%s: round trip %d -> %d -> %d", cur, minor, st, back)
		}
	}
}
