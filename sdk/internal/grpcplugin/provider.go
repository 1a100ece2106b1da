package grpcplugin

import (
	"context"
	"errors"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/switchyard/switchyard/sdk/internal/wire"
	"github.com/switchyard/switchyard/sdk/meta"
	commonv1 "github.com/switchyard/switchyard/sdk/proto/common/v1"
	providerv1 "github.com/switchyard/switchyard/sdk/proto/provider/v1"
	"github.com/switchyard/switchyard/sdk/provider"
	"github.com/switchyard/switchyard/sdk/sdkerr"
)

// ProviderPlugin is the go-plugin plugin for meta.KindProvider. Impl is set
// on the plugin side and nil on the host side.
type ProviderPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	Impl provider.Provider
}

var _ plugin.GRPCPlugin = (*ProviderPlugin)(nil)

// GRPCServer registers the provider service.
func (p *ProviderPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	if p.Impl == nil {
		return errors.New("provider plugin served without an implementation")
	}
	providerv1.RegisterProviderServer(s, &providerServer{impl: p.Impl})
	return nil
}

// GRPCClient returns a provider.Provider backed by conn.
func (p *ProviderPlugin) GRPCClient(ctx context.Context, _ *plugin.GRPCBroker, conn *grpc.ClientConn) (any, error) {
	return NewProviderClient(ctx, conn), nil
}

// providerServer exposes a provider.Provider as the gRPC service.
type providerServer struct {
	providerv1.UnimplementedProviderServer
	impl provider.Provider
}

var _ providerv1.ProviderServer = (*providerServer)(nil)

func (s *providerServer) Describe(ctx context.Context, _ *commonv1.DescribeRequest) (*providerv1.DescribeResponse, error) {
	d, err := s.impl.Describe(ctx)
	// Capabilities follow from the interfaces, never from a hand-kept list.
	d.Capabilities = provider.Capabilities(s.impl)
	return respond(d, err, wire.DescriptionToProto)
}

func (s *providerServer) Configure(ctx context.Context, req *commonv1.ConfigureRequest) (*commonv1.ConfigureResponse, error) {
	return serveConfigure(ctx, s.impl, req)
}

func (s *providerServer) CheckHealth(ctx context.Context, _ *commonv1.CheckHealthRequest) (*commonv1.CheckHealthResponse, error) {
	return serveCheckHealth(ctx, s.impl)
}

func (s *providerServer) CreatePayment(ctx context.Context, req *providerv1.CreatePaymentRequest) (*providerv1.CreatePaymentResponse, error) {
	r, err := s.impl.CreatePayment(ctx, wire.CreatePaymentRequestFromProto(req))
	return respond(r, err, wire.CreatePaymentResponseToProto)
}

func (s *providerServer) GetPayment(ctx context.Context, req *providerv1.GetPaymentRequest) (*providerv1.Payment, error) {
	r, err := s.impl.GetPayment(ctx, wire.GetPaymentRequestFromProto(req))
	return respond(r, err, wire.PaymentToProto)
}

func (s *providerServer) Refund(ctx context.Context, req *providerv1.RefundRequest) (*providerv1.RefundResult, error) {
	rf, ok := s.impl.(provider.Refunder)
	if !ok {
		return nil, wire.ToStatus(sdkerr.Unimplemented("provider does not refund"))
	}
	r, err := rf.Refund(ctx, wire.RefundRequestFromProto(req))
	return respond(r, err, wire.RefundResultToProto)
}

func (s *providerServer) HandleWebhook(ctx context.Context, req *providerv1.WebhookRequest) (*providerv1.WebhookResponse, error) {
	r, err := s.impl.HandleWebhook(ctx, wire.WebhookRequestFromProto(req))
	return respond(r, err, wire.WebhookResponseToProto)
}

func (s *providerServer) HandleHTTP(ctx context.Context, req *providerv1.HTTPRequest) (*providerv1.HTTPResponse, error) {
	h, ok := s.impl.(provider.HTTPHandler)
	if !ok {
		return nil, wire.ToStatus(sdkerr.Unimplemented("provider serves no http routes"))
	}
	r, err := h.HandleHTTP(ctx, wire.HTTPRequestFromProto(req))
	return respond(r, err, wire.HTTPResponseToProto)
}

func (s *providerServer) TestConnection(ctx context.Context, _ *commonv1.TestConnectionRequest) (*commonv1.TestConnectionResponse, error) {
	t, ok := s.impl.(provider.ConnectionTester)
	if !ok {
		return nil, wire.ToStatus(sdkerr.Unimplemented("provider has no connection test"))
	}
	return serveTestConnection(ctx, t)
}

// ProviderClient is the host-side provider.Client backed by gRPC.
type ProviderClient struct {
	commonClient
	testConnClient
	rpc  providerv1.ProviderClient
	done context.Context
}

var _ provider.Client = (*ProviderClient)(nil)

// NewProviderClient returns a provider.Client calling the service on conn.
// done, when non-nil, is cancelled when the plugin process exits.
func NewProviderClient(done context.Context, conn grpc.ClientConnInterface) *ProviderClient {
	rpc := providerv1.NewProviderClient(conn)
	return &ProviderClient{
		commonClient:   commonClient{rpc: rpc, done: done},
		testConnClient: testConnClient{rpc: rpc, done: done},
		rpc:            rpc, done: done,
	}
}

func (c *ProviderClient) Describe(ctx context.Context) (provider.Description, error) {
	r, err := call(ctx, c.done, c.rpc.Describe, &commonv1.DescribeRequest{})
	if err != nil {
		return provider.Description{}, err
	}
	d := wire.DescriptionFromProto(r)
	if d.Kind == "" {
		d.Kind = meta.KindProvider
	}
	return d, nil
}

func (c *ProviderClient) CreatePayment(ctx context.Context, req provider.CreatePaymentRequest) (provider.CreatePaymentResponse, error) {
	r, err := call(ctx, c.done, c.rpc.CreatePayment, wire.CreatePaymentRequestToProto(req))
	if err != nil {
		return provider.CreatePaymentResponse{}, err
	}
	return wire.CreatePaymentResponseFromProto(r), nil
}

func (c *ProviderClient) GetPayment(ctx context.Context, req provider.GetPaymentRequest) (provider.Payment, error) {
	r, err := call(ctx, c.done, c.rpc.GetPayment, wire.GetPaymentRequestToProto(req))
	if err != nil {
		return provider.Payment{}, err
	}
	return wire.PaymentFromProto(r), nil
}

func (c *ProviderClient) Refund(ctx context.Context, req provider.RefundRequest) (provider.RefundResult, error) {
	r, err := call(ctx, c.done, c.rpc.Refund, wire.RefundRequestToProto(req))
	if err != nil {
		return provider.RefundResult{}, err
	}
	return wire.RefundResultFromProto(r), nil
}

func (c *ProviderClient) HandleWebhook(ctx context.Context, req provider.WebhookRequest) (provider.WebhookResponse, error) {
	r, err := call(ctx, c.done, c.rpc.HandleWebhook, wire.WebhookRequestToProto(req))
	if err != nil {
		return provider.WebhookResponse{}, err
	}
	return wire.WebhookResponseFromProto(r), nil
}

func (c *ProviderClient) HandleHTTP(ctx context.Context, req provider.HTTPRequest) (provider.HTTPResponse, error) {
	r, err := call(ctx, c.done, c.rpc.HandleHTTP, wire.HTTPRequestToProto(req))
	if err != nil {
		return provider.HTTPResponse{}, err
	}
	return wire.HTTPResponseFromProto(r), nil
}
