// Package payproprovider is Switchyard's PayPro Global payment provider:
// CreatePayment builds a PayPro checkout redirect URL that carries the
// Switchyard session in signed custom fields, and HandleWebhook verifies
// PayPro's form-encoded IPNs (source address, SIGNATURE, HASH) and maps
// every IPN type onto Switchyard's normalized events. The IPN wire format
// itself lives in package ipn. docs/providers/paypro.md is the operator's
// guide.
package payproprovider
