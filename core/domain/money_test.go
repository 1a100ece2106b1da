package domain

import (
	"errors"
	"strconv"
	"strings"
	"testing"
)

func TestParseCurrency(t *testing.T) {
	tests := []struct {
		in      string
		want    Currency
		wantErr bool
	}{
		{in: "USD", want: "USD"},
		{in: "usd", want: "USD"},
		{in: "eUr", want: "EUR"},
		{in: "JPY", want: "JPY"},
		{in: "KWD", want: "KWD"},
		{in: "XOF", want: "XOF"}, // CFA franc: an X-code that is real money
		{in: "", wantErr: true},
		{in: "US", wantErr: true},
		{in: "USDD", wantErr: true},
		{in: " USD", wantErr: true},
		{in: "ABC", wantErr: true},
		{in: "XXX", wantErr: true}, // "no currency"
		{in: "XTS", wantErr: true}, // reserved for testing
		{in: "XAU", wantErr: true}, // gold
		{in: "CLF", wantErr: true}, // a fund (index unit), not paid in
		{in: "XAD", wantErr: true}, // a unit of account
		{in: "IQD", want: "IQD"},
		{in: "ZWG", want: "ZWG"},   // recent (2024) addition to the list
		{in: "DEM", wantErr: true}, // withdrawn
		{in: "12$", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseCurrency(tt.in)
			if tt.wantErr {
				assertDomainError(t, err, "invalid_currency", "currency")
				return
			}
			if err != nil {
				t.Fatalf("ParseCurrency(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Fatalf("ParseCurrency(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// TestISO4217MinorUnits pins minor units from ISO 4217's published list
// one, including the currencies golang.org/x/text's CLDR table (2017) had
// wrong (IQD 0, IDR 0, COP 0, LAK 0, RSD 0, LBP 0, MMK 0, ALL 0).
func TestISO4217MinorUnits(t *testing.T) {
	tests := []struct {
		c    Currency
		want int
	}{
		{"IQD", 3}, {"KWD", 3}, {"BHD", 3}, {"JOD", 3}, {"OMR", 3}, {"TND", 3}, {"LYD", 3},
		{"JPY", 0}, {"KRW", 0}, {"CLP", 0}, {"ISK", 0}, {"UGX", 0}, {"XOF", 0}, {"VND", 0},
		{"IDR", 2}, {"COP", 2}, {"LAK", 2}, {"RSD", 2}, {"LBP", 2}, {"MMK", 2}, {"ALL", 2},
		{"USD", 2}, {"EUR", 2},
		// Not accepted: -1 whatever ISO says.
		{"usd", -1}, {"XXX", -1}, {"XTS", -1}, {"XAU", -1}, {"", -1}, {"ZZZ", -1},
		{"CLF", -1}, {"USN", -1}, {"DEM", -1},
	}
	for _, tt := range tests {
		if got := tt.c.Scale(); got != tt.want {
			t.Errorf("%q.Scale() = %d, want %d", tt.c, got, tt.want)
		}
	}
}

// The merchant amounts the CLDR table refused are valid at ISO scale.
func TestParseMoneyAtISOScale(t *testing.T) {
	for _, tc := range []struct {
		amount, cur string
		want        int64
	}{
		{"1000.50", "COP", 100050}, {"1.234", "IQD", 1234}, {"15000.25", "IDR", 1500025},
		{"1.234", "KWD", 1234}, {"500", "JPY", 500}, {"49.95", "usd", 4995},
	} {
		m, err := ParseMoney(tc.amount, tc.cur)
		if err != nil || m.Amount != tc.want {
			t.Errorf("ParseMoney(%q, %q) = %+v, %v; want %d", tc.amount, tc.cur, m, err, tc.want)
		}
	}
	if _, err := ParseMoney("1.5", "JPY"); err == nil {
		t.Error("1.5 JPY accepted")
	}
}

// Every accepted currency must fit AmountLimit's per-scale table, and the
// list must look like ISO's (about 150 currencies).
func TestEveryCurrencyScaleFits(t *testing.T) {
	all := Currencies()
	for _, c := range all {
		if _, err := ParseCurrency(string(c)); err != nil {
			t.Fatalf("listed currency %s rejected: %v", c, err)
		}
		if s := c.Scale(); s < 0 || s > MaxScale {
			t.Errorf("%s scale %d outside 0..%d", c, s, MaxScale)
		}
	}
	if len(all) < 140 {
		t.Fatalf("only %d currencies; the ISO table looks wrong", len(all))
	}
}

func TestParseAmount(t *testing.T) {
	tests := []struct {
		in      string
		c       Currency
		want    int64
		wantMsg string // substring of the error message; empty means success
	}{
		{in: "49.95", c: "USD", want: 4995},
		{in: "49.9", c: "USD", want: 4990},
		{in: "49", c: "USD", want: 4900},
		{in: "0.01", c: "USD", want: 1},
		{in: "0.50", c: "USD", want: 50},
		{in: "500", c: "JPY", want: 500},
		{in: "1.234", c: "KWD", want: 1234},
		{in: "1.2", c: "KWD", want: 1200},
		{in: "92233720368547758.07", c: "USD", want: 9223372036854775807},
		{in: "9223372036854775807", c: "JPY", want: 9223372036854775807},

		{in: "49.955", c: "USD", wantMsg: "USD allows 2 decimals, got 3"},
		{in: "49.950", c: "USD", wantMsg: "USD allows 2 decimals, got 3"},
		{in: "500.0", c: "JPY", wantMsg: "JPY allows 0 decimals, got 1"},
		{in: "1.2345", c: "KWD", wantMsg: "KWD allows 3 decimals, got 4"},
		{in: "", c: "USD", wantMsg: "required"},
		{in: "-1", c: "USD", wantMsg: "sign"},
		{in: "+1", c: "USD", wantMsg: "sign"},
		{in: "1e3", c: "USD", wantMsg: "decimal string"},
		{in: " 1", c: "USD", wantMsg: "decimal string"},
		{in: "1 ", c: "USD", wantMsg: "decimal string"},
		{in: "1.", c: "USD", wantMsg: "decimal point"},
		{in: ".5", c: "USD", wantMsg: "start with a digit"},
		{in: ".", c: "USD", wantMsg: "start with a digit"},
		{in: "0", c: "USD", wantMsg: "greater than zero"},
		{in: "0.00", c: "USD", wantMsg: "greater than zero"},
		{in: "01.00", c: "USD", wantMsg: "leading zeros"},
		{in: "00", c: "USD", wantMsg: "leading zeros"},
		{in: "1,000.00", c: "USD", wantMsg: "decimal string"},
		{in: "1_000", c: "USD", wantMsg: "decimal string"},
		{in: "1.2.3", c: "USD", wantMsg: "decimal string"},
		{in: "0x10", c: "USD", wantMsg: "decimal string"},
		{in: "١٢", c: "USD", wantMsg: "decimal string"}, // non-ASCII digits
		{in: "NaN", c: "USD", wantMsg: "decimal string"},
		{in: "92233720368547758.08", c: "USD", wantMsg: "too large"},
		{in: "9223372036854775808", c: "JPY", wantMsg: "too large"},
		{in: strings.Repeat("9", 40), c: "USD", wantMsg: "too large"},
	}
	for _, tt := range tests {
		t.Run(string(tt.c)+"/"+tt.in, func(t *testing.T) {
			got, err := ParseAmount(tt.in, tt.c)
			if tt.wantMsg != "" {
				de := assertDomainError(t, err, "invalid_amount", "amount")
				if !strings.Contains(de.Message, tt.wantMsg) {
					t.Fatalf("message %q does not contain %q", de.Message, tt.wantMsg)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseAmount(%q, %s): %v", tt.in, tt.c, err)
			}
			if got != tt.want {
				t.Fatalf("ParseAmount(%q, %s) = %d, want %d", tt.in, tt.c, got, tt.want)
			}
		})
	}
}

func TestParseAmountInvalidCurrency(t *testing.T) {
	for _, c := range []Currency{"", "usd", "XXX", "ABC"} {
		_, err := ParseAmount("1.00", c)
		assertDomainError(t, err, "invalid_currency", "currency")
	}
}

func TestParseMinorUnitsAllowsZero(t *testing.T) {
	for _, in := range []string{"0", "0.00", "0.0"} {
		v, err := ParseMinorUnits(in, "USD")
		if err != nil || v != 0 {
			t.Errorf("ParseMinorUnits(%q) = %d, %v; want 0, nil", in, v, err)
		}
	}
}

func TestParseMoney(t *testing.T) {
	m, err := ParseMoney("49.95", "usd")
	if err != nil {
		t.Fatal(err)
	}
	if m != (Money{Amount: 4995, Currency: "USD"}) {
		t.Fatalf("got %+v", m)
	}
	if got := m.String(); got != "49.95 USD" {
		t.Fatalf("String() = %q", got)
	}
	_, err = ParseMoney("49.95", "usdx")
	assertDomainError(t, err, "invalid_currency", "currency")
	_, err = ParseMoney("49.955", "USD")
	assertDomainError(t, err, "invalid_amount", "amount")
}

func TestFormatAmount(t *testing.T) {
	tests := []struct {
		minor int64
		c     Currency
		want  string
	}{
		{4995, "USD", "49.95"},
		{4990, "USD", "49.90"},
		{1, "USD", "0.01"},
		{0, "USD", "0.00"},
		{-5, "USD", "-0.05"},
		{-4995, "USD", "-49.95"},
		{500, "JPY", "500"},
		{1234, "KWD", "1.234"},
		{7, "KWD", "0.007"},
		{9223372036854775807, "USD", "92233720368547758.07"},
		{-9223372036854775808, "USD", "-92233720368547758.08"},
		{123, "XXX", "123"},
	}
	for _, tt := range tests {
		if got := FormatAmount(tt.minor, tt.c); got != tt.want {
			t.Errorf("FormatAmount(%d, %s) = %q, want %q", tt.minor, tt.c, got, tt.want)
		}
	}
}

func TestAmountLimit(t *testing.T) {
	l, err := ParseAmountLimit("1000.5")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		minor int64
		c     Currency
		ok    bool
	}{
		{100050, "USD", true},
		{100051, "USD", false},
		{1000, "JPY", true},  // floor(1000.5) yen
		{1001, "JPY", false}, // above 1000.5
		{1000500, "KWD", true},
		{1000501, "KWD", false},
	}
	for _, tt := range tests {
		err := l.Check(tt.minor, tt.c)
		if tt.ok && err != nil {
			t.Errorf("Check(%d %s): %v", tt.minor, tt.c, err)
		}
		if !tt.ok {
			de := assertDomainError(t, err, "invalid_amount", "amount")
			if !strings.Contains(de.Message, "at most") {
				t.Errorf("message %q", de.Message)
			}
		}
	}
	if max, ok := l.Max("USD"); !ok || max != 100050 {
		t.Errorf("Max(USD) = %d, %v", max, ok)
	}

	none, err := ParseAmountLimit("")
	if err != nil {
		t.Fatal(err)
	}
	if err := none.Check(1<<62, "USD"); err != nil {
		t.Errorf("empty limit must not restrict: %v", err)
	}

	for _, bad := range []string{"-1", "1e6", "abc", "1.", "1.123456789"} {
		if _, err := ParseAmountLimit(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseAmountLimit(%q) err = %v, want ErrInvalid", bad, err)
		}
	}
}

func FuzzParseAmount(f *testing.F) {
	for _, s := range []string{"49.95", "49.9", "500", "1.234", "0.01", "01", ".5", "1e3", "-1", "92233720368547758.07", "9223372036854775808"} {
		f.Add(s, uint8(0))
		f.Add(s, uint8(1))
		f.Add(s, uint8(2))
	}
	currencies := []Currency{"USD", "JPY", "KWD"}
	f.Fuzz(func(t *testing.T, s string, ci uint8) {
		c := currencies[int(ci)%len(currencies)]
		v, err := ParseAmount(s, c)
		if err != nil {
			if _, ok := AsError(err); !ok {
				t.Fatalf("ParseAmount(%q) returned a non-domain error %T", s, err)
			}
			return
		}
		if v <= 0 {
			t.Fatalf("ParseAmount(%q, %s) = %d, accepted a non-positive amount", s, c, v)
		}
		out := FormatAmount(v, c)
		// Accepted input is the canonical form, possibly with fewer decimals.
		if !strings.HasPrefix(out, s) {
			t.Fatalf("FormatAmount(ParseAmount(%q)) = %q, not an extension of the input", s, out)
		}
		back, err := ParseAmount(out, c)
		if err != nil || back != v {
			t.Fatalf("round trip %q -> %d -> %q -> %d, %v", s, v, out, back, err)
		}
		// Cross-check the value without the parser: strip the point and pad.
		digits := strings.Replace(out, ".", "", 1)
		want, perr := strconv.ParseInt(digits, 10, 64)
		if perr != nil || want != v {
			t.Fatalf("%q parsed to %d, strconv says %d (%v)", s, v, want, perr)
		}
	})
}

func assertDomainError(t *testing.T, err error, code, field string) *Error {
	t.Helper()
	if err == nil {
		t.Fatalf("want %s error, got nil", code)
	}
	de, ok := AsError(err)
	if !ok {
		t.Fatalf("want *domain.Error, got %T: %v", err, err)
	}
	if de.Code != code || de.Field != field {
		t.Fatalf("got code %q field %q, want %q %q (%s)", de.Code, de.Field, code, field, de.Message)
	}
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("error %v is not ErrInvalid", err)
	}
	return de
}

func TestMajorAmountBounds(t *testing.T) {
	tests := []struct {
		in          string
		scale       int
		floor, ceil int64
	}{
		{"0.50", 2, 50, 50},
		{"0.50", 0, 0, 1},
		{"0.50", 3, 500, 500},
		{"10000", 0, 10000, 10000},
		{"10000", 2, 1000000, 1000000},
		{"1.2345", 2, 123, 124},
		{"1.2345", 4, 12345, 12345},
		{"0", 2, 0, 0},
		{"1.5", -1, 1, 2}, // clamped to scale 0
	}
	for _, tt := range tests {
		a, err := ParseMajorAmount(tt.in)
		if err != nil {
			t.Fatalf("ParseMajorAmount(%q): %v", tt.in, err)
		}
		if f, c := a.FloorMinor(tt.scale), a.CeilMinor(tt.scale); f != tt.floor || c != tt.ceil {
			t.Errorf("%q at scale %d: floor %d ceil %d, want %d %d", tt.in, tt.scale, f, c, tt.floor, tt.ceil)
		}
		if a.String() != tt.in {
			t.Errorf("String() = %q", a.String())
		}
	}
	for _, bad := range []string{"", "-1", "1.23456", "1e2", "01"} {
		if _, err := ParseMajorAmount(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseMajorAmount(%q) = %v, want ErrInvalid", bad, err)
		}
	}
}
