// Package smtptest runs a real SMTP server in-process (github.com/emersion/
// go-smtp) for tests of Switchyard's mail: STARTTLS (or implicit TLS) on a
// certificate from a throwaway test CA, AUTH PLAIN required before MAIL,
// and every accepted message recorded with its envelope, so tests check
// what actually arrives. Recipients can be set to be refused with any
// SMTP reply.
package smtptest
