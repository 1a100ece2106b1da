package payproprovider

import (
	"maps"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/switchyard/switchyard/sdk"
)

// Setting keys (the tags of config name them too); secret values are never
// echoed in errors.
const (
	SettingSecretKey      = "secret_key"
	SettingValidationKey  = "validation_key"
	SettingDefaultProduct = "default_product"
	SettingDynamicPrice   = "dynamic_price"
	// SettingPricesIncludeTax says whether the PayPro store's prices include
	// the sales tax PayPro collects (see confirmedAmount).
	SettingPricesIncludeTax = "prices_include_tax"
	SettingTestMode         = "test_mode"
	SettingIPNDomain        = "ipn_domain"
	SettingIPAllowlist      = "ip_allowlist"
	SettingTrustedProxies   = "trusted_proxies"
	SettingCheckoutBase     = "checkout_base"
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
	// pricesIncludeTax: the session amount is the tax-inclusive total
	// (ORDER_TOTAL_AMOUNT); otherwise tax is added on top and the session
	// amount is the total without it (ORDER_TOTAL_AMOUNT_SHOWN).
	pricesIncludeTax bool
	testMode         bool
	ipnDomain        string
	guard            ipGuard
	checkoutBase     *url.URL
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

// config is the instance's settings as operators write them; parseSettings
// checks what the tags cannot say. The address lists stay strings because
// they are documented as comma- or space-separated.
type config struct {
	SecretKey        string           `setting:"secret_key,secret"`
	ValidationKey    string           `setting:"validation_key,secret"`
	DefaultProduct   *int64           `setting:"default_product"`
	DynamicPrice     bool             `setting:"dynamic_price" default:"true"`
	PricesIncludeTax bool             `setting:"prices_include_tax"`
	TestMode         bool             `setting:"test_mode"`
	IPNDomain        string           `setting:"ipn_domain"`
	IPAllowlist      string           `setting:"ip_allowlist"`
	TrustedProxies   string           `setting:"trusted_proxies"`
	CheckoutBase     url.URL          `setting:"checkout_base" default:"https://store.payproglobal.com/checkout"`
	Products         map[string]int64 `setting:"product_*"`
	// The refund API: both credentials or neither.
	VendorAccountID *int64  `setting:"vendor_account_id"`
	APISecretKey    string  `setting:"api_secret_key,secret"`
	APIBase         url.URL `setting:"api_base" default:"https://store.payproglobal.com/api"`
}

func parseSettings(in map[string]string) (settings, error) {
	var c config
	if err := sdk.DecodeSettings(in, &c); err != nil {
		return settings{}, err
	}
	s := settings{
		keys:             keys{secret: c.SecretKey, validation: c.ValidationKey},
		products:         map[string]string{},
		dynamicPrice:     c.DynamicPrice,
		pricesIncludeTax: c.PricesIncludeTax,
		testMode:         c.TestMode,
	}
	if s.keys.validation == "" {
		return settings{}, sdk.InvalidSetting(SettingValidationKey, "is required: PayPro signs every IPN with it (Store Settings → General settings → Integration)")
	}
	if p := c.DefaultProduct; p != nil {
		if *p <= 0 {
			return settings{}, sdk.InvalidSetting(SettingDefaultProduct, "must be a PayPro product id (a positive integer), got %d", *p)
		}
		s.defaultProduct = strconv.FormatInt(*p, 10)
	}
	for _, method := range slices.Sorted(maps.Keys(c.Products)) {
		key := settingProductPrefix + method
		if !knownMethod(method) {
			return settings{}, sdk.InvalidSetting(key, "%q is not a method this provider offers (card, wallet, paypal, bank_transfer)", method)
		}
		if id := c.Products[method]; id > 0 {
			s.products[method] = strconv.FormatInt(id, 10)
			continue
		}
		return settings{}, sdk.InvalidSetting(key, "must be a PayPro product id (a positive integer), got %d", c.Products[method])
	}
	if s.testMode && s.keys.secret == "" {
		return settings{}, sdk.InvalidSetting(SettingSecretKey, "is required when %s is on: PayPro's test checkout needs it", SettingTestMode)
	}
	if d := c.IPNDomain; d != "" {
		if !validHost(d) {
			return settings{}, sdk.InvalidSetting(SettingIPNDomain, "must be a bare host name such as ipn.example.com, got %q", d)
		}
		s.ipnDomain = strings.ToLower(d)
	}
	var err error
	if s.guard, err = parseGuard(c.IPAllowlist, c.TrustedProxies); err != nil {
		return settings{}, err
	}
	if c.CheckoutBase.RawQuery != "" || c.CheckoutBase.Fragment != "" {
		return settings{}, sdk.InvalidSetting(SettingCheckoutBase, "must be an absolute http(s) URL without query, got %q", c.CheckoutBase.String())
	}
	s.checkoutBase = &c.CheckoutBase
	if s.api, err = parseAPI(c); err != nil {
		return settings{}, err
	}
	return s, nil
}

// parseAPI checks the refund API settings: both credentials or neither.
func parseAPI(c config) (*apiConfig, error) {
	switch {
	case c.VendorAccountID == nil && c.APISecretKey == "":
		return nil, nil
	case c.VendorAccountID == nil:
		return nil, sdk.InvalidSetting(SettingVendorAccountID, "is required with %s (PayPro: Account settings → Business info)", SettingAPISecretKey)
	case c.APISecretKey == "":
		return nil, sdk.InvalidSetting(SettingAPISecretKey, "is required with %s (PayPro: Store settings → General settings → Integration)", SettingVendorAccountID)
	case *c.VendorAccountID <= 0:
		return nil, sdk.InvalidSetting(SettingVendorAccountID, "must be PayPro's vendor account id (a positive integer), got %d", *c.VendorAccountID)
	case c.APIBase.RawQuery != "" || c.APIBase.Fragment != "":
		return nil, sdk.InvalidSetting(SettingAPIBase, "must be an absolute http(s) URL without query, got %q", c.APIBase.String())
	}
	return &apiConfig{base: &c.APIBase, vendorID: *c.VendorAccountID, secret: c.APISecretKey}, nil
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
			return nil, sdk.InvalidSetting(key, "%q is neither an IP address nor a CIDR", f)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}
