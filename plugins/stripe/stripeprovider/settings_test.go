package stripeprovider

import (
	"strings"
	"testing"

	"github.com/switchyard/switchyard/sdk"
)

func TestConfigureRejectsInvalidSettings(t *testing.T) {
	const secretish = "sk_live_SECRETVALUE123456789"
	cases := []struct {
		name  string
		edit  func(map[string]string)
		field string
	}{
		{"missing secret key", func(m map[string]string) { delete(m, SettingSecretKey) }, SettingSecretKey},
		{"publishable key", func(m map[string]string) { m[SettingSecretKey] = "pk_test_abcdef" }, SettingSecretKey},
		{"live key in test mode", func(m map[string]string) { m[SettingSecretKey] = secretish }, SettingSecretKey},
		{"test key in live mode", func(m map[string]string) { m[SettingMode] = ModeLive }, SettingSecretKey},
		{"restricted live key in test mode", func(m map[string]string) { m[SettingSecretKey] = "rk_live_SECRETVALUE1234" }, SettingSecretKey},
		{"bad mode", func(m map[string]string) { m[SettingMode] = "prod" }, SettingMode},
		{"missing webhook secrets", func(m map[string]string) { delete(m, SettingWebhookSecrets) }, SettingWebhookSecrets},
		{"blank webhook secrets", func(m map[string]string) { m[SettingWebhookSecrets] = " , " }, SettingWebhookSecrets},
		{"short webhook secret", func(m map[string]string) { m[SettingWebhookSecrets] = testWhsec + ",whsec_SHORT" }, SettingWebhookSecrets},
		{"descriptor too long", func(m map[string]string) { m[SettingStatementDescriptor] = strings.Repeat("A", 23) }, SettingStatementDescriptor},
		{"descriptor forbidden char", func(m map[string]string) { m[SettingStatementDescriptor] = "ACME*SHOP" }, SettingStatementDescriptor},
		{"descriptor no letter", func(m map[string]string) { m[SettingStatementDescriptor] = "12345" }, SettingStatementDescriptor},
		{"api base not a url", func(m map[string]string) { m[SettingAPIBase] = "localhost:12111" }, SettingAPIBase},
		{"connect base with query", func(m map[string]string) { m[SettingConnectBase] = "https://c.test/?x=1" }, SettingConnectBase},
		{"client id", func(m map[string]string) { m[SettingConnectClientID] = "client_1" }, SettingConnectClientID},
		{"start secret short", func(m map[string]string) { m[SettingConnectStartSecret] = "short" }, SettingConnectStartSecret},
		{"version policy", func(m map[string]string) { m[SettingAPIVersionPolicy] = "reject" }, SettingAPIVersionPolicy},
		{"eu country", func(m map[string]string) { m[SettingEUBankCountry] = "US" }, SettingEUBankCountry},
		{"unknown method", func(m map[string]string) { m["method_paypal"] = "paypal" }, "method_paypal"},
		{"empty method types", func(m map[string]string) { m["method_card"] = " , " }, "method_card"},
		{"bad method type", func(m map[string]string) { m["method_wallet"] = "card,Apple Pay" }, "method_wallet"},
		{"unknown key", func(m map[string]string) { m["webhook_secret"] = testWhsec }, "webhook_secret"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := baseSettings("http://127.0.0.1:1")
			c.edit(m)
			err := New().Configure(ctx(t), m)
			e, ok := sdk.AsError(err)
			if !ok || e.Category != sdk.CategoryInvalidInput {
				t.Fatalf("Configure = %v, want invalid input", err)
			}
			if e.Field != c.field {
				t.Errorf("field %q, want %q (%v)", e.Field, c.field, err)
			}
			for _, secret := range []string{testSecretKey, testWhsec, secretish, "SECRETVALUE"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error echoes a secret: %v", err)
				}
			}
		})
	}
}

func TestConfigureAccepts(t *testing.T) {
	m := baseSettings("http://127.0.0.1:1")
	m[SettingWebhookSecrets] = testWhsec + ", " + testWhsecOld
	m[SettingMode] = ModeLive
	m[SettingSecretKey] = "rk_live_restrictedkey0000000"
	m["method_bank_transfer"] = "us_bank_account"
	m["method_wallet"] = "card, link"
	m[SettingStatementDescriptor] = "ACME HOSTING"
	m[SettingAPIVersionPolicy] = VersionPolicyWarn
	s, err := parseSettings(m)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.webhookSecrets) != 2 || s.mode != ModeLive || s.versionPolicy != VersionPolicyWarn {
		t.Errorf("parsed %+v", s)
	}
	if got := strings.Join(s.methodTypes[MethodWallet], ","); got != "card,link" {
		t.Errorf("wallet types %q", got)
	}
	if got := strings.Join(s.methodTypes[MethodBankTransfer], ","); got != "us_bank_account" {
		t.Errorf("bank transfer types %q", got)
	}
	if got := strings.Join(s.methodTypes[MethodCard], ","); got != "card" {
		t.Errorf("card default %q", got)
	}
	if len(s.stateKey) == 0 {
		t.Error("no derived state key")
	}
}
