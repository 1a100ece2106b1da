package sdk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"regexp"
	"syscall"

	"github.com/hashicorp/go-plugin"
)

// DebugEnv, set to a plugin instance id, makes Serve run in debug mode: the
// plugin serves on its own (under a debugger, say) and prints how to point
// a Switchyard host at it. See ServeDebug.
const DebugEnv = "SWITCHYARD_PLUGIN_DEBUG"

// ReattachEnv is the host's environment variable for plugins.reattach: a
// JSON object from instance id to Reattach, naming plugins that are already
// running in debug mode for the host to connect to instead of launching.
const ReattachEnv = "SWITCHYARD_PLUGINS_REATTACH"

// Reattach tells a host how to reach a plugin already running in debug
// mode. Its JSON is that of go-plugin's reattach configuration (the shape
// of Terraform's TF_REATTACH_PROVIDERS entries).
type Reattach struct {
	Protocol        string
	ProtocolVersion int
	Pid             int
	Test            bool
	Addr            ReattachAddr
}

// ReattachAddr is the plugin's listening address.
type ReattachAddr struct {
	Network string // "unix" or "tcp"
	String  string
}

var instanceIDRe = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)

// ParseReattach reads a ReattachEnv value. Every entry must name a grpc
// plugin of a protocol version this SDK speaks at a unix or tcp address.
func ParseReattach(raw string) (map[string]Reattach, error) {
	var m map[string]Reattach
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		return nil, fmt.Errorf("not a JSON object of instance id to reattach configuration: %w", err)
	}
	for id, r := range m {
		switch {
		case !instanceIDRe.MatchString(id):
			return nil, fmt.Errorf("%q is not an instance id", id)
		case r.Protocol != string(plugin.ProtocolGRPC):
			return nil, fmt.Errorf("%s: protocol %q, want grpc", id, r.Protocol)
		case r.ProtocolVersion != ProtocolVersion:
			return nil, fmt.Errorf("%s: protocol version %d, this host speaks %d", id, r.ProtocolVersion, ProtocolVersion)
		case r.Pid <= 0:
			return nil, fmt.Errorf("%s: no pid", id)
		case r.Addr.Network != "unix" && r.Addr.Network != "tcp" || r.Addr.String == "":
			return nil, fmt.Errorf("%s: address %s %q, want a unix socket or tcp address", id, r.Addr.Network, r.Addr.String)
		}
	}
	return m, nil
}

// Config is the go-plugin form of r, for plugin.ClientConfig.Reattach.
func (r Reattach) Config() (*plugin.ReattachConfig, error) {
	var addr net.Addr
	var err error
	switch r.Addr.Network {
	case "unix":
		addr, err = net.ResolveUnixAddr("unix", r.Addr.String)
	case "tcp":
		addr, err = net.ResolveTCPAddr("tcp", r.Addr.String)
	default:
		err = fmt.Errorf("network %q", r.Addr.Network)
	}
	if err != nil {
		return nil, fmt.Errorf("reattach address: %w", err)
	}
	return &plugin.ReattachConfig{
		Protocol: plugin.Protocol(r.Protocol), ProtocolVersion: r.ProtocolVersion,
		Addr: addr, Pid: r.Pid, Test: r.Test,
	}, nil
}

// ServeDebug serves opts without a host to start it, until ctx ends, and
// writes to out the ReattachEnv line that points a Switchyard host at it as
// instance id. Serve calls it when DebugEnv is set; run the plugin under a
// debugger that way:
//
//	SWITCHYARD_PLUGIN_DEBUG=sandbox dlv exec bin/plugins/sandbox
//
// The host connects without launching anything, verifying nothing and
// without TLS (the socket is private to your user), and leaves the plugin
// running when it stops, so it can be restarted against the same session.
// Debug mode is for development only.
func ServeDebug(ctx context.Context, id string, opts ServeOpts, out io.Writer) error {
	if !instanceIDRe.MatchString(id) {
		return fmt.Errorf("switchyard plugin: %s=%q is not an instance id (lower-case letters, digits, - and _)", DebugEnv, id)
	}
	cfg, err := serveConfig(opts)
	if err != nil {
		return err
	}
	reattach := make(chan *plugin.ReattachConfig, 1)
	closed := make(chan struct{})
	cfg.Test = &plugin.ServeTestConfig{Context: ctx, ReattachConfigCh: reattach, CloseCh: closed}
	go plugin.Serve(cfg)
	var rc *plugin.ReattachConfig
	select {
	case rc = <-reattach:
	case <-closed:
		return errors.New("switchyard plugin: the debug server did not start (its log says why)")
	}
	line, err := json.Marshal(map[string]Reattach{id: {
		Protocol: string(rc.Protocol), ProtocolVersion: rc.ProtocolVersion, Pid: rc.Pid, Test: true,
		Addr: ReattachAddr{Network: rc.Addr.Network(), String: rc.Addr.String()},
	}})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "Switchyard plugin (%s) serving in debug mode as instance %q.\n"+
		"Start Switchyard with this in its environment (or as plugins.reattach):\n\n"+
		"\t%s='%s'\n\nStop with Ctrl-C.\n", describeKinds(opts), id, ReattachEnv, line)
	<-closed
	return nil
}

// debugContext ends on Ctrl-C or SIGTERM.
func debugContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}
