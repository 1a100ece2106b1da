// Package commonv1 is the generated Go code for switchyard.common.v1
// (sdk/proto/common/v1/common.proto). Regenerate with `make proto`; plugin
// authors use the plain Go types in package sdk/meta instead.
package commonv1
