// Package registrarv1 is the generated Go code for switchyard.registrar.v1
// (sdk/proto/registrar/v1/registrar.proto). Regenerate with `make proto`; plugin
// authors use the plain Go types in package sdk/registrar (or sdk/meta) instead.
package registrarv1
