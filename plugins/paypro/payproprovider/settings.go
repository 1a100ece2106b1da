package payproprovider

import (
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	"github.com/switchyard/switchyard/sdk"
)

// Setting keys. Values are strings because the host passes a map; secret
// values are never echoed in errors.
const (
	SettingSecretKey      = "secret_key"
	SettingValidationKey  = "validation_key"
	SettingDefaultProduct = "default_product"
	SettingDynamicPrice   = "dynamic_price"
	SettingTestMode       = "test_mode"
	SettingIPNDomain      = "ipn_domain"
	SettingIPAllowlist    = "ip_allowlist"
	SettingTrustedProxies = "trusted_proxies"
	SettingCheckoutBase   = "checkout_base"
	// Refunds through PayPro's API (Orders/DoRefund, Orders/DoPartialRefund)
	// need both the vendor account id and the API secret key; api_base
	// overrides PayPro's API address (tests point it at a local fake).
	SettingVendorAccountID = "vendor_account_id"
	SettingAPISecretKey    = "api_secret_key"
	SettingAPIBase         = "api_base"
	// settingProductPrefix + a Switchyard method names the PayPro product
	// sold for that method: product_card=68452.
	settingProductPrefix = "product_"
)

// DefaultCheckoutBase is PayPro's hosted checkout.
const DefaultCheckoutBase = "https://store.payproglobal.com/checkout"

// AllowlistOff disables the source address check (for a proxy that cannot
// forward the client address, or for local testing).
const AllowlistOff = "off"

// DefaultIPAllowlist are the addresses PayPro documents as the only sources
// of IPNs.
func DefaultIPAllowlist() []string {
	return []string{"198.199.123.239", "157.230.8.40", "2604:a880:400:d0::1843:7001", "2604:a880:400:d1::b6c:c001"}
}

// Switchyard methods this provider offers. PayPro's checkout lets the
// shopper pick the concrete method; the product per method lets a merchant
// price or brand them differently.
const (
	MethodCard         = "card"
	MethodWallet       = "wallet"
	MethodPayPal       = "paypal"
	MethodBankTransfer = "bank_transfer"
)

var methodLabels = []struct{ method, label string }{
	{MethodCard, "Card (PayPro Global)"},
	{MethodWallet, "Apple Pay / Google Pay (PayPro Global)"},
	{MethodPayPal, "PayPal (PayPro Global)"},
	{MethodBankTransfer, "Bank transfer (PayPro Global)"},
}

func knownMethod(m string) bool {
	for _, l := range methodLabels {
		if l.method == m {
			return true
		}
	}
	return false
}

// settings is the parsed, validated configuration of one instance.
type settings struct {
	keys           keys
	defaultProduct string
	products       map[string]string
	dynamicPrice   bool
	testMode       bool
	ipnDomain      string
	guard          ipGuard
	checkoutBase   *url.URL
	// api is nil unless refunds through the API are configured.
	api *apiConfig
}

// apiConfig is what the API client is built from.
type apiConfig struct {
	base     *url.URL
	vendorID int64
	secret   string
}

// keys holds the two PayPro secrets.
type keys struct {
	secret     string
	validation string
}

func parseSettings(in map[string]string) (settings, error) {
	s := settings{products: map[string]string{}, dynamicPrice: true}
	for k, v := range in {
		switch k {
		case SettingSecretKey, SettingValidationKey, SettingDefaultProduct, SettingDynamicPrice, SettingTestMode,
			SettingIPNDomain, SettingIPAllowlist, SettingTrustedProxies, SettingCheckoutBase,
			SettingVendorAccountID, SettingAPISecretKey, SettingAPIBase:
		default:
			method, ok := strings.CutPrefix(k, settingProductPrefix)
			if !ok || !knownMethod(method) {
				return settings{}, sdk.Invalid("unknown setting %q", k).WithField(k)
			}
			id, err := productID(k, v)
			if err != nil {
				return settings{}, err
			}
			s.products[method] = id
		}
	}
	s.keys = keys{secret: strings.TrimSpace(in[SettingSecretKey]), validation: strings.TrimSpace(in[SettingValidationKey])}
	if s.keys.validation == "" {
		return settings{}, sdk.Invalid("setting %s is required: PayPro signs every IPN with it (Store Settings → General settings → Integration)", SettingValidationKey).WithField(SettingValidationKey)
	}
	var err error
	if raw := in[SettingDefaultProduct]; raw != "" {
		if s.defaultProduct, err = productID(SettingDefaultProduct, raw); err != nil {
			return settings{}, err
		}
	}
	if s.dynamicPrice, err = boolSetting(in, SettingDynamicPrice, true); err != nil {
		return settings{}, err
	}
	if s.testMode, err = boolSetting(in, SettingTestMode, false); err != nil {
		return settings{}, err
	}
	if s.testMode && s.keys.secret == "" {
		return settings{}, sdk.Invalid("setting %s is required when %s is on: PayPro's test checkout needs it", SettingSecretKey, SettingTestMode).WithField(SettingSecretKey)
	}
	if d := strings.TrimSpace(in[SettingIPNDomain]); d != "" {
		if !validHost(d) {
			return settings{}, sdk.Invalid("setting %s must be a bare host name such as ipn.example.com, got %q", SettingIPNDomain, d).WithField(SettingIPNDomain)
		}
		s.ipnDomain = strings.ToLower(d)
	}
	if s.guard, err = parseGuard(in[SettingIPAllowlist], in[SettingTrustedProxies]); err != nil {
		return settings{}, err
	}
	base := DefaultCheckoutBase
	if raw := strings.TrimSpace(in[SettingCheckoutBase]); raw != "" {
		base = raw
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return settings{}, sdk.Invalid("setting %s must be an absolute http(s) URL without query, got %q", SettingCheckoutBase, base).WithField(SettingCheckoutBase)
	}
	s.checkoutBase = u
	if s.api, err = parseAPI(in); err != nil {
		return settings{}, err
	}
	return s, nil
}

// parseAPI reads the refund API settings: both credentials or neither.
func parseAPI(in map[string]string) (*apiConfig, error) {
	vendor, secret := strings.TrimSpace(in[SettingVendorAccountID]), strings.TrimSpace(in[SettingAPISecretKey])
	switch {
	case vendor == "" && secret == "":
		return nil, nil
	case vendor == "":
		return nil, sdk.Invalid("setting %s is required with %s (PayPro: Account settings → Business info)", SettingVendorAccountID, SettingAPISecretKey).
			WithField(SettingVendorAccountID)
	case secret == "":
		return nil, sdk.Invalid("setting %s is required with %s (PayPro: Store settings → General settings → Integration)", SettingAPISecretKey, SettingVendorAccountID).
			WithField(SettingAPISecretKey)
	}
	id, err := strconv.ParseInt(vendor, 10, 64)
	if err != nil || id <= 0 {
		return nil, sdk.Invalid("setting %s must be PayPro's vendor account id (a positive integer), got %q", SettingVendorAccountID, vendor).
			WithField(SettingVendorAccountID)
	}
	base := DefaultAPIBase
	if raw := strings.TrimSpace(in[SettingAPIBase]); raw != "" {
		base = raw
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, sdk.Invalid("setting %s must be an absolute http(s) URL without query, got %q", SettingAPIBase, base).WithField(SettingAPIBase)
	}
	return &apiConfig{base: u, vendorID: id, secret: secret}, nil
}

func productID(key, raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	if n, err := strconv.ParseInt(raw, 10, 64); err != nil || n <= 0 {
		return "", sdk.Invalid("setting %s must be a PayPro product id (a positive integer), got %q", key, raw).WithField(key)
	}
	return raw, nil
}

func boolSetting(in map[string]string, key string, def bool) (bool, error) {
	raw := strings.TrimSpace(in[key])
	if raw == "" {
		return def, nil
	}
	b, err := strconv.ParseBool(raw)
	if err != nil {
		return false, sdk.Invalid("setting %s must be true or false, got %q", key, raw).WithField(key)
	}
	return b, nil
}

// validHost accepts a DNS name (PayPro filters its IPN URL list by it).
func validHost(h string) bool {
	if len(h) > 253 || strings.ContainsAny(h, "/:?#@ ") || strings.HasPrefix(h, ".") || strings.HasSuffix(h, ".") {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || strings.HasPrefix(label, "-") || strings.HasSuffix(label, "-") {
			return false
		}
		for _, c := range label {
			if !(c == '-' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
				return false
			}
		}
	}
	return true
}

// parsePrefixes reads comma- or space-separated addresses and CIDRs.
func parsePrefixes(key, raw string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.FieldsFunc(raw, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\t' }) {
		if p, err := netip.ParsePrefix(f); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, sdk.Invalid("setting %s: %q is neither an IP address nor a CIDR", key, f).WithField(key)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}
