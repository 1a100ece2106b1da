package grpcplugin

import (
	"context"
	"errors"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/switchyard/switchyard/sdk/internal/wire"
	"github.com/switchyard/switchyard/sdk/meta"
	commonv1 "github.com/switchyard/switchyard/sdk/proto/common/v1"
	provisionerv1 "github.com/switchyard/switchyard/sdk/proto/provisioner/v1"
	"github.com/switchyard/switchyard/sdk/provisioner"
	"github.com/switchyard/switchyard/sdk/sdkerr"
)

// ProvisionerPlugin is the go-plugin plugin for meta.KindProvisioner.
type ProvisionerPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	Impl provisioner.Provisioner
}

var _ plugin.GRPCPlugin = (*ProvisionerPlugin)(nil)

// GRPCServer registers the provisioner service.
func (p *ProvisionerPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	if p.Impl == nil {
		return errors.New("provisioner plugin served without an implementation")
	}
	provisionerv1.RegisterProvisionerServer(s, &provisionerServer{impl: p.Impl})
	return nil
}

// GRPCClient returns a provisioner.Provisioner backed by conn.
func (p *ProvisionerPlugin) GRPCClient(ctx context.Context, _ *plugin.GRPCBroker, conn *grpc.ClientConn) (any, error) {
	return NewProvisionerClient(ctx, conn), nil
}

type provisionerServer struct {
	provisionerv1.UnimplementedProvisionerServer
	impl provisioner.Provisioner
}

func (s *provisionerServer) Describe(ctx context.Context, _ *commonv1.DescribeRequest) (*commonv1.PluginInfo, error) {
	i, err := s.impl.Describe(ctx)
	i.Capabilities = provisioner.Capabilities(s.impl)
	return respond(i, err, func(i meta.Info) *commonv1.PluginInfo { return wire.InfoToProto(i, meta.KindProvisioner) })
}

func (s *provisionerServer) Configure(ctx context.Context, req *commonv1.ConfigureRequest) (*commonv1.ConfigureResponse, error) {
	return serveConfigure(ctx, s.impl, req)
}

func (s *provisionerServer) CheckHealth(ctx context.Context, _ *commonv1.CheckHealthRequest) (*commonv1.CheckHealthResponse, error) {
	return serveCheckHealth(ctx, s.impl)
}

func (s *provisionerServer) TestConnection(ctx context.Context, _ *commonv1.TestConnectionRequest) (*commonv1.TestConnectionResponse, error) {
	return serveTestConnection(ctx, s.impl)
}

func (s *provisionerServer) CreateAccount(ctx context.Context, req *provisionerv1.CreateAccountRequest) (*provisionerv1.Account, error) {
	a, err := s.impl.CreateAccount(ctx, wire.CreateAccountRequestFromProto(req))
	return respond(a, err, wire.AccountToProto)
}

func (s *provisionerServer) Suspend(ctx context.Context, req *provisionerv1.SuspendRequest) (*provisionerv1.Account, error) {
	a, err := s.impl.Suspend(ctx, provisioner.SuspendRequest{Username: req.GetUsername(), Reason: req.GetReason()})
	return respond(a, err, wire.AccountToProto)
}

func (s *provisionerServer) Unsuspend(ctx context.Context, req *provisionerv1.UnsuspendRequest) (*provisionerv1.Account, error) {
	a, err := s.impl.Unsuspend(ctx, provisioner.UnsuspendRequest{Username: req.GetUsername()})
	return respond(a, err, wire.AccountToProto)
}

func (s *provisionerServer) Terminate(ctx context.Context, req *provisionerv1.TerminateRequest) (*commonv1.Empty, error) {
	err := s.impl.Terminate(ctx, provisioner.TerminateRequest{Username: req.GetUsername(), KeepDNS: req.GetKeepDns()})
	return respond(struct{}{}, err, empty)
}

func (s *provisionerServer) ChangePackage(ctx context.Context, req *provisionerv1.ChangePackageRequest) (*provisionerv1.Account, error) {
	a, err := s.impl.ChangePackage(ctx, provisioner.ChangePackageRequest{Username: req.GetUsername(), Package: req.GetPackage()})
	return respond(a, err, wire.AccountToProto)
}

func (s *provisionerServer) ChangePassword(ctx context.Context, req *provisionerv1.ChangePasswordRequest) (*commonv1.Empty, error) {
	err := s.impl.ChangePassword(ctx, provisioner.ChangePasswordRequest{Username: req.GetUsername(), Password: req.GetPassword()})
	return respond(struct{}{}, err, empty)
}

func (s *provisionerServer) ListPackages(ctx context.Context, _ *provisionerv1.ListPackagesRequest) (*provisionerv1.ListPackagesResponse, error) {
	l, ok := s.impl.(provisioner.PackageLister)
	if !ok {
		return nil, wire.ToStatus(sdkerr.Unimplemented("provisioner cannot list packages"))
	}
	pkgs, err := l.ListPackages(ctx)
	return respond(pkgs, err, wire.PackagesToProto)
}

func (s *provisionerServer) LoginURL(ctx context.Context, req *provisionerv1.LoginURLRequest) (*provisionerv1.LoginURLResponse, error) {
	l, ok := s.impl.(provisioner.LoginLinker)
	if !ok {
		return nil, wire.ToStatus(sdkerr.Unimplemented("provisioner cannot create login links"))
	}
	u, err := l.LoginURL(ctx, provisioner.LoginURLRequest{Username: req.GetUsername(), Service: req.GetService()})
	return respond(u, err, wire.LoginURLToProto)
}

func empty(struct{}) *commonv1.Empty { return &commonv1.Empty{} }

// ProvisionerClient is the host-side provisioner.Provisioner backed by gRPC.
type ProvisionerClient struct {
	commonClient
	testConnClient
	rpc  provisionerv1.ProvisionerClient
	done context.Context
}

var (
	_ provisioner.Provisioner   = (*ProvisionerClient)(nil)
	_ provisioner.PackageLister = (*ProvisionerClient)(nil)
	_ provisioner.LoginLinker   = (*ProvisionerClient)(nil)
)

// NewProvisionerClient returns a provisioner.Provisioner calling the service
// on conn.
func NewProvisionerClient(done context.Context, conn grpc.ClientConnInterface) *ProvisionerClient {
	rpc := provisionerv1.NewProvisionerClient(conn)
	return &ProvisionerClient{
		commonClient:   commonClient{rpc: rpc, done: done},
		testConnClient: testConnClient{rpc: rpc, done: done},
		rpc:            rpc, done: done,
	}
}

func (c *ProvisionerClient) Describe(ctx context.Context) (meta.Info, error) {
	r, err := call(ctx, c.done, c.rpc.Describe, &commonv1.DescribeRequest{})
	if err != nil {
		return meta.Info{}, err
	}
	return wire.InfoFromProto(r), nil
}

func (c *ProvisionerClient) account(r *provisionerv1.Account, err error) (provisioner.Account, error) {
	if err != nil {
		return provisioner.Account{}, err
	}
	return wire.AccountFromProto(r), nil
}

func (c *ProvisionerClient) CreateAccount(ctx context.Context, req provisioner.CreateAccountRequest) (provisioner.Account, error) {
	return c.account(call(ctx, c.done, c.rpc.CreateAccount, wire.CreateAccountRequestToProto(req)))
}

func (c *ProvisionerClient) Suspend(ctx context.Context, req provisioner.SuspendRequest) (provisioner.Account, error) {
	return c.account(call(ctx, c.done, c.rpc.Suspend, &provisionerv1.SuspendRequest{Username: req.Username, Reason: req.Reason}))
}

func (c *ProvisionerClient) Unsuspend(ctx context.Context, req provisioner.UnsuspendRequest) (provisioner.Account, error) {
	return c.account(call(ctx, c.done, c.rpc.Unsuspend, &provisionerv1.UnsuspendRequest{Username: req.Username}))
}

func (c *ProvisionerClient) Terminate(ctx context.Context, req provisioner.TerminateRequest) error {
	_, err := call(ctx, c.done, c.rpc.Terminate, &provisionerv1.TerminateRequest{Username: req.Username, KeepDns: req.KeepDNS})
	return err
}

func (c *ProvisionerClient) ChangePackage(ctx context.Context, req provisioner.ChangePackageRequest) (provisioner.Account, error) {
	return c.account(call(ctx, c.done, c.rpc.ChangePackage, &provisionerv1.ChangePackageRequest{Username: req.Username, Package: req.Package}))
}

func (c *ProvisionerClient) ChangePassword(ctx context.Context, req provisioner.ChangePasswordRequest) error {
	_, err := call(ctx, c.done, c.rpc.ChangePassword, &provisionerv1.ChangePasswordRequest{Username: req.Username, Password: req.Password})
	return err
}

// ListPackages implements provisioner.PackageLister; a plugin that does not
// implement it answers sdk.CategoryUnimplemented.
func (c *ProvisionerClient) ListPackages(ctx context.Context) ([]provisioner.Package, error) {
	r, err := call(ctx, c.done, c.rpc.ListPackages, &provisionerv1.ListPackagesRequest{})
	if err != nil {
		return nil, err
	}
	return wire.PackagesFromProto(r), nil
}

// LoginURL implements provisioner.LoginLinker; a plugin that does not
// implement it answers sdk.CategoryUnimplemented.
func (c *ProvisionerClient) LoginURL(ctx context.Context, req provisioner.LoginURLRequest) (provisioner.LoginURL, error) {
	r, err := call(ctx, c.done, c.rpc.LoginURL, &provisionerv1.LoginURLRequest{Username: req.Username, Service: req.Service})
	if err != nil {
		return provisioner.LoginURL{}, err
	}
	return wire.LoginURLFromProto(r), nil
}
