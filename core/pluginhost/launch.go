package pluginhost

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/switchyard/switchyard/config"
	"github.com/switchyard/switchyard/sdk"
	"github.com/switchyard/switchyard/sdk/host"
	"github.com/switchyard/switchyard/sdk/mailer"
	"github.com/switchyard/switchyard/sdk/meta"
	"github.com/switchyard/switchyard/sdk/provider"
	"github.com/switchyard/switchyard/sdk/provisioner"
	"github.com/switchyard/switchyard/sdk/registrar"
	"github.com/switchyard/switchyard/sdk/sdkerr"
)

// commonAPI is what every kind shares and the supervisor needs.
type commonAPI interface {
	Configure(ctx context.Context, settings map[string]string) error
	CheckHealth(ctx context.Context) (meta.Health, error)
}

// conn is one running plugin process.
type conn struct {
	client *plugin.Client
	// impl is the dispensed kind interface (provider.Client …).
	impl   any
	common commonAPI
	// done is cancelled by go-plugin when the process exits.
	done context.Context
	pid  int
}

// launch starts the plugin process, checks it is the configured kind and
// configures it. On error nothing is left running.
func (in *instance) launch(stop context.Context) (_ *conn, err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("plugin %s: %w", in.id, err)
		}
	}()
	cfg, err := in.clientConfig()
	if err != nil {
		return nil, err
	}
	tap := tapDone(cfg)
	client := plugin.NewClient(cfg)
	c := &conn{client: client}
	defer func() {
		if err != nil {
			c.stop(false)
		}
	}()

	rpc, err := client.Client()
	if err != nil {
		if errors.Is(err, plugin.ErrChecksumsDoNotMatch) {
			return nil, refuse("binary %q does not match the configured sha256: %w", in.binary, err)
		}
		if len(in.checksum) > 0 && strings.Contains(err.Error(), "checksum") {
			return nil, refuse("binary %q: %w", in.binary, err)
		}
		return nil, fmt.Errorf("start %q: %w", in.binary, err)
	}
	// A plugin in debug mode is the developer's process: never killed.
	if rc := client.ReattachConfig(); rc != nil && in.reattach == nil {
		c.pid = rc.Pid
	}
	switch in.kind {
	case meta.KindProvider:
		c.impl, err = host.Provider(rpc)
	case meta.KindProvisioner:
		c.impl, err = host.Provisioner(rpc)
	case meta.KindRegistrar:
		c.impl, err = host.Registrar(rpc)
	case meta.KindMailer:
		c.impl, err = host.Mailer(rpc)
	}
	if err != nil {
		return nil, err
	}
	c.common = c.impl.(commonAPI)
	c.done = tap.get()
	if c.done == nil {
		return nil, errors.New("go-plugin did not hand out the process lifetime context")
	}

	ctx, cancel := context.WithTimeout(stop, in.h.callTimeout)
	defer cancel()
	desc, err := describe(ctx, c.impl)
	if err != nil {
		if sdkerr.CategoryOf(err) == sdkerr.CategoryUnimplemented {
			return nil, refuse("binary %q does not serve the %s kind: %w", in.binary, in.kind, err)
		}
		return nil, fmt.Errorf("describe: %w", err)
	}
	if desc.Kind != "" && desc.Kind != in.kind {
		return nil, refuse("binary %q is a %s plugin, configured as a %s", in.binary, desc.Kind, in.kind)
	}
	if desc.TestOnly && in.mode == config.InstanceModeLive {
		return nil, refuse("binary %q (%s) is test only: it moves no real money, so it cannot run as a live instance (mode: live)", in.binary, desc.Name)
	}
	// Kept even if Configure fails, so operators see which plugin refused.
	in.mu.Lock()
	in.desc = desc
	in.mu.Unlock()
	if err := c.common.Configure(ctx, in.currentSettings()); err != nil {
		switch sdkerr.CategoryOf(err) {
		case sdkerr.CategoryInvalidInput, sdkerr.CategoryUnauthorized:
			return nil, refuse("configure rejected the settings: %w", err)
		}
		return nil, fmt.Errorf("configure: %w", err)
	}
	in.log.Info("plugin started", "name", desc.Name, "version", desc.Version, "pid", c.pid)
	return c, nil
}

// clientConfig is how go-plugin reaches the instance's plugin: by launching
// its binary, or, in development, by attaching to it in debug mode.
func (in *instance) clientConfig() (*plugin.ClientConfig, error) {
	logger := newHCLogAdapter(in.log)
	opts := host.Options{
		SHA256:         in.checksum,
		StartTimeout:   in.h.startTimeout,
		Logger:         logger,
		TracerProvider: in.h.opts.TracerProvider,
	}
	if in.reattach != nil {
		return host.ReattachClientConfig(in.reattach, opts), nil
	}
	path, err := resolveBinary(in.h.dir, in.binary)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(path)
	cmd.Dir = filepath.Dir(path)
	dieWithHost(cmd)
	// SkipHostEnv: the plugin sees this and go-plugin's handshake variables,
	// nothing of the host's environment (credentials arrive via Configure).
	cmd.Env = []string{sdk.LogLevelEnv + "=" + strings.ToLower(logger.GetLevel().String())}
	cfg := host.ClientConfig(cmd, opts)
	cfg.SyncStdout = newLineLogger(in.log, "stdout")
	cfg.SyncStderr = newLineLogger(in.log, "stderr")
	return cfg, nil
}

// describe calls the kind's Describe; only providers have methods.
func describe(ctx context.Context, impl any) (provider.Description, error) {
	switch p := impl.(type) {
	case provider.Client:
		return p.Describe(ctx)
	case provisioner.Provisioner:
		info, err := p.Describe(ctx)
		return provider.Description{Info: info}, err
	case registrar.Registrar:
		info, err := p.Describe(ctx)
		return provider.Description{Info: info}, err
	case mailer.Mailer:
		info, err := p.Describe(ctx)
		return provider.Description{Info: info}, err
	}
	return provider.Description{}, fmt.Errorf("unknown plugin type %T", impl)
}

// grpcPlugin is what go-plugin needs of a gRPC-only plugin.
type grpcPlugin interface {
	plugin.Plugin
	plugin.GRPCPlugin
}

// doneTap wraps the SDK's client plugins to capture the context go-plugin
// passes to GRPCClient, which it cancels when the plugin process exits.
// That lets the supervisor react to a crash at once instead of polling
// Client.Exited.
type doneTap struct {
	mu   sync.Mutex
	done context.Context
}

func (t *doneTap) get() context.Context {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.done
}

type tappedPlugin struct {
	grpcPlugin
	tap *doneTap
}

func (p tappedPlugin) GRPCClient(ctx context.Context, b *plugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	p.tap.mu.Lock()
	p.tap.done = ctx
	p.tap.mu.Unlock()
	return p.grpcPlugin.GRPCClient(ctx, b, c)
}

func tapDone(cfg *plugin.ClientConfig) *doneTap {
	tap := &doneTap{}
	if cfg.Plugins != nil {
		cfg.Plugins = tapSet(cfg.Plugins, tap)
	}
	for v, set := range cfg.VersionedPlugins {
		cfg.VersionedPlugins[v] = tapSet(set, tap)
	}
	return tap
}

func tapSet(set plugin.PluginSet, tap *doneTap) plugin.PluginSet {
	tapped := make(plugin.PluginSet, len(set))
	for name, p := range set {
		if gp, ok := p.(grpcPlugin); ok {
			tapped[name] = tappedPlugin{grpcPlugin: gp, tap: tap}
		} else {
			tapped[name] = p
		}
	}
	return tapped
}

// gracePeriod is how long a plugin gets to exit after the host asks it to
// before it is killed outright. go-plugin's own wait is 2s, but its shutdown
// RPC has no deadline, so a hung plugin would block Kill forever.
const gracePeriod = 3 * time.Second

// stop ends the process. A plugin known to be hung is killed outright;
// otherwise it is asked to shut down and killed after gracePeriod.
func (c *conn) stop(hung bool) {
	if hung {
		c.forceKill()
	}
	done := make(chan struct{})
	go func() {
		c.client.Kill()
		close(done)
	}()
	t := time.NewTimer(gracePeriod)
	defer t.Stop()
	select {
	case <-done:
		return
	case <-t.C:
	}
	c.forceKill()
	<-done
}

// forceKill sends SIGKILL to the plugin process while it has not been
// reaped (go-plugin reaps it and then cancels done), so the pid cannot
// belong to another process yet.
func (c *conn) forceKill() {
	if c.pid <= 0 || (c.done != nil && c.done.Err() != nil) {
		return
	}
	if p, err := os.FindProcess(c.pid); err == nil {
		_ = p.Kill()
	}
}
