package ipn

import (
	"net/url"
	"strconv"
)

// Default values Defaults uses; exported so tools can refer to the order a
// default notification describes.
const (
	DefaultOrderID        = "18304429"
	DefaultSubscriptionID = "764521"
	DefaultProductID      = "68452"
	DefaultCustomerEmail  = "jane.doe@example.com"
	DefaultCurrency       = "USD"
	DefaultTotal          = "49.95"
)

// orderStatus is the ORDER_STATUS_ID/ORDER_STATUS pair a type is usually
// sent with. PayPro's reference omits the id list, so the ids are
// illustrative; the names are what the IPN simulator shows.
var orderStatus = map[Type][2]string{
	OrderCharged:                    {"5", "Processed"},
	OrderRefunded:                   {"6", "Refunded"},
	OrderChargedBack:                {"7", "Chargeback"},
	OrderDeclined:                   {"3", "Declined"},
	OrderPartiallyRefunded:          {"5", "Processed"},
	SubscriptionChargeSucceed:       {"5", "Processed"},
	SubscriptionChargeFailed:        {"3", "Declined"},
	SubscriptionSuspended:           {"5", "Processed"},
	SubscriptionRenewed:             {"5", "Processed"},
	SubscriptionTerminated:          {"5", "Processed"},
	SubscriptionFinished:            {"5", "Processed"},
	LicenseRequested:                {"5", "Processed"},
	TrialCharge:                     {"5", "Processed"},
	OrderChargebackIsWon:            {"5", "Processed"},
	OrderCustomerInformationChanged: {"5", "Processed"},
	InstantLeadNotification:         {"1", "Waiting"},
	OrderOnWaiting:                  {"1", "Waiting"},
	SubscriptionPaymentInfoChanged:  {"5", "Processed"},
}

// Defaults returns a realistic, unsigned notification of type t, like the
// one PayPro's own IPN simulator pre-fills: a 49.95 USD order for one item
// by a shopper in the United States, paid by card, plus the fields that
// type carries (refund amounts, chargeback reason, subscription data,
// CUSTOM_LICENSE_INFO, lead data …). Callers override fields and then Sign.
func Defaults(t Type) url.Values {
	st := orderStatus[t]
	v := url.Values{
		"IPN_TYPE_ID":                                        {strconv.Itoa(int(t))},
		"IPN_TYPE_NAME":                                      {t.String()},
		"ORDER_ID":                                           {DefaultOrderID},
		"ORDER_STATUS_ID":                                    {st[0]},
		"ORDER_STATUS":                                       {st[1]},
		"PRODUCT_ID":                                         {DefaultProductID},
		"PRODUCT_QUANTITY":                                   {"1"},
		"ORDER_ITEM_ID":                                      {"21976543"},
		"ORDER_ITEM_NAME":                                    {"Switchyard Pro hosting (1 year)"},
		"ORDER_ITEM_TYPE_ID":                                 {"1"},
		"ORDER_ITEM_TYPE_NAME":                               {"Product"},
		"ORDER_ITEM_SKU":                                     {"SY-PRO-1Y"},
		"ORDER_ITEMS_COUNT":                                  {"1"},
		"VENDOR_BALANCE_CURRENCY_CODE":                       {"USD"},
		"ORDER_CURRENCY_CODE":                                {DefaultCurrency},
		"ORDER_ITEM_UNIT_PRICE":                              {DefaultTotal},
		"ORDER_ITEM_TOTAL_AMOUNT":                            {DefaultTotal},
		"ORDER_ITEM_VENDOR_AMOUNT":                           {"45.45"},
		"ORDER_ITEM_AFFILIATE_AMOUNT":                        {"0.00"},
		"ORDER_ITEM_PARTNERS_AMOUNT":                         {"0.00"},
		"ORDER_ITEM_TOTAL_DISCOUNT":                          {"0.00"},
		"ORDER_ITEM_COUPON_DISCOUNT":                         {"0.00"},
		"ORDER_ITEM_DYNAMIC_DISCOUNT":                        {"0.00"},
		"ORDER_ITEM_LEAD_DISCOUNT":                           {"0.00"},
		"ORDER_ITEM_PROMO_DISCOUNT":                          {"0.00"},
		"ORDER_ITEM_VOLUME_DISCOUNT":                         {"0.00"},
		"ORDER_ITEM_API_DISCOUNT":                            {"0.00"},
		"ORDER_ITEM_BALANCE_CURRENCY_TOTAL_AMOUNT":           {DefaultTotal},
		"ORDER_ITEM_BALANCE_CURRENCY_VENDOR_AMOUNT":          {"45.45"},
		"ORDER_ITEM_BALANCE_CURRENCY_AFFILIATE_AMOUNT":       {"0.00"},
		"ORDER_ITEM_BALANCE_CURRENCY_PARTNERS_AMOUNT":        {"0.00"},
		"ORDER_ITEM_BALANCE_CURRENCY_PAYPRO_EXPENSES_AMOUNT": {"4.50"},
		"ORDER_TOTAL_BALANCE_CURRENCY_AMOUNT":                {DefaultTotal},
		"ORDER_BALANCE_CURRENCY_VENDOR_AMOUNT":               {"45.45"},
		"ORDER_TAXES_BALANCE_CURRENCY_AMOUNT":                {"0.00"},
		"ORDER_TOTAL_AMOUNT":                                 {DefaultTotal},
		"ORDER_TOTAL_AMOUNT_SHOWN":                           {DefaultTotal},
		"ORDER_TOTAL_AMOUNT_WITH_TAXES_SHOWN":                {DefaultTotal},
		"ORDER_TAXES_AMOUNT":                                 {"0.00"},
		"PAYMENT_METHOD_ID":                                  {"1"},
		"PAYMENT_METHOD_NAME":                                {"Visa"},
		"ORDER_PLACED_TIME_UTC":                              {"11/22/2026 01:15:42"},
		"ORDER_PLACED_TIME_CUSTOMER_TIMEZONE":                {"11/21/2026 20:15:42"},
		"CUSTOMER_TIMEZONE":                                  {"America/New_York"},
		"ORDER_REFERRER_URL":                                 {"https://shop.example.com/pricing"},
		"CUSTOMER_ID":                                        {"4471093"},
		"CUSTOMER_FIRST_NAME":                                {"Jane"},
		"CUSTOMER_FIRST_NAME_ASCII":                          {"Jane"},
		"CUSTOMER_LAST_NAME":                                 {"Doe"},
		"CUSTOMER_LAST_NAME_ASCII":                           {"Doe"},
		"CUSTOMER_NAME":                                      {"Jane Doe"},
		"CUSTOMER_NAME_ASCII":                                {"Jane Doe"},
		"CUSTOMER_EMAIL":                                     {DefaultCustomerEmail},
		"CUSTOMER_IP":                                        {"203.0.113.24"},
		"CUSTOMER_COUNTRY_CODE":                              {"US"},
		"CUSTOMER_COUNTRY_NAME":                              {"United States"},
		"CUSTOMER_COUNTRY_CODE_BY_IP":                        {"US"},
		"CUSTOMER_COUNTRY_NAME_BY_IP":                        {"United States"},
		"CUSTOMER_STATE_CODE":                                {"NY"},
		"CUSTOMER_STATE_NAME":                                {"New York"},
		"CUSTOMER_CITY":                                      {"New York"},
		"CUSTOMER_STREET_ADDRESS":                            {"350 Fifth Avenue"},
		"CUSTOMER_ZIPCODE":                                   {"10118"},
		"CUSTOMER_PHONE":                                     {"+1 212 555 0143"},
		"CUSTOMER_LANGUAGE_CODE":                             {"en"},
		"CORPORATE_PURCHASE":                                 {"False"},
		"CREDIT_CARD_BIN":                                    {"424242"},
		"CREDIT_CARD_BIN_RESULT":                             {"VISA CREDIT, JPMORGAN CHASE BANK, US"},
		"CREDIT_CARD_LAST4":                                  {"4242"},
		"CREDIT_CARD_EXPIRATION_DATE":                        {"12/2029"},
		"MAXMIND_RESULT":                                     {"riskScore=0.49"},
		"REGIONAL_PRICE":                                     {"False"},
		"INVOICE_LINK":                                       {"https://store.payproglobal.com/Invoice?Id=" + DefaultOrderID},
		"IS_CROSS_SELL_ITEM":                                 {"False"},
		"IS_ON_TRIAL_PERIOD":                                 {"0"},
		"ORDER_CUSTOM_FIELDS":                                {""},
		"CHECKOUT_QUERY_STRING":                              {"products[1][id]=" + DefaultProductID},
		"TEST_MODE":                                          {"0"},
	}
	switch t {
	case OrderCharged:
		v.Set("ORDER_ITEM_LICENSES", "SYPRO-7K2Q-M4XD-91TA")
	case OrderRefunded:
		refund(v, DefaultTotal, "45.45", "Customer request")
	case OrderPartiallyRefunded:
		refund(v, "20.00", "18.20", "Partial refund: unused months")
	case OrderChargedBack:
		v.Set("ACTION_REASON", "Fraudulent transaction")
	case OrderDeclined:
		v.Set("ACTION_REASON", "Insufficient funds")
	case OrderChargebackIsWon:
		v.Set("ACTION_REASON", "Chargeback dispute won")
	case OrderOnWaiting:
		v.Set("PAYMENT_METHOD_ID", "24")
		v.Set("PAYMENT_METHOD_NAME", "Wire Transfer")
	case LicenseRequested:
		v.Set("CUSTOM_LICENSE_INFO", "edition=pro;seats=1")
	case OrderCustomerInformationChanged:
		v.Set("CUSTOMER_EMAIL", "jane.doe@new-example.com")
	case InstantLeadNotification:
		v.Set("LEAD_TYPE_ID", "1")
		v.Set("LEAD_TYPE_NAME", "Abandoned cart")
		v.Set("LEAD_CAMPAIGN_ID", "3307")
		v.Set("LEAD_FOLLOW_UP_ID", "3")
		for _, k := range []string{"ORDER_TOTAL_AMOUNT", "ORDER_TOTAL_AMOUNT_SHOWN", "ORDER_TOTAL_AMOUNT_WITH_TAXES_SHOWN"} {
			v.Set(k, "0.00")
		}
	}
	if t >= SubscriptionChargeSucceed && t <= SubscriptionFinished || t == TrialCharge || t == SubscriptionPaymentInfoChanged {
		subscription(v, t)
	}
	return v
}

func refund(v url.Values, amount, vendor, reason string) {
	v.Set("ORDER_REFUNDED", amount)
	v.Set("ORDER_VENDOR_REFUNDED", vendor)
	v.Set("ORDER_AFFILIATE_REFUNDED", "0.00")
	v.Set("ORDER_PARTNERS_REFUNDED", "0.00")
	v.Set("ORDER_ITEM_REFUNDED", amount)
	v.Set("ORDER_ITEM_VENDOR_REFUNDED", vendor)
	v.Set("ORDER_ITEM_AFFILIATE_REFUNDED", "0.00")
	v.Set("ORDER_ITEM_PARTNERS_REFUNDED", "0.00")
	v.Set("ORDER_BALANCE_CURRENCY_REFUNDED", amount)
	v.Set("ORDER_BALANCE_CURRENCY_VENDOR_REFUNDED", vendor)
	v.Set("ORDER_BALANCE_CURRENCY_AFFILIATE_REFUNDED", "0.00")
	v.Set("ORDER_BALANCE_CURRENCY_PARTNERS_REFUNDED", "0.00")
	v.Set("ORDER_ITEM_BALANCE_CURRENCY_REFUNDED", amount)
	v.Set("ORDER_ITEM_BALANCE_CURRENCY_VENDOR_REFUNDED", vendor)
	v.Set("ORDER_ITEM_BALANCE_CURRENCY_AFFILIATE_REFUNDED", "0.00")
	v.Set("ORDER_ITEM_BALANCE_CURRENCY_PARTNERS_REFUNDED", "0.00")
	v.Set("ACTION_REASON", reason)
	v.Set("REFUND_ISSUED_BY", "Vendor")
}

func subscription(v url.Values, t Type) {
	v.Set("SUBSCRIPTION_ID", DefaultSubscriptionID)
	v.Set("SUBSCRIPTION_INITIAL_ORDER_ID", "17990012")
	v.Set("SUBSCRIPTION_RENEWAL_TYPE", "Auto")
	v.Set("SUBSCRIPTION_NUMBER_OF_BILLING_CYCLES", "3")
	v.Set("SUBSCRIPTION_NUMBER_OF_FAILED_ATTEMPTS", "0")
	v.Set("SUBSCRIPTION_NEXT_CHARGE_DATE", "12/22/2026")
	v.Set("SUBSCRIPTION_NEXT_CHARGE_AMOUNT", DefaultTotal)
	v.Set("SUBSCRIPTION_NEXT_CHARGE_CURRENCY_CODE", DefaultCurrency)
	v.Set("SUBSCRIPTION_NEXT_CHARGE_CURRENCY", "1")
	v.Set("SUBSCRIPTION_STATUS_ID", "1")
	v.Set("SUBSCRIPTION_STATUS_NAME", "Active")
	switch t {
	case SubscriptionChargeFailed:
		v.Set("SUBSCRIPTION_NUMBER_OF_FAILED_ATTEMPTS", "1")
		v.Set("ACTION_REASON", "Card expired")
	case SubscriptionSuspended:
		v.Set("SUBSCRIPTION_STATUS_ID", "2")
		v.Set("SUBSCRIPTION_STATUS_NAME", "Suspended")
		v.Set("SUBSCRIPTION_CANCELLATION_REASON_ID", "3")
		v.Set("ACTION_REASON", "Suspended at the customer's request")
	case SubscriptionTerminated:
		v.Set("SUBSCRIPTION_STATUS_ID", "3")
		v.Set("SUBSCRIPTION_STATUS_NAME", "Terminated")
		v.Set("SUBSCRIPTION_CANCELLATION_REASON_ID", "1")
		v.Set("ACTION_REASON", "Customer canceled")
	case SubscriptionFinished:
		v.Set("SUBSCRIPTION_STATUS_ID", "4")
		v.Set("SUBSCRIPTION_STATUS_NAME", "Finished")
		v.Set("SUBSCRIPTION_FINISH_DATE", "11/22/2026")
	case TrialCharge:
		v.Set("IS_ON_TRIAL_PERIOD", "1")
		v.Set("TRIAL_PERIOD_TILL", "12/06/2026")
		v.Set("SUBSCRIPTION_NUMBER_OF_BILLING_CYCLES", "0")
		v.Set("SUBSCRIPTION_INITIAL_ORDER_ID", DefaultOrderID)
	case SubscriptionPaymentInfoChanged:
		v.Set("CREDIT_CARD_LAST4", "1881")
		v.Set("CREDIT_CARD_EXPIRATION_DATE", "03/2031")
	}
}
