package sdk

import (
	"fmt"
	"os"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"go.opentelemetry.io/otel/trace"

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

	// Logger is the plugin's logger. Nil means JSON lines on stderr, which
	// the host folds into its own structured log. Use the logger (not
	// stdout) for diagnostics; never log settings or payment details.
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

// Serve runs the plugin until the host stops it. It is the whole of a
// plugin's main function:
//
//	func main() { sdk.Serve(sdk.ServeOpts{Provider: sandbox.New()}) }
//
// Run by hand (not by the host), it explains that it is a plugin and exits.
func Serve(opts ServeOpts) {
	cfg := ServeConfig(opts)
	if len(cfg.VersionedPlugins[ProtocolVersion]) == 0 {
		fmt.Fprintln(os.Stderr, "switchyard plugin: sdk.Serve needs at least one of Provider, Provisioner, Registrar or Mailer")
		os.Exit(1)
	}
	plugin.Serve(cfg)
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
