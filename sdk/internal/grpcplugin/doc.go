// Package grpcplugin holds the go-plugin GRPCPlugin implementations for every
// plugin kind: the server adapters that expose a plain Go implementation as
// a gRPC service inside the plugin process, and the client adapters that
// give the host the same plain Go interface backed by gRPC calls.
//
// Adapters keep no locks and no shared mutable state; a client adapter is a
// thin wrapper over a *grpc.ClientConn, which multiplexes concurrent calls,
// so host-side concurrency scales with the connection, not with a mutex.
package grpcplugin
