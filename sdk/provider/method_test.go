package provider_test

import (
	"testing"

	"github.com/switchyard/switchyard/sdk/provider"
)

func TestMethodAccepts(t *testing.T) {
	m := provider.Method{
		Method: "card", Currencies: []string{"USD", "JPY"}, Countries: []string{"US", "JP"},
		Limits: []provider.AmountLimit{{Currency: "JPY", Min: 50, Max: 1_000_000}, {Min: 100}},
	}
	cases := []struct {
		name     string
		currency string
		country  string
		amount   int64
		want     bool
	}{
		{"usd in range", "USD", "US", 100, true},
		{"usd below fallback min", "USD", "US", 99, false},
		{"jpy own limit", "JPY", "JP", 50, true},
		{"jpy above max", "JPY", "JP", 1_000_001, false},
		{"currency not listed", "EUR", "US", 500, false},
		{"country not listed", "USD", "DE", 500, false},
		{"country unknown", "USD", "", 500, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := m.Accepts(tc.currency, tc.country, tc.amount); got != tc.want {
				t.Errorf("Accepts(%s, %s, %d) = %v, want %v", tc.currency, tc.country, tc.amount, got, tc.want)
			}
		})
	}
	if !(provider.Method{Method: "any"}).Accepts("KWD", "KW", 1) {
		t.Error("a method without restrictions must accept everything")
	}
}

func TestEventTypes(t *testing.T) {
	seen := map[provider.EventType]bool{}
	for _, e := range provider.EventTypes() {
		if seen[e] || !e.Valid() {
			t.Errorf("event type %q duplicated or invalid", e)
		}
		seen[e] = true
	}
	if provider.EventType("payment.maybe").Valid() {
		t.Error("unknown event type reported valid")
	}
	if !provider.PaymentSucceeded.MovesMoney() || provider.PaymentProcessing.MovesMoney() {
		t.Error("MovesMoney wrong for payment.succeeded / payment.processing")
	}
}

func TestAccountEventsDoNotMoveMoney(t *testing.T) {
	for _, e := range []provider.EventType{provider.AccountConnected, provider.AccountDisconnected} {
		if !e.Valid() || e.MovesMoney() {
			t.Errorf("%s: valid %v, moves money %v", e, e.Valid(), e.MovesMoney())
		}
	}
}
