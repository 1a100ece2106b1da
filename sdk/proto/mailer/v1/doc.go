// Package mailerv1 is the generated Go code for switchyard.mailer.v1
// (sdk/proto/mailer/v1/mailer.proto). Regenerate with `make proto`; plugin
// authors use the plain Go types in package sdk/mailer (or sdk/meta) instead.
package mailerv1
