package stripeprovider

import (
	"net/url"
	"regexp"
	"sort"
	"strings"

	"github.com/switchyard/switchyard/sdk"
)

// Setting keys. Values are strings because the host passes settings as a
// map; secret values are never echoed in errors.
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

func invalidSetting(key, format string, args ...any) error {
	return sdk.Invalid("setting "+key+": "+format, args...).WithField(key).WithCode("invalid_setting")
}

// parseSettings validates in. Unknown keys are rejected so that a typo
// (webhook_secret for webhook_secrets) fails loudly instead of silently
// disabling verification.
func parseSettings(in map[string]string) (settings, error) {
	s := settings{
		mode:          ModeTest,
		methodTypes:   map[string][]string{},
		apiBase:       "https://api.stripe.com",
		connectBase:   "https://connect.stripe.com",
		versionPolicy: VersionPolicyAccept,
	}
	for m, types := range defaultMethodTypes {
		s.methodTypes[m] = types
	}

	keys := make([]string, 0, len(in))
	for k := range in {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := strings.TrimSpace(in[k])
		switch k {
		case SettingSecretKey:
			s.secretKey = v
		case SettingWebhookSecrets:
			for _, part := range strings.Split(v, ",") {
				part = strings.TrimSpace(part)
				if part == "" {
					continue
				}
				if len(part) < minWebhookSecretLen {
					return settings{}, invalidSetting(k, "each secret must be at least %d characters (a whsec_… value from the Stripe dashboard)", minWebhookSecretLen)
				}
				s.webhookSecrets = append(s.webhookSecrets, []byte(part))
			}
		case SettingMode:
			if v != ModeTest && v != ModeLive {
				return settings{}, invalidSetting(k, "must be %q or %q, got %q", ModeTest, ModeLive, v)
			}
			s.mode = v
		case SettingStatementDescriptor:
			if v == "" {
				continue
			}
			if len(v) > 22 || !descriptorChars.MatchString(v) || !hasLetter.MatchString(v) {
				return settings{}, invalidSetting(k, "must be at most 22 characters with at least one letter and none of < > \\ ' \" *")
			}
			s.statementDescriptor = v
		case SettingAPIBase:
			if err := checkBaseURL(k, v); err != nil {
				return settings{}, err
			}
			s.apiBase = strings.TrimRight(v, "/")
		case SettingConnectBase:
			if err := checkBaseURL(k, v); err != nil {
				return settings{}, err
			}
			s.connectBase = strings.TrimRight(v, "/")
		case SettingConnectClientID:
			if v != "" && !strings.HasPrefix(v, "ca_") {
				return settings{}, invalidSetting(k, "must be a Connect client id starting with ca_")
			}
			s.connectClientID = v
		case SettingConnectStartSecret:
			if v != "" && len(v) < 32 {
				return settings{}, invalidSetting(k, "must be at least 32 characters")
			}
			s.connectStartSecret = []byte(v)
		case SettingConnectStateSecret:
			if v != "" && len(v) < 32 {
				return settings{}, invalidSetting(k, "must be at least 32 characters")
			}
			if v != "" {
				s.stateKey = []byte(v)
			}
		case SettingAPIVersionPolicy:
			if v != VersionPolicyAccept && v != VersionPolicyWarn {
				return settings{}, invalidSetting(k, "must be %q or %q, got %q", VersionPolicyAccept, VersionPolicyWarn, v)
			}
			s.versionPolicy = v
		case SettingEUBankCountry:
			switch v {
			case "", "BE", "DE", "ES", "FR", "IE", "NL":
			default:
				return settings{}, invalidSetting(k, "must be one of BE, DE, ES, FR, IE, NL, got %q", v)
			}
			s.euBankCountry = v
		default:
			method, ok := strings.CutPrefix(k, settingMethodPrefix)
			if !ok {
				return settings{}, sdk.Invalid("unknown setting %q", k).WithField(k).WithCode("invalid_setting")
			}
			if _, known := defaultMethodTypes[method]; !known {
				return settings{}, invalidSetting(k, "%q is not a method this provider offers (card, wallet, bank_transfer)", method)
			}
			types, err := parseMethodTypes(k, v)
			if err != nil {
				return settings{}, err
			}
			s.methodTypes[method] = types
		}
	}

	if err := checkSecretKey(s.secretKey, s.mode); err != nil {
		return settings{}, err
	}
	if len(s.webhookSecrets) == 0 {
		return settings{}, invalidSetting(SettingWebhookSecrets, "at least one webhook signing secret is required")
	}
	if s.stateKey == nil {
		s.stateKey = deriveKey([]byte(s.secretKey), "switchyard stripe connect state v1")
	}
	return s, nil
}

// checkSecretKey requires a key whose prefix matches the mode, so a live key
// never lands in a test instance or the other way round.
func checkSecretKey(key, mode string) error {
	if key == "" {
		return invalidSetting(SettingSecretKey, "is required")
	}
	var live bool
	switch {
	case strings.HasPrefix(key, "sk_test_"), strings.HasPrefix(key, "rk_test_"):
	case strings.HasPrefix(key, "sk_live_"), strings.HasPrefix(key, "rk_live_"):
		live = true
	default:
		return invalidSetting(SettingSecretKey, "must be a secret key (sk_test_…, sk_live_…) or restricted key (rk_…)")
	}
	if live != (mode == ModeLive) {
		return invalidSetting(SettingSecretKey, "a %s key does not match mode %q", map[bool]string{true: "live", false: "test"}[live], mode)
	}
	return nil
}

func checkBaseURL(key, v string) error {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" {
		return invalidSetting(key, "must be an absolute http(s) URL without query, got %q", v)
	}
	return nil
}

func parseMethodTypes(key, v string) ([]string, error) {
	var types []string
	for _, t := range strings.Split(v, ",") {
		t = strings.TrimSpace(t)
		if t == "" {
			continue
		}
		if !stripeTypeName.MatchString(t) {
			return nil, invalidSetting(key, "%q is not a Stripe payment method type", t)
		}
		types = append(types, t)
	}
	if len(types) == 0 {
		return nil, invalidSetting(key, "needs at least one Stripe payment method type")
	}
	return types, nil
}
