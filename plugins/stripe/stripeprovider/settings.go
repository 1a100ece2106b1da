package stripeprovider

import (
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/switchyard/switchyard/sdk"
)

// Setting keys (the tags of config name them too); secret values are never
// echoed in errors.
const (
	SettingSecretKey           = "secret_key"
	SettingWebhookSecrets      = "webhook_secrets"
	SettingMode                = "mode"
	SettingStatementDescriptor = "statement_descriptor"
	SettingAPIBase             = "api_base"
	SettingConnectClientID     = "connect_client_id"
	SettingConnectBase         = "connect_base"
	SettingConnectStartSecret  = "connect_start_secret"
	SettingConnectStateSecret  = "connect_state_secret"
	SettingAPIVersionPolicy    = "api_version_policy"
	SettingEUBankCountry       = "eu_bank_transfer_country"
	// settingMethodPrefix + a Switchyard method names the Stripe
	// payment_method_types for it: method_card=card, method_wallet=card,link.
	settingMethodPrefix = "method_"
)

// Modes.
const (
	ModeTest = "test"
	ModeLive = "live"
)

// API-version policies for inbound events.
const (
	// VersionPolicyAccept processes events of any API version and logs a
	// mismatch at debug level.
	VersionPolicyAccept = "accept"
	// VersionPolicyWarn processes them too but logs a mismatch as a warning,
	// for operators who want to notice a webhook endpoint left on an old
	// version.
	VersionPolicyWarn = "warn"
)

// Switchyard methods this provider offers.
const (
	MethodCard         = "card"
	MethodWallet       = "wallet"
	MethodBankTransfer = "bank_transfer"
)

// defaultMethodTypes maps each Switchyard method to Stripe payment method
// types when no method_* setting overrides it.
var defaultMethodTypes = map[string][]string{
	MethodCard:         {"card"},
	MethodWallet:       {"card", "link"},
	MethodBankTransfer: {"customer_balance"},
}

// minWebhookSecretLen rejects obviously truncated secrets; Stripe's whsec_
// secrets are far longer.
const minWebhookSecretLen = 16

var (
	stripeTypeName  = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	descriptorChars = regexp.MustCompile(`^[^<>\\'"*]+$`)
	hasLetter       = regexp.MustCompile(`[A-Za-z]`)
)

// settings is the parsed, validated configuration of one instance.
type settings struct {
	secretKey           string
	webhookSecrets      [][]byte
	mode                string
	methodTypes         map[string][]string
	statementDescriptor string
	apiBase             string
	connectClientID     string
	connectBase         string
	connectStartSecret  []byte
	stateKey            []byte
	versionPolicy       string
	euBankCountry       string
}

// config is the instance's settings as operators write them; parseSettings
// checks what the tags cannot say and turns it into settings.
type config struct {
	SecretKey           string              `setting:"secret_key,required,secret"`
	WebhookSecrets      []string            `setting:"webhook_secrets,required,secret"`
	Mode                string              `setting:"mode" default:"test"`
	StatementDescriptor string              `setting:"statement_descriptor"`
	APIBase             url.URL             `setting:"api_base" default:"https://api.stripe.com"`
	ConnectClientID     string              `setting:"connect_client_id"`
	ConnectBase         url.URL             `setting:"connect_base" default:"https://connect.stripe.com"`
	ConnectStartSecret  string              `setting:"connect_start_secret,secret"`
	ConnectStateSecret  string              `setting:"connect_state_secret,secret"`
	VersionPolicy       string              `setting:"api_version_policy" default:"accept"`
	EUBankCountry       string              `setting:"eu_bank_transfer_country"`
	MethodTypes         map[string][]string `setting:"method_*"`
}

// parseSettings validates in. Unknown keys are rejected (by
// sdk.DecodeSettings) so that a typo (webhook_secret for webhook_secrets)
// fails loudly instead of silently disabling verification.
func parseSettings(in map[string]string) (settings, error) {
	var c config
	if err := sdk.DecodeSettings(in, &c); err != nil {
		return settings{}, err
	}
	s := settings{
		secretKey:           c.SecretKey,
		mode:                c.Mode,
		methodTypes:         maps.Clone(defaultMethodTypes),
		statementDescriptor: c.StatementDescriptor,
		connectClientID:     c.ConnectClientID,
		connectStartSecret:  []byte(c.ConnectStartSecret),
		versionPolicy:       c.VersionPolicy,
		euBankCountry:       c.EUBankCountry,
	}
	if s.mode != ModeTest && s.mode != ModeLive {
		return settings{}, sdk.InvalidSetting(SettingMode, "must be %q or %q, got %q", ModeTest, ModeLive, s.mode)
	}
	if err := checkSecretKey(s.secretKey, s.mode); err != nil {
		return settings{}, err
	}
	for _, secret := range c.WebhookSecrets {
		if len(secret) < minWebhookSecretLen {
			return settings{}, sdk.InvalidSetting(SettingWebhookSecrets, "each secret must be at least %d characters (a whsec_… value from the Stripe dashboard)", minWebhookSecretLen)
		}
		s.webhookSecrets = append(s.webhookSecrets, []byte(secret))
	}
	if len(s.webhookSecrets) == 0 {
		return settings{}, sdk.InvalidSetting(SettingWebhookSecrets, "at least one webhook signing secret is required")
	}
	if d := s.statementDescriptor; d != "" && (len(d) > 22 || !descriptorChars.MatchString(d) || !hasLetter.MatchString(d)) {
		return settings{}, sdk.InvalidSetting(SettingStatementDescriptor, "must be at most 22 characters with at least one letter and none of < > \\ ' \" *")
	}
	var err error
	if s.apiBase, err = baseURL(SettingAPIBase, c.APIBase); err != nil {
		return settings{}, err
	}
	if s.connectBase, err = baseURL(SettingConnectBase, c.ConnectBase); err != nil {
		return settings{}, err
	}
	if id := s.connectClientID; id != "" && !strings.HasPrefix(id, "ca_") {
		return settings{}, sdk.InvalidSetting(SettingConnectClientID, "must be a Connect client id starting with ca_")
	}
	if n := len(c.ConnectStartSecret); n > 0 && n < 32 {
		return settings{}, sdk.InvalidSetting(SettingConnectStartSecret, "must be at least 32 characters")
	}
	switch n := len(c.ConnectStateSecret); {
	case n == 0:
		s.stateKey = deriveKey([]byte(s.secretKey), "switchyard stripe connect state v1")
	case n < 32:
		return settings{}, sdk.InvalidSetting(SettingConnectStateSecret, "must be at least 32 characters")
	default:
		s.stateKey = []byte(c.ConnectStateSecret)
	}
	if s.versionPolicy != VersionPolicyAccept && s.versionPolicy != VersionPolicyWarn {
		return settings{}, sdk.InvalidSetting(SettingAPIVersionPolicy, "must be %q or %q, got %q", VersionPolicyAccept, VersionPolicyWarn, s.versionPolicy)
	}
	switch s.euBankCountry {
	case "", "BE", "DE", "ES", "FR", "IE", "NL":
	default:
		return settings{}, sdk.InvalidSetting(SettingEUBankCountry, "must be one of BE, DE, ES, FR, IE, NL, got %q", s.euBankCountry)
	}
	for _, method := range slices.Sorted(maps.Keys(c.MethodTypes)) {
		key := settingMethodPrefix + method
		if _, known := defaultMethodTypes[method]; !known {
			return settings{}, sdk.InvalidSetting(key, "%q is not a method this provider offers (card, wallet, bank_transfer)", method)
		}
		types := c.MethodTypes[method]
		if len(types) == 0 {
			return settings{}, sdk.InvalidSetting(key, "needs at least one Stripe payment method type")
		}
		for _, t := range types {
			if !stripeTypeName.MatchString(t) {
				return settings{}, sdk.InvalidSetting(key, "%q is not a Stripe payment method type", t)
			}
		}
		s.methodTypes[method] = types
	}
	return s, nil
}

// checkSecretKey requires a key whose prefix matches the mode, so a live key
// never lands in a test instance or the other way round.
func checkSecretKey(key, mode string) error {
	if key == "" {
		return sdk.InvalidSetting(SettingSecretKey, "is required")
	}
	var live bool
	switch {
	case strings.HasPrefix(key, "sk_test_"), strings.HasPrefix(key, "rk_test_"):
	case strings.HasPrefix(key, "sk_live_"), strings.HasPrefix(key, "rk_live_"):
		live = true
	default:
		return sdk.InvalidSetting(SettingSecretKey, "must be a secret key (sk_test_…, sk_live_…) or restricted key (rk_…)")
	}
	if live != (mode == ModeLive) {
		return sdk.InvalidSetting(SettingSecretKey, "a %s key does not match mode %q", map[bool]string{true: "live", false: "test"}[live], mode)
	}
	return nil
}

// baseURL accepts an API base without query or fragment, as the text stripe-go
// prefixes to its paths.
func baseURL(key string, u url.URL) (string, error) {
	if u.RawQuery != "" || u.Fragment != "" {
		return "", sdk.InvalidSetting(key, "must be an absolute http(s) URL without query, got %q", u.String())
	}
	return strings.TrimRight(u.String(), "/"), nil
}
