// Package ipn is PayPro Global's Instant Payment Notification (IPN) wire
// format: the form-encoded fields PayPro POSTs to a webhook URL, a typed
// view of them (Parse), the two verification codes PayPro sends (SIGNATURE
// and HASH: Sign, Verify) and realistic default notifications of every type
// (Defaults), which the `switchyard simulate paypro` command sends.
//
// The package has no Switchyard dependencies so that merchants' own tools
// and the plugin share one definition of the format.
//
// Amounts are decoded exactly into minor units of their currency (ISO 4217
// scale from the published list, through github.com/bojanz/currency, as
// in the core); floating point is never used.
package ipn
