package host

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os/exec"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"

	"github.com/switchyard/switchyard/sdk"
	"github.com/switchyard/switchyard/sdk/internal/grpcplugin"
	"github.com/switchyard/switchyard/sdk/mailer"
	"github.com/switchyard/switchyard/sdk/meta"
	"github.com/switchyard/switchyard/sdk/provider"
	"github.com/switchyard/switchyard/sdk/provisioner"
	"github.com/switchyard/switchyard/sdk/registrar"
)

// VersionedPlugins is the plugin set per protocol version a host dispenses
// from. Every kind is present; Dispense picks one by meta.Kind name.
func VersionedPlugins() map[int]plugin.PluginSet {
	return map[int]plugin.PluginSet{sdk.ProtocolVersion: grpcplugin.ClientSet()}
}

// DialOptions are the gRPC dial options a host must use: they carry the
// caller's trace context into the plugin (otelgrpc). tp nil means otel's
// global tracer provider.
func DialOptions(tp trace.TracerProvider) []grpc.DialOption {
	return grpcplugin.DialOptions(tp)
}

// Options tunes ClientConfig.
type Options struct {
	// SHA256 pins the binary's checksum; go-plugin refuses to start a binary
	// that does not match. Nil skips the check.
	SHA256 []byte
	// StartTimeout bounds the handshake; zero means go-plugin's default
	// (one minute).
	StartTimeout time.Duration
	// Logger receives the plugin's hclog output (its stderr, parsed line
	// by line) and go-plugin's own messages; nil means go-plugin's default
	// logger on stderr.
	Logger         hclog.Logger
	TracerProvider trace.TracerProvider
}

// ClientConfig is the go-plugin client configuration for launching cmd as a
// Switchyard plugin: fixed handshake, version negotiation, gRPC only,
// AutoMTLS, no host environment leaked into the plugin (only cmd.Env is
// passed), trace propagation, and the checksum pin when given.
func ClientConfig(cmd *exec.Cmd, o Options) *plugin.ClientConfig {
	cfg := &plugin.ClientConfig{
		HandshakeConfig:  sdk.Handshake(),
		VersionedPlugins: VersionedPlugins(),
		Cmd:              cmd,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:         true,
		SkipHostEnv:      true,
		StartTimeout:     o.StartTimeout,
		Logger:           o.Logger,
		GRPCDialOptions:  DialOptions(o.TracerProvider),
	}
	if len(o.SHA256) > 0 {
		cfg.SecureConfig = &plugin.SecureConfig{Checksum: o.SHA256, Hash: sha256.New()}
	}
	return cfg
}

// ReattachClientConfig is the client configuration for a plugin already
// running in debug mode (see sdk.ServeDebug and sdk.ParseReattach): nothing
// is launched, no checksum is verified and the connection has no TLS, so
// use it only for development. Killing the client leaves the plugin
// running.
func ReattachClientConfig(rc *plugin.ReattachConfig, o Options) *plugin.ClientConfig {
	versioned := VersionedPlugins()
	return &plugin.ClientConfig{
		HandshakeConfig: sdk.Handshake(),
		// go-plugin negotiates VersionedPlugins only when it launches the
		// binary; a reattached client dispenses from Plugins.
		Plugins:          versioned[rc.ProtocolVersion],
		VersionedPlugins: versioned,
		Reattach:         rc,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		StartTimeout:     o.StartTimeout,
		Logger:           o.Logger,
		GRPCDialOptions:  DialOptions(o.TracerProvider),
	}
}

func dispense[T any](c plugin.ClientProtocol, kind meta.Kind) (T, error) {
	var zero T
	raw, err := c.Dispense(string(kind))
	if err != nil {
		return zero, fmt.Errorf("dispense %s: %w", kind, err)
	}
	v, ok := raw.(T)
	if !ok {
		return zero, fmt.Errorf("dispense %s: plugin returned %T", kind, raw)
	}
	return v, nil
}

// Provider dispenses the provider served by a connected plugin (from
// (*plugin.Client).Client()).
func Provider(c plugin.ClientProtocol) (provider.Client, error) {
	return dispense[provider.Client](c, meta.KindProvider)
}

// Provisioner dispenses the provisioner served by a connected plugin.
func Provisioner(c plugin.ClientProtocol) (provisioner.Provisioner, error) {
	return dispense[provisioner.Provisioner](c, meta.KindProvisioner)
}

// Registrar dispenses the registrar served by a connected plugin.
func Registrar(c plugin.ClientProtocol) (registrar.Registrar, error) {
	return dispense[registrar.Registrar](c, meta.KindRegistrar)
}

// Mailer dispenses the mailer served by a connected plugin.
func Mailer(c plugin.ClientProtocol) (mailer.Mailer, error) {
	return dispense[mailer.Mailer](c, meta.KindMailer)
}

// NewProviderClient returns a provider.Client over an existing gRPC
// connection, for hosts that manage connections themselves (and for
// benchmarks). done, when non-nil, makes calls fail fast with
// sdk.CategoryUnavailable once it is cancelled (the plugin has exited).
func NewProviderClient(done context.Context, conn grpc.ClientConnInterface) provider.Client {
	return grpcplugin.NewProviderClient(done, conn)
}

// NewProvisionerClient is NewProviderClient for provisioners.
func NewProvisionerClient(done context.Context, conn grpc.ClientConnInterface) provisioner.Provisioner {
	return grpcplugin.NewProvisionerClient(done, conn)
}

// NewRegistrarClient is NewProviderClient for registrars.
func NewRegistrarClient(done context.Context, conn grpc.ClientConnInterface) registrar.Registrar {
	return grpcplugin.NewRegistrarClient(done, conn)
}

// NewMailerClient is NewProviderClient for mailers.
func NewMailerClient(done context.Context, conn grpc.ClientConnInterface) mailer.Mailer {
	return grpcplugin.NewMailerClient(done, conn)
}

// RegisterProviderServer registers impl's gRPC service on s, for hosts and
// benchmarks that run a provider in-process over a plain gRPC server.
func RegisterProviderServer(s *grpc.Server, impl provider.Provider) error {
	return (&grpcplugin.ProviderPlugin{Impl: impl}).GRPCServer(nil, s)
}
