// Package route53registrar is the registrar behind Switchyard's route53
// plugin: domains on Amazon Route 53 Domains (availability, registration,
// transfer, renewal, nameservers, transfer lock, auth codes, operations)
// and their DNS records in Route 53 hosted zones.
//
// Both AWS clients are built in Configure from the instance's own settings
// with a static credentials provider and explicit options, never from
// aws-sdk-go-v2's default configuration chain: no environment variables,
// shared config or credentials files, SSO or instance metadata (IMDS) are
// consulted, so an instance uses exactly the IAM user its operator
// configured. Route 53 Domains is only served in us-east-1, and Route 53 is
// global (signed for us-east-1); both endpoints can be overridden for tests.
//
// Registration, transfer, renewal, nameserver and lock changes return the
// Route 53 Domains operation id; record changes return the Route 53 change
// id (as "change:<id>:<domain>"). GetOperation follows either. Calls that
// spend money (RegisterDomain, TransferDomain, RenewDomain) are retried only
// when AWS throttled them, never after an ambiguous failure, so one call
// submits at most one operation.
package route53registrar
