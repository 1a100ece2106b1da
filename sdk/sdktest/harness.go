package sdktest

import (
	"context"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"

	"github.com/switchyard/switchyard/sdk"
	"github.com/switchyard/switchyard/sdk/host"
	"github.com/switchyard/switchyard/sdk/mailer"
	"github.com/switchyard/switchyard/sdk/provider"
	"github.com/switchyard/switchyard/sdk/provisioner"
	"github.com/switchyard/switchyard/sdk/registrar"
)

// startTimeout bounds how long the in-process plugin may take to listen.
const startTimeout = 10 * time.Second

// Serve runs opts in-process with go-plugin's test mode and connects a host
// client to it exactly as the host would (versioned plugin sets, otelgrpc
// dial options). Everything is torn down when the test ends.
func Serve(t testing.TB, opts sdk.ServeOpts) plugin.ClientProtocol {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = hclog.New(&hclog.LoggerOptions{Name: "plugin", Level: hclog.Warn})
	}
	ctx, cancel := context.WithCancel(context.Background())
	reattach := make(chan *plugin.ReattachConfig, 1)
	closed := make(chan struct{})
	cfg := sdk.ServeConfig(opts)
	cfg.Test = &plugin.ServeTestConfig{Context: ctx, ReattachConfigCh: reattach, CloseCh: closed}
	go plugin.Serve(cfg)

	var rc *plugin.ReattachConfig
	select {
	case rc = <-reattach:
	case <-closed:
		cancel()
		t.Fatal("sdktest: plugin server exited before listening (no kind set in ServeOpts?)")
	case <-time.After(startTimeout):
		cancel()
		t.Fatal("sdktest: plugin server did not start")
	}

	versioned := host.VersionedPlugins()
	if versioned[rc.ProtocolVersion] == nil {
		cancel()
		t.Fatalf("sdktest: plugin speaks protocol %d, host knows %v", rc.ProtocolVersion, versioned)
	}
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig: sdk.Handshake(),
		// go-plugin negotiates VersionedPlugins only when it launches the
		// binary; a reattached client needs the set for the version the
		// server reported.
		Plugins:          versioned[rc.ProtocolVersion],
		VersionedPlugins: versioned,
		Reattach:         rc,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		GRPCDialOptions:  host.DialOptions(nil),
		Logger:           hclog.New(&hclog.LoggerOptions{Name: "host", Level: hclog.Warn}),
	})
	cp, err := client.Client()
	if err != nil {
		cancel()
		t.Fatalf("sdktest: connect to plugin: %v", err)
	}
	t.Cleanup(func() {
		// Closing the client asks the server to stop gracefully (go-plugin's
		// controller Shutdown); cancelling first would pull the listener
		// out from under it. Kill alone does nothing for a reattached
		// in-process server.
		_ = cp.Close()
		client.Kill()
		select {
		case <-closed:
		case <-time.After(time.Second):
		}
		cancel()
		select {
		case <-closed:
		case <-time.After(startTimeout):
			t.Error("sdktest: plugin server did not stop")
		}
	})
	return cp
}

// ProviderClient serves impl in-process and returns the host's view of it.
func ProviderClient(t testing.TB, impl provider.Provider) provider.Client {
	t.Helper()
	p, err := host.Provider(Serve(t, sdk.ServeOpts{Provider: impl}))
	if err != nil {
		t.Fatalf("sdktest: %v", err)
	}
	return p
}

// ProvisionerClient serves impl in-process and returns the host's view of it.
func ProvisionerClient(t testing.TB, impl provisioner.Provisioner) provisioner.Provisioner {
	t.Helper()
	p, err := host.Provisioner(Serve(t, sdk.ServeOpts{Provisioner: impl}))
	if err != nil {
		t.Fatalf("sdktest: %v", err)
	}
	return p
}

// RegistrarClient serves impl in-process and returns the host's view of it.
func RegistrarClient(t testing.TB, impl registrar.Registrar) registrar.Registrar {
	t.Helper()
	r, err := host.Registrar(Serve(t, sdk.ServeOpts{Registrar: impl}))
	if err != nil {
		t.Fatalf("sdktest: %v", err)
	}
	return r
}

// MailerClient serves impl in-process and returns the host's view of it.
func MailerClient(t testing.TB, impl mailer.Mailer) mailer.Mailer {
	t.Helper()
	m, err := host.Mailer(Serve(t, sdk.ServeOpts{Mailer: impl}))
	if err != nil {
		t.Fatalf("sdktest: %v", err)
	}
	return m
}
