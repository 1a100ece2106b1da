package grpcplugin

import (
	"context"
	"errors"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/switchyard/switchyard/sdk/internal/wire"
	"github.com/switchyard/switchyard/sdk/mailer"
	"github.com/switchyard/switchyard/sdk/meta"
	commonv1 "github.com/switchyard/switchyard/sdk/proto/common/v1"
	mailerv1 "github.com/switchyard/switchyard/sdk/proto/mailer/v1"
)

// MailerPlugin is the go-plugin plugin for meta.KindMailer.
type MailerPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	Impl mailer.Mailer
}

var _ plugin.GRPCPlugin = (*MailerPlugin)(nil)

// GRPCServer registers the mailer service.
func (p *MailerPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	if p.Impl == nil {
		return errors.New("mailer plugin served without an implementation")
	}
	mailerv1.RegisterMailerServer(s, &mailerServer{impl: p.Impl})
	return nil
}

// GRPCClient returns a mailer.Mailer backed by conn.
func (p *MailerPlugin) GRPCClient(ctx context.Context, _ *plugin.GRPCBroker, conn *grpc.ClientConn) (any, error) {
	return NewMailerClient(ctx, conn), nil
}

type mailerServer struct {
	mailerv1.UnimplementedMailerServer
	impl mailer.Mailer
}

func (s *mailerServer) Describe(ctx context.Context, _ *commonv1.DescribeRequest) (*commonv1.PluginInfo, error) {
	i, err := s.impl.Describe(ctx)
	return respond(i, err, func(i meta.Info) *commonv1.PluginInfo { return wire.InfoToProto(i, meta.KindMailer) })
}

func (s *mailerServer) Configure(ctx context.Context, req *commonv1.ConfigureRequest) (*commonv1.ConfigureResponse, error) {
	return serveConfigure(ctx, s.impl, req)
}

func (s *mailerServer) CheckHealth(ctx context.Context, _ *commonv1.CheckHealthRequest) (*commonv1.CheckHealthResponse, error) {
	return serveCheckHealth(ctx, s.impl)
}

func (s *mailerServer) TestConnection(ctx context.Context, _ *commonv1.TestConnectionRequest) (*commonv1.TestConnectionResponse, error) {
	return serveTestConnection(ctx, s.impl)
}

func (s *mailerServer) Send(ctx context.Context, req *mailerv1.Message) (*mailerv1.SendResult, error) {
	r, err := s.impl.Send(ctx, wire.MessageFromProto(req))
	return respond(r, err, func(r mailer.SendResult) *mailerv1.SendResult {
		return &mailerv1.SendResult{MessageId: r.MessageID}
	})
}

// MailerClient is the host-side mailer.Mailer backed by gRPC.
type MailerClient struct {
	commonClient
	testConnClient
	rpc  mailerv1.MailerClient
	done context.Context
}

var _ mailer.Mailer = (*MailerClient)(nil)

// NewMailerClient returns a mailer.Mailer calling the service on conn.
func NewMailerClient(done context.Context, conn grpc.ClientConnInterface) *MailerClient {
	rpc := mailerv1.NewMailerClient(conn)
	return &MailerClient{
		commonClient:   commonClient{rpc: rpc, done: done},
		testConnClient: testConnClient{rpc: rpc, done: done},
		rpc:            rpc, done: done,
	}
}

func (c *MailerClient) Describe(ctx context.Context) (meta.Info, error) {
	r, err := call(ctx, c.done, c.rpc.Describe, &commonv1.DescribeRequest{})
	if err != nil {
		return meta.Info{}, err
	}
	return wire.InfoFromProto(r), nil
}

func (c *MailerClient) Send(ctx context.Context, msg mailer.Message) (mailer.SendResult, error) {
	r, err := call(ctx, c.done, c.rpc.Send, wire.MessageToProto(msg))
	if err != nil {
		return mailer.SendResult{}, err
	}
	return mailer.SendResult{MessageID: r.GetMessageId()}, nil
}
