package grpcplugin

import (
	"context"

	"google.golang.org/grpc"

	"github.com/switchyard/switchyard/sdk/internal/wire"
	"github.com/switchyard/switchyard/sdk/meta"
	commonv1 "github.com/switchyard/switchyard/sdk/proto/common/v1"
	"github.com/switchyard/switchyard/sdk/sdkerr"
)

// rpcFunc is the shape of every generated client method.
type rpcFunc[Req, Resp any] func(context.Context, Req, ...grpc.CallOption) (Resp, error)

// call makes one RPC and maps its error back to a categorized SDK error. It
// fails fast when go-plugin has already seen the plugin process exit, so
// callers get a clear "unavailable" instead of a transport error.
func call[Req, Resp any](ctx, done context.Context, fn rpcFunc[Req, Resp], req Req) (Resp, error) {
	if done != nil && done.Err() != nil {
		var zero Resp
		return zero, sdkerr.Unavailable("plugin process has exited")
	}
	resp, err := fn(ctx, req)
	if err != nil {
		var zero Resp
		return zero, wire.FromStatus(err)
	}
	return resp, nil
}

// commonRPC is the part of every generated client shared by all kinds.
type commonRPC interface {
	Configure(ctx context.Context, in *commonv1.ConfigureRequest, opts ...grpc.CallOption) (*commonv1.ConfigureResponse, error)
	CheckHealth(ctx context.Context, in *commonv1.CheckHealthRequest, opts ...grpc.CallOption) (*commonv1.CheckHealthResponse, error)
}

// commonClient implements Configure and CheckHealth for every kind's client.
type commonClient struct {
	rpc  commonRPC
	done context.Context
}

func (c commonClient) Configure(ctx context.Context, settings map[string]string) error {
	_, err := call(ctx, c.done, c.rpc.Configure, &commonv1.ConfigureRequest{Settings: settings})
	return err
}

func (c commonClient) CheckHealth(ctx context.Context) (meta.Health, error) {
	r, err := call(ctx, c.done, c.rpc.CheckHealth, &commonv1.CheckHealthRequest{})
	if err != nil {
		return meta.Health{}, err
	}
	return wire.HealthFromProto(r), nil
}

// testConnRPC is the TestConnection method shared by the non-provider kinds.
type testConnRPC interface {
	TestConnection(ctx context.Context, in *commonv1.TestConnectionRequest, opts ...grpc.CallOption) (*commonv1.TestConnectionResponse, error)
}

type testConnClient struct {
	rpc  testConnRPC
	done context.Context
}

func (c testConnClient) TestConnection(ctx context.Context) (meta.TestResult, error) {
	r, err := call(ctx, c.done, c.rpc.TestConnection, &commonv1.TestConnectionRequest{})
	if err != nil {
		return meta.TestResult{}, err
	}
	return wire.TestResultFromProto(r), nil
}

// commonImpl is what every kind's implementation shares.
type commonImpl interface {
	Configure(ctx context.Context, settings map[string]string) error
	CheckHealth(ctx context.Context) (meta.Health, error)
}

func serveConfigure(ctx context.Context, impl commonImpl, req *commonv1.ConfigureRequest) (*commonv1.ConfigureResponse, error) {
	settings := req.GetSettings()
	if settings == nil {
		settings = map[string]string{}
	}
	if err := impl.Configure(ctx, settings); err != nil {
		return nil, wire.ToStatus(err)
	}
	return &commonv1.ConfigureResponse{}, nil
}

func serveCheckHealth(ctx context.Context, impl commonImpl) (*commonv1.CheckHealthResponse, error) {
	h, err := impl.CheckHealth(ctx)
	if err != nil {
		return nil, wire.ToStatus(err)
	}
	return wire.HealthToProto(h), nil
}

type testConnImpl interface {
	TestConnection(ctx context.Context) (meta.TestResult, error)
}

func serveTestConnection(ctx context.Context, impl testConnImpl) (*commonv1.TestConnectionResponse, error) {
	r, err := impl.TestConnection(ctx)
	if err != nil {
		return nil, wire.ToStatus(err)
	}
	return wire.TestResultToProto(r), nil
}

// respond converts a successful result or maps the error.
func respond[T, P any](v T, err error, conv func(T) P) (P, error) {
	if err != nil {
		var zero P
		return zero, wire.ToStatus(err)
	}
	return conv(v), nil
}
