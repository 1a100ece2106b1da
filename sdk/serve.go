package sdk

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync/atomic"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"

	"github.com/switchyard/switchyard/sdk/internal/grpcplugin"
	"github.com/switchyard/switchyard/sdk/mailer"
	"github.com/switchyard/switchyard/sdk/provider"
	"github.com/switchyard/switchyard/sdk/provisioner"
	"github.com/switchyard/switchyard/sdk/registrar"
)

// LogLevelEnv names the variable the host sets to choose the plugin's log
// level (trace, debug, info, warn, error); info when unset.
const LogLevelEnv = "SWITCHYARD_PLUGIN_LOG_LEVEL"

// ServeOpts says what a plugin binary serves. Set at least one kind; a
// binary may serve several.
type ServeOpts struct {
	Provider    provider.Provider
	Provisioner provisioner.Provisioner
	Registrar   registrar.Registrar
	Mailer      mailer.Mailer

	// Logger is the plugin's logger, handed to every call as Logger(ctx).
	// Nil means JSON lines on stderr, which the host folds into its own
	// structured log. Never log settings or payment details.
	Logger hclog.Logger
	// TracerProvider records the plugin's own spans. Nil keeps spans
	// unrecorded, but the host's trace context still reaches every method's
	// ctx (for outbound calls to propagate).
	TracerProvider trace.TracerProvider
}

func (o ServeOpts) impls() grpcplugin.Impls {
	return grpcplugin.Impls{Provider: o.Provider, Provisioner: o.Provisioner, Registrar: o.Registrar, Mailer: o.Mailer}
}

// NewLogger returns the logger Serve uses by default: hclog JSON on stderr at
// the level from LogLevelEnv.
func NewLogger(name string) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{
		Name:       name,
		Level:      hclog.LevelFromString(os.Getenv(LogLevelEnv)),
		Output:     os.Stderr,
		JSONFormat: true,
	})
}

// Logger returns the logger for the call ctx belongs to: ServeOpts.Logger
// named for the method ("rpc") and tagged with the host's trace id, so the
// host's log shows the line beside its own for the same request. Outside a
// call (a unit test calling the implementation directly) it is the logger
// WithLogger put in ctx, or one that discards everything. It is never nil.
func Logger(ctx context.Context) hclog.Logger {
	if l, ok := grpcplugin.LoggerFrom(ctx); ok {
		return l
	}
	return hclog.NewNullLogger()
}

// WithLogger returns ctx carrying l for Logger, for tests that call an
// implementation without the SDK's server in between.
func WithLogger(ctx context.Context, l hclog.Logger) context.Context {
	return grpcplugin.WithLogger(ctx, l)
}

// ErrNotLaunchedByHost is what Serve returns when the binary was run by hand
// rather than by a Switchyard host (and not in debug mode).
var ErrNotLaunchedByHost = errors.New("this binary is a Switchyard plugin: the Switchyard host starts it " +
	"(plugins.instances in its configuration); to debug it, run it with " + DebugEnv + "=<instance id>")

// Serve runs the plugin until the host stops it, and is the whole of a
// plugin's main function:
//
//	func main() {
//		if err := sdk.Serve(sdk.ServeOpts{Provider: mygateway.New()}); err != nil {
//			fmt.Fprintln(os.Stderr, err)
//			os.Exit(1)
//		}
//	}
//
// It returns nil when the host asked the plugin to stop, ErrNotLaunchedByHost
// when the binary was run by hand, and another error when there is nothing
// to serve or the server could not start. With DebugEnv set it serves in
// debug mode instead (see ServeDebug).
func Serve(opts ServeOpts) error {
	if id := os.Getenv(DebugEnv); id != "" {
		ctx, stop := debugContext()
		defer stop()
		return ServeDebug(ctx, id, opts, os.Stdout)
	}
	cfg, err := serveConfig(opts)
	if err != nil {
		return err
	}
	if os.Getenv(MagicCookieKey) != MagicCookieValue {
		return ErrNotLaunchedByHost
	}
	exitWithHost(cfg.Logger)
	started := trackStart(cfg)
	plugin.Serve(cfg)
	if !started.Load() {
		return errors.New("switchyard plugin: the plugin server did not start (its log says why)")
	}
	return nil
}

func serveConfig(opts ServeOpts) (*plugin.ServeConfig, error) {
	cfg := ServeConfig(opts)
	if len(cfg.VersionedPlugins[ProtocolVersion]) == 0 {
		return nil, errors.New("switchyard plugin: ServeOpts needs at least one of Provider, Provisioner, Registrar or Mailer")
	}
	return cfg, nil
}

// trackStart reports whether go-plugin got as far as building the gRPC
// server: plugin.Serve returns without a word both when the host stops the
// plugin and when the listener cannot be opened.
func trackStart(cfg *plugin.ServeConfig) *atomic.Bool {
	var started atomic.Bool
	build := cfg.GRPCServer
	cfg.GRPCServer = func(opts []grpc.ServerOption) *grpc.Server {
		started.Store(true)
		return build(opts)
	}
	return &started
}

// ServeConfig is the go-plugin configuration Serve uses. Tests run it
// in-process with its Test field set (see package sdktest); plugins call
// Serve instead.
func ServeConfig(opts ServeOpts) *plugin.ServeConfig {
	logger := opts.Logger
	if logger == nil {
		logger = NewLogger("plugin")
	}
	return grpcplugin.ServeConfig(grpcplugin.ServeOptions{
		Handshake:       Handshake(),
		ProtocolVersion: ProtocolVersion,
		Impls:           opts.impls(),
		Logger:          logger,
		TracerProvider:  opts.TracerProvider,
	})
}

// describeKinds names the kinds opts serves, for messages.
func describeKinds(opts ServeOpts) string {
	var kinds []string
	for _, k := range []struct {
		name string
		set  bool
	}{{"provider", opts.Provider != nil}, {"provisioner", opts.Provisioner != nil}, {"registrar", opts.Registrar != nil}, {"mailer", opts.Mailer != nil}} {
		if k.set {
			kinds = append(kinds, k.name)
		}
	}
	return fmt.Sprint(kinds)
}
