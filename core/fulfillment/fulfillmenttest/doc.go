// Package fulfillmenttest builds the real payments and fulfillment
// services on a test store for tests (fulfillment's own and the admin
// API's handler tests): the sandbox provider and the whm plugin, both served
// through the SDK's in-process gRPC harness, whm against whmfake.
package fulfillmenttest
