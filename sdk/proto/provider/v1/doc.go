// Package providerv1 is the generated Go code for switchyard.provider.v1
// (sdk/proto/provider/v1/provider.proto). Regenerate with `make proto`; plugin
// authors use the plain Go types in package sdk/provider (or sdk/meta) instead.
package providerv1
