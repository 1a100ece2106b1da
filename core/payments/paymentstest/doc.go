// Package paymentstest builds a payments.Service on a real store with real
// routing and provider implementations running through the SDK's gRPC
// adapters (sdk/sdktest), for tests of the payments service and of the HTTP
// layers on top of it (merchant API, webhook intake, hosted checkout).
//
// Provider implementations are passed in, so this package depends on no
// plugin; tests typically pass plugins/sandbox's provider.
package paymentstest
