// Package mailer is the contract between Switchyard and a mail delivery
// plugin (SMTP, an HTTP mail API): the Mailer interface and the message it
// sends.
package mailer
