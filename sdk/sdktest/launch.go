package sdktest

import (
	"os/exec"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"

	"github.com/switchyard/switchyard/sdk/host"
	"github.com/switchyard/switchyard/sdk/mailer"
	"github.com/switchyard/switchyard/sdk/provider"
	"github.com/switchyard/switchyard/sdk/provisioner"
	"github.com/switchyard/switchyard/sdk/registrar"
)

// Launch starts the plugin binary at path the way a host does (fixed
// handshake, version negotiation, AutoMTLS, no host environment, opts'
// checksum pin) and returns the connected client. The process is killed
// when the test ends. Use it for end-to-end tests of a built plugin.
func Launch(t testing.TB, path string, opts host.Options) plugin.ClientProtocol {
	t.Helper()
	if opts.StartTimeout == 0 {
		opts.StartTimeout = 30 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = hclog.New(&hclog.LoggerOptions{Name: "plugin", Level: hclog.Warn})
	}
	client := plugin.NewClient(host.ClientConfig(exec.Command(path), opts))
	t.Cleanup(client.Kill)
	cp, err := client.Client()
	if err != nil {
		t.Fatalf("sdktest: launch %s: %v", path, err)
	}
	return cp
}

// LaunchProvider launches a provider plugin binary and returns the host's
// view of it.
func LaunchProvider(t testing.TB, path string, opts host.Options) provider.Client {
	t.Helper()
	p, err := host.Provider(Launch(t, path, opts))
	if err != nil {
		t.Fatalf("sdktest: %v", err)
	}
	return p
}

// LaunchProvisioner launches a provisioner plugin binary and returns the
// host's view of it.
func LaunchProvisioner(t testing.TB, path string, opts host.Options) provisioner.Provisioner {
	t.Helper()
	p, err := host.Provisioner(Launch(t, path, opts))
	if err != nil {
		t.Fatalf("sdktest: %v", err)
	}
	return p
}

// LaunchMailer launches a mailer plugin binary and returns the host's view
// of it.
func LaunchMailer(t testing.TB, path string, opts host.Options) mailer.Mailer {
	t.Helper()
	m, err := host.Mailer(Launch(t, path, opts))
	if err != nil {
		t.Fatalf("sdktest: %v", err)
	}
	return m
}

// LaunchRegistrar launches a registrar plugin binary and returns the host's
// view of it.
func LaunchRegistrar(t testing.TB, path string, opts host.Options) registrar.Registrar {
	t.Helper()
	r, err := host.Registrar(Launch(t, path, opts))
	if err != nil {
		t.Fatalf("sdktest: %v", err)
	}
	return r
}
