package ipn

import (
	"fmt"
	"net/url"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Field names the package itself relies on.
const (
	FieldTypeID        = "IPN_TYPE_ID"
	FieldTypeName      = "IPN_TYPE_NAME"
	FieldOrderID       = "ORDER_ID"
	FieldOrderStatus   = "ORDER_STATUS"
	FieldTotalAmount   = "ORDER_TOTAL_AMOUNT"
	FieldCustomerEmail = "CUSTOMER_EMAIL"
	FieldTestMode      = "TEST_MODE"
	FieldHash          = "HASH"
	FieldSignature     = "SIGNATURE"
	FieldIsResent      = "IS_RESENT"
	FieldCustomFields  = "ORDER_CUSTOM_FIELDS"
	FieldCheckoutQuery = "CHECKOUT_QUERY_STRING"
	FieldLicenses      = "ORDER_ITEM_LICENSES"
	fieldTaxName       = "ORDER_ITEM_TAX_NAME"
	fieldTaxRate       = "ORDER_ITEM_TAX_RATE"
)

// LicenseSeparator separates several license keys of one order item in
// ORDER_ITEM_LICENSES (a comma followed by a tab).
const LicenseSeparator = ",\t"

// IPN is the typed view of one notification: every parameter PayPro
// documents. Fields PayPro did not send keep their zero value; Money.Set
// tells a missing amount from a zero one. Order amounts are in
// OrderCurrency, balance amounts in BalanceCurrency.
type IPN struct {
	TypeID        Type   `ipn:"IPN_TYPE_ID"`
	TypeName      string `ipn:"IPN_TYPE_NAME"`
	OrderID       int64  `ipn:"ORDER_ID"`
	OrderStatusID int64  `ipn:"ORDER_STATUS_ID"`
	OrderStatus   string `ipn:"ORDER_STATUS"`

	ProductID         int64  `ipn:"PRODUCT_ID"`
	ProductQuantity   int64  `ipn:"PRODUCT_QUANTITY"`
	OrderItemID       int64  `ipn:"ORDER_ITEM_ID"`
	OrderItemName     string `ipn:"ORDER_ITEM_NAME"`
	OrderItemTypeID   int64  `ipn:"ORDER_ITEM_TYPE_ID"`
	OrderItemTypeName string `ipn:"ORDER_ITEM_TYPE_NAME"`
	OrderItemSKU      string `ipn:"ORDER_ITEM_SKU"`
	OrderItemsCount   int64  `ipn:"ORDER_ITEMS_COUNT"`
	// Licenses are the license keys of the order item, split on ",\t".
	Licenses []string `ipn:"ORDER_ITEM_LICENSES"`

	BalanceCurrency                 string `ipn:"VENDOR_BALANCE_CURRENCY_CODE"`
	ItemBalanceTotalAmount          Money  `ipn:"ORDER_ITEM_BALANCE_CURRENCY_TOTAL_AMOUNT,balance"`
	ItemBalanceVendorAmount         Money  `ipn:"ORDER_ITEM_BALANCE_CURRENCY_VENDOR_AMOUNT,balance"`
	ItemBalanceAffiliateAmount      Money  `ipn:"ORDER_ITEM_BALANCE_CURRENCY_AFFILIATE_AMOUNT,balance"`
	ItemBalancePartnersAmount       Money  `ipn:"ORDER_ITEM_BALANCE_CURRENCY_PARTNERS_AMOUNT,balance"`
	ItemBalancePayProExpensesAmount Money  `ipn:"ORDER_ITEM_BALANCE_CURRENCY_PAYPRO_EXPENSES_AMOUNT,balance"`
	ItemBalanceRefunded             Money  `ipn:"ORDER_ITEM_BALANCE_CURRENCY_REFUNDED,balance"`
	ItemBalanceVendorRefunded       Money  `ipn:"ORDER_ITEM_BALANCE_CURRENCY_VENDOR_REFUNDED,balance"`
	ItemBalanceAffiliateRefunded    Money  `ipn:"ORDER_ITEM_BALANCE_CURRENCY_AFFILIATE_REFUNDED,balance"`
	ItemBalancePartnersRefunded     Money  `ipn:"ORDER_ITEM_BALANCE_CURRENCY_PARTNERS_REFUNDED,balance"`
	OrderTotalBalanceAmount         Money  `ipn:"ORDER_TOTAL_BALANCE_CURRENCY_AMOUNT,balance"`
	OrderBalanceVendorAmount        Money  `ipn:"ORDER_BALANCE_CURRENCY_VENDOR_AMOUNT,balance"`
	OrderTaxesBalanceAmount         Money  `ipn:"ORDER_TAXES_BALANCE_CURRENCY_AMOUNT,balance"`
	OrderBalanceRefunded            Money  `ipn:"ORDER_BALANCE_CURRENCY_REFUNDED,balance"`
	OrderBalanceVendorRefunded      Money  `ipn:"ORDER_BALANCE_CURRENCY_VENDOR_REFUNDED,balance"`
	OrderBalanceAffiliateRefunded   Money  `ipn:"ORDER_BALANCE_CURRENCY_AFFILIATE_REFUNDED,balance"`
	OrderBalancePartnersRefunded    Money  `ipn:"ORDER_BALANCE_CURRENCY_PARTNERS_REFUNDED,balance"`
	PaymentMethodID                 int64  `ipn:"PAYMENT_METHOD_ID"`
	PaymentMethodName               string `ipn:"PAYMENT_METHOD_NAME"`
	OrderCurrency                   string `ipn:"ORDER_CURRENCY_CODE"`
	OrderPlacedTimeCustomerTimezone string `ipn:"ORDER_PLACED_TIME_CUSTOMER_TIMEZONE"`
	CustomerTimezone                string `ipn:"CUSTOMER_TIMEZONE"`
	OrderPlacedTimeUTC              string `ipn:"ORDER_PLACED_TIME_UTC"`
	OrderReferrerURL                string `ipn:"ORDER_REFERRER_URL"`
	ItemUnitPrice                   Money  `ipn:"ORDER_ITEM_UNIT_PRICE,order"`
	ItemTotalAmount                 Money  `ipn:"ORDER_ITEM_TOTAL_AMOUNT,order"`
	ItemVendorAmount                Money  `ipn:"ORDER_ITEM_VENDOR_AMOUNT,order"`
	ItemAffiliateAmount             Money  `ipn:"ORDER_ITEM_AFFILIATE_AMOUNT,order"`
	ItemPartnersAmount              Money  `ipn:"ORDER_ITEM_PARTNERS_AMOUNT,order"`
	ItemRefunded                    Money  `ipn:"ORDER_ITEM_REFUNDED,order"`
	ItemVendorRefunded              Money  `ipn:"ORDER_ITEM_VENDOR_REFUNDED,order"`
	ItemAffiliateRefunded           Money  `ipn:"ORDER_ITEM_AFFILIATE_REFUNDED,order"`
	ItemPartnersRefunded            Money  `ipn:"ORDER_ITEM_PARTNERS_REFUNDED,order"`
	ItemCouponDiscount              Money  `ipn:"ORDER_ITEM_COUPON_DISCOUNT,order"`
	ItemDynamicDiscount             Money  `ipn:"ORDER_ITEM_DYNAMIC_DISCOUNT,order"`
	ItemLeadDiscount                Money  `ipn:"ORDER_ITEM_LEAD_DISCOUNT,order"`
	ItemPromoDiscount               Money  `ipn:"ORDER_ITEM_PROMO_DISCOUNT,order"`
	ItemVolumeDiscount              Money  `ipn:"ORDER_ITEM_VOLUME_DISCOUNT,order"`
	ItemAPIDiscount                 Money  `ipn:"ORDER_ITEM_API_DISCOUNT,order"`
	ItemTotalDiscount               Money  `ipn:"ORDER_ITEM_TOTAL_DISCOUNT,order"`
	OrderTotalAmount                Money  `ipn:"ORDER_TOTAL_AMOUNT,order"`
	OrderTotalAmountShown           Money  `ipn:"ORDER_TOTAL_AMOUNT_SHOWN,order"`
	OrderTotalAmountWithTaxesShown  Money  `ipn:"ORDER_TOTAL_AMOUNT_WITH_TAXES_SHOWN,order"`
	OrderTaxesAmount                Money  `ipn:"ORDER_TAXES_AMOUNT,order"`
	OrderRefunded                   Money  `ipn:"ORDER_REFUNDED,order"`
	OrderVendorRefunded             Money  `ipn:"ORDER_VENDOR_REFUNDED,order"`
	OrderAffiliateRefunded          Money  `ipn:"ORDER_AFFILIATE_REFUNDED,order"`
	OrderPartnersRefunded           Money  `ipn:"ORDER_PARTNERS_REFUNDED,order"`
	// Taxes are ORDER_ITEM_TAX_NAME/RATE, or their numbered forms _1, _2 …
	// when several tax categories apply, in number order.
	Taxes []Tax
	// CustomFieldsRaw is ORDER_CUSTOM_FIELDS as sent; CustomFields its
	// parsed x-name=value pairs.
	CustomFieldsRaw string `ipn:"ORDER_CUSTOM_FIELDS"`
	CustomFields    map[string]string

	CustomerID                    int64  `ipn:"CUSTOMER_ID"`
	CustomerFirstName             string `ipn:"CUSTOMER_FIRST_NAME"`
	CustomerFirstNameASCII        string `ipn:"CUSTOMER_FIRST_NAME_ASCII"`
	CustomerLastName              string `ipn:"CUSTOMER_LAST_NAME"`
	CustomerLastNameASCII         string `ipn:"CUSTOMER_LAST_NAME_ASCII"`
	CustomerName                  string `ipn:"CUSTOMER_NAME"`
	CustomerNameASCII             string `ipn:"CUSTOMER_NAME_ASCII"`
	CustomerEmail                 string `ipn:"CUSTOMER_EMAIL"`
	CustomerIP                    string `ipn:"CUSTOMER_IP"`
	CustomerCountryCode           string `ipn:"CUSTOMER_COUNTRY_CODE"`
	CustomerCountryName           string `ipn:"CUSTOMER_COUNTRY_NAME"`
	CustomerCountryCodeByIP       string `ipn:"CUSTOMER_COUNTRY_CODE_BY_IP"`
	CustomerCountryNameByIP       string `ipn:"CUSTOMER_COUNTRY_NAME_BY_IP"`
	CustomerStateCode             string `ipn:"CUSTOMER_STATE_CODE"`
	CustomerStateName             string `ipn:"CUSTOMER_STATE_NAME"`
	CustomerCity                  string `ipn:"CUSTOMER_CITY"`
	CustomerStreetAddress         string `ipn:"CUSTOMER_STREET_ADDRESS"`
	CustomerStreetNumber          string `ipn:"CUSTOMER_STREET_NUMBER"`
	CustomerZipcode               string `ipn:"CUSTOMER_ZIPCODE"`
	CustomerPhone                 string `ipn:"CUSTOMER_PHONE"`
	CustomerFiscalNumberPersonal  string `ipn:"CUSTOMER_FISCAL_NUMBER_PERSONAL"`
	CustomerFiscalNumberCorporate string `ipn:"CUSTOMER_FISCAL_NUMBER_CORPORATE"`
	CorporatePurchase             bool   `ipn:"CORPORATE_PURCHASE"`
	CompanyName                   string `ipn:"COMPANY_NAME"`
	LicensedToName                string `ipn:"LICENSED_TO_NAME"`
	LicensedToNameASCII           string `ipn:"LICENSED_TO_NAME_ASCII"`
	LicensedToEmail               string `ipn:"LICENSED_TO_EMAIL"`
	ActionReason                  string `ipn:"ACTION_REASON"`
	AffiliateAgreementID          int64  `ipn:"AFFILIATE_AGREEMENT_ID"`
	AffiliateNetworkID            int64  `ipn:"AFFILIATE_NETWORK_ID"`
	AffiliateVendorAccountID      int64  `ipn:"AFFILIATE_VENDOR_ACCOUNT_ID"`
	CouponCode                    string `ipn:"COUPON_CODE"`
	CouponID                      int64  `ipn:"COUPON_ID"`
	CouponName                    string `ipn:"COUPON_NAME"`
	CreditCardBIN                 string `ipn:"CREDIT_CARD_BIN"`
	CreditCardBINResult           string `ipn:"CREDIT_CARD_BIN_RESULT"`
	CreditCardLast4               string `ipn:"CREDIT_CARD_LAST4"`
	CreditCardExpirationDate      string `ipn:"CREDIT_CARD_EXPIRATION_DATE"`
	MaxMindResult                 string `ipn:"MAXMIND_RESULT"`
	CustomLicenseInfo             string `ipn:"CUSTOM_LICENSE_INFO"`
	Hash                          string `ipn:"HASH"`
	Signature                     string `ipn:"SIGNATURE"`
	PayPalAccount                 string `ipn:"PAYPAL_ACCOUNT"`

	ShippingCountryCode    string `ipn:"SHIPPING_COUNTRY_CODE"`
	ShippingCountryName    string `ipn:"SHIPPING_COUNTRY_NAME"`
	ShippingStateCode      string `ipn:"SHIPPING_STATE_CODE"`
	ShippingStateName      string `ipn:"SHIPPING_STATE_NAME"`
	ShippingCity           string `ipn:"SHIPPING_CITY"`
	ShippingFirstName      string `ipn:"SHIPPING_FIRST_NAME"`
	ShippingFirstNameASCII string `ipn:"SHIPPING_FIRST_NAME_ASCII"`
	ShippingLastName       string `ipn:"SHIPPING_LAST_NAME"`
	ShippingLastNameASCII  string `ipn:"SHIPPING_LAST_NAME_ASCII"`
	ShippingStreetAddress  string `ipn:"SHIPPING_STREET_ADDRESS"`
	ShippingZipcode        string `ipn:"SHIPPING_ZIPCODE"`

	SubscriptionID                   int64  `ipn:"SUBSCRIPTION_ID"`
	SubscriptionNextChargeDate       string `ipn:"SUBSCRIPTION_NEXT_CHARGE_DATE"`
	SubscriptionNextChargeCurrency   string `ipn:"SUBSCRIPTION_NEXT_CHARGE_CURRENCY_CODE"`
	SubscriptionNextChargeAmount     Money  `ipn:"SUBSCRIPTION_NEXT_CHARGE_AMOUNT,next"`
	SubscriptionNextChargeInBilling  bool   `ipn:"SUBSCRIPTION_NEXT_CHARGE_CURRENCY"`
	SubscriptionStatusID             int64  `ipn:"SUBSCRIPTION_STATUS_ID"`
	SubscriptionStatusName           string `ipn:"SUBSCRIPTION_STATUS_NAME"`
	SubscriptionInitialOrderID       int64  `ipn:"SUBSCRIPTION_INITIAL_ORDER_ID"`
	SubscriptionRenewalType          string `ipn:"SUBSCRIPTION_RENEWAL_TYPE"`
	SubscriptionBillingCycles        int64  `ipn:"SUBSCRIPTION_NUMBER_OF_BILLING_CYCLES"`
	SubscriptionFailedAttempts       int64  `ipn:"SUBSCRIPTION_NUMBER_OF_FAILED_ATTEMPTS"`
	SubscriptionCancellationReasonID int64  `ipn:"SUBSCRIPTION_CANCELLATION_REASON_ID"`
	SubscriptionFinishDate           string `ipn:"SUBSCRIPTION_FINISH_DATE"`
	IsOnTrialPeriod                  bool   `ipn:"IS_ON_TRIAL_PERIOD"`
	TrialPeriodTill                  string `ipn:"TRIAL_PERIOD_TILL"`

	OptionGroupIDs          string `ipn:"OPTION_GROUP_IDS"`
	OptionGroupItemIDs      string `ipn:"OPTION_GROUP_ITEM_IDS"`
	ProductCombinationID    string `ipn:"PRODUCT_COMBINATION_ID"`
	ProductCombinationName  string `ipn:"PRODUCT_COMBINATION_NAME"`
	SelectionGroupItemIDs   string `ipn:"SELECTION_GROUP_ITEM_IDS"`
	SelectionGroupItemNames string `ipn:"SELECTION_GROUP_ITEM_NAMES"`
	CustomerLanguageCode    string `ipn:"CUSTOMER_LANGUAGE_CODE"`
	RegionalPrice           bool   `ipn:"REGIONAL_PRICE"`
	InvoiceLink             string `ipn:"INVOICE_LINK"`
	BundledItemsCount       int64  `ipn:"BUNDLED_ITEMS_COUNT"`
	RefundIssuedBy          string `ipn:"REFUND_ISSUED_BY"`
	TestMode                bool   `ipn:"TEST_MODE"`
	CrossSellMainItemID     string `ipn:"CROSS_SELL_MAIN_ITEM_ID"`
	CrossSellItemIDs        string `ipn:"CROSS_SELL_ITEM_IDS"`
	IsCrossSellItem         bool   `ipn:"IS_CROSS_SELL_ITEM"`
	CheckoutQueryString     string `ipn:"CHECKOUT_QUERY_STRING"`
	IsResent                bool   `ipn:"IS_RESENT"`
	LeadTypeID              int64  `ipn:"LEAD_TYPE_ID"`
	LeadTypeName            string `ipn:"LEAD_TYPE_NAME"`
	LeadCampaignID          string `ipn:"LEAD_CAMPAIGN_ID"`
	LeadFollowUpID          string `ipn:"LEAD_FOLLOW_UP_ID"`

	// Extra holds parameters this package does not know (PayPro adds
	// fields over time); they are kept, not rejected.
	Extra url.Values
}

// Tax is one tax category applied to the order item. Rate is kept as sent
// (PayPro does not document its format).
type Tax struct {
	Name string
	Rate string
}

// Parse decodes a form-encoded IPN body.
func Parse(body []byte) (*IPN, error) {
	v, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, fmt.Errorf("ipn: body is not form-encoded: %w", err)
	}
	return FromValues(v)
}

// FromValues decodes IPN fields. IPN_TYPE_ID and ORDER_ID are required, and
// every amount, integer and flag must be well-formed: a notification that
// does not parse is rejected whole rather than half-applied. IPN_TYPE_NAME
// must be present and exactly the id's name: SIGNATURE covers the name but
// not the id, so the two agreeing is what makes the type authentic.
func FromValues(v url.Values) (*IPN, error) {
	n := &IPN{}
	rv := reflect.ValueOf(n).Elem()
	rt := rv.Type()
	known := map[string]bool{}
	// Currencies first: amounts are decoded in them.
	n.OrderCurrency = strings.TrimSpace(v.Get("ORDER_CURRENCY_CODE"))
	n.BalanceCurrency = strings.TrimSpace(v.Get("VENDOR_BALANCE_CURRENCY_CODE"))
	n.SubscriptionNextChargeCurrency = strings.TrimSpace(v.Get("SUBSCRIPTION_NEXT_CHARGE_CURRENCY_CODE"))
	for i := 0; i < rt.NumField(); i++ {
		tag := rt.Field(i).Tag.Get("ipn")
		if tag == "" {
			continue
		}
		name, unit, _ := strings.Cut(tag, ",")
		known[name] = true
		raw, present := v[name]
		if !present || len(raw) == 0 {
			continue
		}
		if err := n.decodeField(rv.Field(i), name, unit, raw[0]); err != nil {
			return nil, err
		}
	}
	if n.TypeID == 0 {
		return nil, fmt.Errorf("ipn: %s is missing", FieldTypeID)
	}
	if !n.TypeID.Valid() {
		return nil, fmt.Errorf("%w: %s %d", ErrUnknownType, FieldTypeID, int(n.TypeID))
	}
	if n.TypeName != n.TypeID.String() {
		return nil, fmt.Errorf("ipn: %s %q does not match %s %d", FieldTypeName, n.TypeName, FieldTypeID, int(n.TypeID))
	}
	if v.Get(FieldOrderID) == "" {
		return nil, fmt.Errorf("ipn: %s is missing", FieldOrderID)
	}
	taxes, err := parseTaxes(v, known)
	if err != nil {
		return nil, err
	}
	n.Taxes = taxes
	n.CustomFields = ParseCustomFields(n.CustomFieldsRaw)
	for k, vals := range v {
		if !known[k] {
			if n.Extra == nil {
				n.Extra = url.Values{}
			}
			n.Extra[k] = vals
		}
	}
	return n, nil
}

func (n *IPN) decodeField(f reflect.Value, name, unit, raw string) error {
	s := strings.TrimSpace(raw)
	switch f.Interface().(type) {
	case string:
		f.SetString(raw)
	case Type:
		id, err := strconv.Atoi(s)
		if err != nil {
			return fmt.Errorf("ipn: %s %q is not an integer", name, raw)
		}
		f.SetInt(int64(id))
	case int64:
		if s == "" {
			return nil
		}
		i, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return fmt.Errorf("ipn: %s %q is not an integer", name, raw)
		}
		f.SetInt(i)
	case bool:
		switch strings.ToLower(s) {
		case "1", "true":
			f.SetBool(true)
		case "", "0", "false":
		default:
			return fmt.Errorf("ipn: %s %q is not 1/0 or True/False", name, raw)
		}
	case []string:
		if s != "" {
			f.Set(reflect.ValueOf(SplitLicenses(raw)))
		}
	case Money:
		if s == "" {
			return nil
		}
		cur := n.OrderCurrency
		switch unit {
		case "balance":
			cur = n.BalanceCurrency
		case "next":
			cur = n.SubscriptionNextChargeCurrency
		}
		if cur == "" && zeroDecimal(s) {
			// Notifications that are not orders (leads) may carry zero
			// amounts without a currency; zero needs none.
			f.Set(reflect.ValueOf(Money{Set: true}))
			return nil
		}
		minor, err := ParseAmount(s, cur)
		if err != nil {
			return fmt.Errorf("ipn: %s: %w", name, err)
		}
		f.Set(reflect.ValueOf(Money{Minor: minor, Currency: cur, Set: true}))
	default:
		return fmt.Errorf("ipn: field %s has unsupported type %s", name, f.Type())
	}
	return nil
}

// zeroDecimal reports whether s is a plain decimal zero ("0", "0.00").
func zeroDecimal(s string) bool {
	whole, frac, dot := strings.Cut(s, ".")
	return whole != "" && !(dot && frac == "") && strings.Trim(whole, "0") == "" && strings.Trim(frac, "0") == ""
}

// SplitLicenses splits ORDER_ITEM_LICENSES into keys. PayPro separates keys
// with ",\t"; a bare comma is accepted too because the separator is easy to
// lose when an IPN is copied by hand. Empty keys are dropped.
func SplitLicenses(raw string) []string {
	parts := strings.Split(raw, ",")
	keys := make([]string, 0, len(parts))
	for _, p := range parts {
		if k := strings.TrimSpace(p); k != "" {
			keys = append(keys, k)
		}
	}
	return keys
}

// JoinLicenses is the inverse of SplitLicenses, with PayPro's separator.
func JoinLicenses(keys []string) string { return strings.Join(keys, LicenseSeparator) }

// parseTaxes collects ORDER_ITEM_TAX_NAME/RATE and the numbered forms.
func parseTaxes(v url.Values, known map[string]bool) ([]Tax, error) {
	var taxes []Tax
	if v.Get(fieldTaxName) != "" || v.Get(fieldTaxRate) != "" {
		taxes = append(taxes, Tax{Name: v.Get(fieldTaxName), Rate: v.Get(fieldTaxRate)})
	}
	nums := map[int]bool{}
	for k := range v {
		for _, prefix := range []string{fieldTaxName + "_", fieldTaxRate + "_"} {
			if rest, ok := strings.CutPrefix(k, prefix); ok {
				i, err := strconv.Atoi(rest)
				if err != nil || i <= 0 {
					return nil, fmt.Errorf("ipn: tax field %s has no valid number", k)
				}
				nums[i] = true
				known[k] = true
			}
		}
	}
	order := make([]int, 0, len(nums))
	for i := range nums {
		order = append(order, i)
	}
	sort.Ints(order)
	for _, i := range order {
		suffix := "_" + strconv.Itoa(i)
		taxes = append(taxes, Tax{Name: v.Get(fieldTaxName + suffix), Rate: v.Get(fieldTaxRate + suffix)})
	}
	return taxes, nil
}

// ParseCustomFields reads ORDER_CUSTOM_FIELDS ("x-a=1,x-b=2"). PayPro
// documents the single-field form x-name=value; several fields are
// comma-separated. Keys keep their x- prefix.
func ParseCustomFields(raw string) map[string]string {
	out := map[string]string{}
	for _, part := range strings.Split(raw, ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || k == "" {
			continue
		}
		out[k] = val
	}
	return out
}

// CustomField returns the custom field name (with its x- prefix) from
// ORDER_CUSTOM_FIELDS, falling back to CHECKOUT_QUERY_STRING, which carries
// the same parameters as they were on the checkout URL.
func (n *IPN) CustomField(name string) string {
	if v, ok := n.CustomFields[name]; ok {
		return v
	}
	if n.CheckoutQueryString == "" {
		return ""
	}
	q, err := url.ParseQuery(strings.TrimPrefix(n.CheckoutQueryString, "?"))
	if err != nil {
		return ""
	}
	return q.Get(name)
}

// placedLayouts are the time formats seen in ORDER_PLACED_TIME_UTC; PayPro
// does not document one.
var placedLayouts = []string{
	"01/02/2006 15:04:05", "1/2/2006 3:04:05 PM", "01/02/2006 03:04:05 PM",
	"2006-01-02 15:04:05", "2006-01-02T15:04:05Z07:00", "2006-01-02T15:04:05",
}

// PlacedAt parses ORDER_PLACED_TIME_UTC; ok is false when it is absent or
// in an unknown format.
func (n *IPN) PlacedAt() (time.Time, bool) {
	s := strings.TrimSpace(n.OrderPlacedTimeUTC)
	for _, l := range placedLayouts {
		if t, err := time.ParseInLocation(l, s, time.UTC); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}
