// Package provisionerv1 is the generated Go code for switchyard.provisioner.v1
// (sdk/proto/provisioner/v1/provisioner.proto). Regenerate with `make proto`; plugin
// authors use the plain Go types in package sdk/provisioner (or sdk/meta) instead.
package provisionerv1
