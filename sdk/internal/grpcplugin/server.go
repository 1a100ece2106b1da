package grpcplugin

import (
	"context"
	"runtime/debug"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Propagator is the W3C trace-context + baggage propagator both sides use.
// It is set explicitly rather than taken from otel's global, because a
// plugin process has no global configured and would silently drop the
// host's trace.
func Propagator() propagation.TextMapPropagator {
	return propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
}

// ServeOptions configures ServeConfig.
type ServeOptions struct {
	Handshake       plugin.HandshakeConfig
	ProtocolVersion int
	Impls           Impls
	Logger          hclog.Logger
	// TracerProvider records the plugin's spans; nil uses otel's global,
	// which in a plugin is a no-op that still carries the host's trace
	// context to the implementation.
	TracerProvider trace.TracerProvider
}

// ServeConfig is the go-plugin configuration sdk.Serve (and sdktest's
// in-process harness) serves with.
func ServeConfig(o ServeOptions) *plugin.ServeConfig {
	tp := o.TracerProvider
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	logger := o.Logger
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	return &plugin.ServeConfig{
		HandshakeConfig:  o.Handshake,
		VersionedPlugins: map[int]plugin.PluginSet{o.ProtocolVersion: ServerSet(o.Impls)},
		Logger:           logger,
		GRPCServer: func(opts []grpc.ServerOption) *grpc.Server {
			opts = append(opts,
				grpc.StatsHandler(otelgrpc.NewServerHandler(
					otelgrpc.WithTracerProvider(tp),
					otelgrpc.WithPropagators(Propagator()),
				)),
				grpc.ChainUnaryInterceptor(recoverUnary(logger), loggerUnary(logger), cancelUnary),
			)
			return grpc.NewServer(opts...)
		},
	}
}

// recoverUnary turns a panic in an implementation into an Internal error for
// that one call instead of killing the plugin process and every call in
// flight. The request is not logged: it may carry credentials.
func recoverUnary(logger hclog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
		defer func() {
			if r := recover(); r != nil {
				logger.Error("plugin method panicked", "method", info.FullMethod, "panic", r, "stack", string(debug.Stack()))
				resp, err = nil, status.Errorf(codes.Internal, "plugin panicked in %s", info.FullMethod)
			}
		}()
		return handler(ctx, req)
	}
}

// DialOptions are the gRPC options a host connects with: the otelgrpc client
// stats handler so the caller's span continues in the plugin.
func DialOptions(tp trace.TracerProvider) []grpc.DialOption {
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	return []grpc.DialOption{
		grpc.WithStatsHandler(otelgrpc.NewClientHandler(
			otelgrpc.WithTracerProvider(tp),
			otelgrpc.WithPropagators(Propagator()),
		)),
	}
}
