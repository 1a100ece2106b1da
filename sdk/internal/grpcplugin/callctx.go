package grpcplugin

import (
	"context"
	"strings"

	"github.com/hashicorp/go-hclog"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
)

type loggerKey struct{}

// WithLogger returns ctx carrying l for sdk.Logger.
func WithLogger(ctx context.Context, l hclog.Logger) context.Context {
	return context.WithValue(ctx, loggerKey{}, l)
}

// LoggerFrom returns the logger WithLogger put in ctx.
func LoggerFrom(ctx context.Context) (hclog.Logger, bool) {
	l, ok := ctx.Value(loggerKey{}).(hclog.Logger)
	return l, ok && l != nil
}

// loggerUnary puts the plugin's logger into every call's ctx, named for the
// call and tagged with the host's trace id, so a plugin's log lines can be
// found next to the host's for the same request.
func loggerUnary(logger hclog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		l := logger.With("rpc", info.FullMethod[strings.LastIndexByte(info.FullMethod, '/')+1:])
		if sc := trace.SpanContextFromContext(ctx); sc.HasTraceID() {
			l = l.With("trace_id", sc.TraceID().String())
		}
		return handler(WithLogger(ctx, l), req)
	}
}

// CancelBeforeCallKey is request metadata that makes the plugin's server
// cancel the call's context before the implementation runs. The conformance
// suite sends it to check that the implementation itself (not the host-side
// client) returns promptly with the context's error; a host never sends it,
// and a call carrying it can only fail.
const CancelBeforeCallKey = "switchyard-conformance-cancel-before-call"

func cancelUnary(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	if md, ok := metadata.FromIncomingContext(ctx); ok && len(md.Get(CancelBeforeCallKey)) > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(ctx)
		cancel()
	}
	return handler(ctx, req)
}
