package grpcplugin

import (
	"context"
	"errors"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/switchyard/switchyard/sdk/internal/wire"
	"github.com/switchyard/switchyard/sdk/meta"
	commonv1 "github.com/switchyard/switchyard/sdk/proto/common/v1"
	registrarv1 "github.com/switchyard/switchyard/sdk/proto/registrar/v1"
	"github.com/switchyard/switchyard/sdk/registrar"
	"github.com/switchyard/switchyard/sdk/sdkerr"
)

// RegistrarPlugin is the go-plugin plugin for meta.KindRegistrar.
type RegistrarPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	Impl registrar.Registrar
}

var _ plugin.GRPCPlugin = (*RegistrarPlugin)(nil)

// GRPCServer registers the registrar service.
func (p *RegistrarPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	if p.Impl == nil {
		return errors.New("registrar plugin served without an implementation")
	}
	registrarv1.RegisterRegistrarServer(s, &registrarServer{impl: p.Impl})
	return nil
}

// GRPCClient returns a registrar.Registrar backed by conn.
func (p *RegistrarPlugin) GRPCClient(ctx context.Context, _ *plugin.GRPCBroker, conn *grpc.ClientConn) (any, error) {
	return NewRegistrarClient(ctx, conn), nil
}

type registrarServer struct {
	registrarv1.UnimplementedRegistrarServer
	impl registrar.Registrar
}

func (s *registrarServer) Describe(ctx context.Context, _ *commonv1.DescribeRequest) (*commonv1.PluginInfo, error) {
	i, err := s.impl.Describe(ctx)
	i.Capabilities = registrar.Capabilities(s.impl)
	return respond(i, err, func(i meta.Info) *commonv1.PluginInfo { return wire.InfoToProto(i, meta.KindRegistrar) })
}

func (s *registrarServer) Configure(ctx context.Context, req *commonv1.ConfigureRequest) (*commonv1.ConfigureResponse, error) {
	return serveConfigure(ctx, s.impl, req)
}

func (s *registrarServer) CheckHealth(ctx context.Context, _ *commonv1.CheckHealthRequest) (*commonv1.CheckHealthResponse, error) {
	return serveCheckHealth(ctx, s.impl)
}

func (s *registrarServer) TestConnection(ctx context.Context, _ *commonv1.TestConnectionRequest) (*commonv1.TestConnectionResponse, error) {
	return serveTestConnection(ctx, s.impl)
}

func (s *registrarServer) CheckAvailability(ctx context.Context, req *registrarv1.AvailabilityRequest) (*registrarv1.AvailabilityResponse, error) {
	r, err := s.impl.CheckAvailability(ctx, registrar.AvailabilityRequest{Domains: req.GetDomains()})
	return respond(r, err, wire.AvailabilityToProto)
}

func (s *registrarServer) Register(ctx context.Context, req *registrarv1.RegisterRequest) (*registrarv1.Operation, error) {
	o, err := s.impl.Register(ctx, wire.RegisterRequestFromProto(req))
	return respond(o, err, wire.OperationToProto)
}

func (s *registrarServer) Transfer(ctx context.Context, req *registrarv1.TransferRequest) (*registrarv1.Operation, error) {
	o, err := s.impl.Transfer(ctx, wire.TransferRequestFromProto(req))
	return respond(o, err, wire.OperationToProto)
}

func (s *registrarServer) Renew(ctx context.Context, req *registrarv1.RenewRequest) (*registrarv1.Operation, error) {
	o, err := s.impl.Renew(ctx, wire.RenewRequestFromProto(req))
	return respond(o, err, wire.OperationToProto)
}

func (s *registrarServer) GetDomain(ctx context.Context, req *registrarv1.GetDomainRequest) (*registrarv1.Domain, error) {
	d, err := s.impl.GetDomain(ctx, registrar.GetDomainRequest{Domain: req.GetDomain()})
	return respond(d, err, wire.DomainToProto)
}

func (s *registrarServer) SetNameservers(ctx context.Context, req *registrarv1.SetNameserversRequest) (*registrarv1.Operation, error) {
	o, err := s.impl.SetNameservers(ctx, registrar.SetNameserversRequest{Domain: req.GetDomain(), Nameservers: req.GetNameservers()})
	return respond(o, err, wire.OperationToProto)
}

func (s *registrarServer) UpsertRecords(ctx context.Context, req *registrarv1.UpsertRecordsRequest) (*registrarv1.Operation, error) {
	o, err := s.impl.UpsertRecords(ctx, wire.UpsertRecordsRequestFromProto(req))
	return respond(o, err, wire.OperationToProto)
}

func (s *registrarServer) GetAuthCode(ctx context.Context, req *registrarv1.GetAuthCodeRequest) (*registrarv1.AuthCode, error) {
	a, err := s.impl.GetAuthCode(ctx, registrar.GetAuthCodeRequest{Domain: req.GetDomain()})
	return respond(a, err, func(a registrar.AuthCode) *registrarv1.AuthCode { return &registrarv1.AuthCode{Code: a.Code} })
}

func (s *registrarServer) SetLock(ctx context.Context, req *registrarv1.SetLockRequest) (*registrarv1.Operation, error) {
	o, err := s.impl.SetLock(ctx, registrar.SetLockRequest{Domain: req.GetDomain(), Locked: req.GetLocked()})
	return respond(o, err, wire.OperationToProto)
}

func (s *registrarServer) GetOperation(ctx context.Context, req *registrarv1.GetOperationRequest) (*registrarv1.Operation, error) {
	o, err := s.impl.GetOperation(ctx, registrar.GetOperationRequest{OperationID: req.GetOperationId()})
	return respond(o, err, wire.OperationToProto)
}

func (s *registrarServer) ChangeRecords(ctx context.Context, req *registrarv1.ChangeRecordsRequest) (*registrarv1.Operation, error) {
	rc, ok := s.impl.(registrar.RecordChanger)
	if !ok {
		return nil, wire.ToStatus(sdkerr.Unimplemented("this registrar cannot merge or delete records (no ChangeRecords)"))
	}
	o, err := rc.ChangeRecords(ctx, wire.ChangeRecordsRequestFromProto(req))
	return respond(o, err, wire.OperationToProto)
}

func (s *registrarServer) ListRecords(ctx context.Context, req *registrarv1.ListRecordsRequest) (*registrarv1.ListRecordsResponse, error) {
	rl, ok := s.impl.(registrar.RecordLister)
	if !ok {
		return nil, wire.ToStatus(sdkerr.Unimplemented("this registrar cannot list records (no ListRecords)"))
	}
	rs, err := rl.ListRecords(ctx, registrar.ListRecordsRequest{Domain: req.GetDomain(), Name: req.GetName(), Type: req.GetType()})
	return respond(rs, err, func(rs []registrar.Record) *registrarv1.ListRecordsResponse {
		return &registrarv1.ListRecordsResponse{Records: wire.RecordsToProto(rs)}
	})
}

// RegistrarClient is the host-side registrar.Registrar backed by gRPC.
type RegistrarClient struct {
	commonClient
	testConnClient
	rpc  registrarv1.RegistrarClient
	done context.Context
}

var (
	_ registrar.Registrar     = (*RegistrarClient)(nil)
	_ registrar.RecordChanger = (*RegistrarClient)(nil)
	_ registrar.RecordLister  = (*RegistrarClient)(nil)
)

// NewRegistrarClient returns a registrar.Registrar calling the service on conn.
func NewRegistrarClient(done context.Context, conn grpc.ClientConnInterface) *RegistrarClient {
	rpc := registrarv1.NewRegistrarClient(conn)
	return &RegistrarClient{
		commonClient:   commonClient{rpc: rpc, done: done},
		testConnClient: testConnClient{rpc: rpc, done: done},
		rpc:            rpc, done: done,
	}
}

func operation(r *registrarv1.Operation, err error) (registrar.Operation, error) {
	if err != nil {
		return registrar.Operation{}, err
	}
	return wire.OperationFromProto(r), nil
}

func (c *RegistrarClient) Describe(ctx context.Context) (meta.Info, error) {
	r, err := call(ctx, c.done, c.rpc.Describe, &commonv1.DescribeRequest{})
	if err != nil {
		return meta.Info{}, err
	}
	return wire.InfoFromProto(r), nil
}

func (c *RegistrarClient) CheckAvailability(ctx context.Context, req registrar.AvailabilityRequest) ([]registrar.Availability, error) {
	r, err := call(ctx, c.done, c.rpc.CheckAvailability, &registrarv1.AvailabilityRequest{Domains: req.Domains})
	if err != nil {
		return nil, err
	}
	return wire.AvailabilityFromProto(r), nil
}

func (c *RegistrarClient) Register(ctx context.Context, req registrar.RegisterRequest) (registrar.Operation, error) {
	return operation(call(ctx, c.done, c.rpc.Register, wire.RegisterRequestToProto(req)))
}

func (c *RegistrarClient) Transfer(ctx context.Context, req registrar.TransferRequest) (registrar.Operation, error) {
	return operation(call(ctx, c.done, c.rpc.Transfer, wire.TransferRequestToProto(req)))
}

func (c *RegistrarClient) Renew(ctx context.Context, req registrar.RenewRequest) (registrar.Operation, error) {
	return operation(call(ctx, c.done, c.rpc.Renew, wire.RenewRequestToProto(req)))
}

func (c *RegistrarClient) GetDomain(ctx context.Context, req registrar.GetDomainRequest) (registrar.Domain, error) {
	r, err := call(ctx, c.done, c.rpc.GetDomain, &registrarv1.GetDomainRequest{Domain: req.Domain})
	if err != nil {
		return registrar.Domain{}, err
	}
	return wire.DomainFromProto(r), nil
}

func (c *RegistrarClient) SetNameservers(ctx context.Context, req registrar.SetNameserversRequest) (registrar.Operation, error) {
	return operation(call(ctx, c.done, c.rpc.SetNameservers, &registrarv1.SetNameserversRequest{Domain: req.Domain, Nameservers: req.Nameservers}))
}

func (c *RegistrarClient) UpsertRecords(ctx context.Context, req registrar.UpsertRecordsRequest) (registrar.Operation, error) {
	return operation(call(ctx, c.done, c.rpc.UpsertRecords, wire.UpsertRecordsRequestToProto(req)))
}

func (c *RegistrarClient) GetAuthCode(ctx context.Context, req registrar.GetAuthCodeRequest) (registrar.AuthCode, error) {
	r, err := call(ctx, c.done, c.rpc.GetAuthCode, &registrarv1.GetAuthCodeRequest{Domain: req.Domain})
	if err != nil {
		return registrar.AuthCode{}, err
	}
	return registrar.AuthCode{Code: r.GetCode()}, nil
}

func (c *RegistrarClient) SetLock(ctx context.Context, req registrar.SetLockRequest) (registrar.Operation, error) {
	return operation(call(ctx, c.done, c.rpc.SetLock, &registrarv1.SetLockRequest{Domain: req.Domain, Locked: req.Locked}))
}

func (c *RegistrarClient) GetOperation(ctx context.Context, req registrar.GetOperationRequest) (registrar.Operation, error) {
	return operation(call(ctx, c.done, c.rpc.GetOperation, &registrarv1.GetOperationRequest{OperationId: req.OperationID}))
}

// ChangeRecords calls the optional RPC; a plugin without it answers
// sdk.CategoryUnimplemented.
func (c *RegistrarClient) ChangeRecords(ctx context.Context, req registrar.ChangeRecordsRequest) (registrar.Operation, error) {
	return operation(call(ctx, c.done, c.rpc.ChangeRecords, wire.ChangeRecordsRequestToProto(req)))
}

// ListRecords calls the optional RPC; a plugin without it answers
// sdk.CategoryUnimplemented.
func (c *RegistrarClient) ListRecords(ctx context.Context, req registrar.ListRecordsRequest) ([]registrar.Record, error) {
	r, err := call(ctx, c.done, c.rpc.ListRecords, &registrarv1.ListRecordsRequest{Domain: req.Domain, Name: req.Name, Type: req.Type})
	if err != nil {
		return nil, err
	}
	return wire.RecordsFromProto(r.GetRecords()), nil
}
