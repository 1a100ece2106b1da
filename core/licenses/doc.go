// Package licenses completes synchronous license-key requests from
// merchant-of-record providers (PayPro Global's LicenseRequested IPN): the
// provider plugin verifies the request and emits a license.requested event
// with a failure answer; Keygen asks the merchant's key generator for the
// key and, on success, replaces that answer with the key as text/plain, so
// the provider hands it to the shopper. On any failure the provider gets a
// non-2xx answer and retries on its own schedule.
//
// Providers wraps the host's provider lookup so the payments service needs
// no knowledge of licenses.
package licenses
