// Package mail renders and sends the mail Switchyard writes on a merchant's
// behalf: payment and refund receipts to customers, "service ready" and
// "service suspended" mails for fulfillment, and the webhook notices to the
// merchant's contact.
//
// Every mail is a template with three parts — subject and text body
// (text/template) and HTML body (html/template, so customer-supplied values
// are escaped) — sent as multipart text and HTML through a mailer plugin
// (sdk/mailer, e.g. plugins/smtp). A merchant may override any part of any
// template; an override is checked to parse and render against sample data
// before it is stored.
//
// Receipts are durable: Service is a payments.EventSink, and enqueues the
// receipt's River job in the transaction that inserts session.paid or
// refund.succeeded, when the merchant enabled receipts. Service-ready mails
// carry the new account's password, so they are sent synchronously by the
// fulfillment job that holds it and never written to a job, event or log.
package mail
