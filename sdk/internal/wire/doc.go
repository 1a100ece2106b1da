// Package wire converts between the SDK's plain Go types and the generated
// protobuf messages, and between categorized errors and gRPC statuses. It is
// the only place that knows both sides, so the public API never exposes a
// generated type.
package wire
