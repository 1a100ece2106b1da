package stripeprovider

import "github.com/switchyard/switchyard/sdk/provider"

// cardCurrencies are Stripe's presentment currencies for cards
// (https://docs.stripe.com/currencies#presentment-currencies), USD first so
// that tools picking "the first currency" pick the most common one. ANG and
// BGN are left out: ISO 4217 withdrew them (for XCG and EUR), so the core
// refuses sessions in them.
func cardCurrencies() []string {
	return []string{
		"USD", "AED", "AFN", "ALL", "AMD", "AOA", "ARS", "AUD", "AWG", "AZN",
		"BAM", "BBD", "BDT", "BHD", "BIF", "BMD", "BND", "BOB", "BRL", "BSD", "BWP", "BYN", "BZD",
		"CAD", "CDF", "CHF", "CLP", "CNY", "COP", "CRC", "CVE", "CZK",
		"DJF", "DKK", "DOP", "DZD", "EGP", "ETB", "EUR", "FJD", "FKP",
		"GBP", "GEL", "GIP", "GMD", "GNF", "GTQ", "GYD", "HKD", "HNL", "HTG", "HUF",
		"IDR", "ILS", "INR", "ISK", "JMD", "JOD", "JPY", "KES", "KGS", "KHR", "KMF", "KRW", "KWD", "KYD", "KZT",
		"LAK", "LBP", "LKR", "LRD", "LSL", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MUR", "MVR", "MWK",
		"MXN", "MYR", "MZN", "NAD", "NGN", "NIO", "NOK", "NPR", "NZD", "OMR", "PAB", "PEN", "PGK", "PHP", "PKR", "PLN", "PYG",
		"QAR", "RON", "RSD", "RUB", "RWF", "SAR", "SBD", "SCR", "SEK", "SGD", "SHP", "SOS", "SRD", "SZL",
		"THB", "TJS", "TND", "TOP", "TRY", "TTD", "TWD", "TZS", "UAH", "UGX", "UYU", "UZS",
		"VND", "VUV", "WST", "XAF", "XCD", "XOF", "XPF", "YER", "ZAR", "ZMW",
	}
}

// minimumCharges are Stripe's documented minimum charge amounts
// (https://docs.stripe.com/currencies#minimum-and-maximum-charge-amounts)
// in Switchyard minor units, so routing skips Stripe for payments Stripe
// would reject anyway.
func minimumCharges() []provider.AmountLimit {
	return []provider.AmountLimit{
		{Currency: "USD", Min: 50}, {Currency: "AED", Min: 200}, {Currency: "AUD", Min: 50},
		{Currency: "BRL", Min: 50}, {Currency: "CAD", Min: 50},
		{Currency: "CHF", Min: 50}, {Currency: "CZK", Min: 1500}, {Currency: "DKK", Min: 250},
		{Currency: "EUR", Min: 50}, {Currency: "GBP", Min: 30}, {Currency: "HKD", Min: 400},
		{Currency: "HUF", Min: 17500}, {Currency: "INR", Min: 50}, {Currency: "JPY", Min: 50},
		{Currency: "MXN", Min: 1000}, {Currency: "MYR", Min: 200}, {Currency: "NOK", Min: 300},
		{Currency: "NZD", Min: 50}, {Currency: "PLN", Min: 200}, {Currency: "RON", Min: 200},
		{Currency: "SEK", Min: 300}, {Currency: "SGD", Min: 50}, {Currency: "THB", Min: 1000},
	}
}
