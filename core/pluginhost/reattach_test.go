package pluginhost_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/switchyard/switchyard/config"
	"github.com/switchyard/switchyard/core/pluginhost"
	"github.com/switchyard/switchyard/sdk"
)

// TestReattachToPluginInDebugMode follows docs/plugins.md's debugging
// steps with the real testprovider binary: started with
// SWITCHYARD_PLUGIN_DEBUG it serves on its own and prints the
// SWITCHYARD_PLUGINS_REATTACH value; a host given that value calls it
// without launching anything, leaves it running when it closes (so a
// second host attaches to the same process), and Ctrl-C ends it cleanly.
func TestReattachToPluginInDebugMode(t *testing.T) {
	cmd := exec.Command(filepath.Join(pluginsDir, "testprovider"))
	cmd.Env = []string{sdk.DebugEnv + "=tp"}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	var waitErr error
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	lines := bufio.NewScanner(stdout)
	var reattach string
	for reattach == "" && lines.Scan() {
		if v, ok := strings.CutPrefix(strings.TrimSpace(lines.Text()), sdk.ReattachEnv+"='"); ok {
			reattach = strings.TrimSuffix(v, "'")
		}
	}
	go func() {
		_, _ = io.Copy(io.Discard, stdout)
		waitErr = cmd.Wait()
		close(exited)
	}()
	if reattach == "" {
		t.Fatalf("the plugin in debug mode printed no %s line", sdk.ReattachEnv)
	}
	if _, err := sdk.ParseReattach(reattach); err != nil {
		t.Fatalf("printed reattach value %q: %v", reattach, err)
	}

	for round := 1; round <= 2; round++ {
		h := newHost(t, hostOpts{reattach: reattach}, testProvider("tp"))
		start(t, h)
		p, err := h.Provider("tp")
		if err != nil {
			t.Fatal(err)
		}
		resp, err := p.CreatePayment(context.Background(), payment("debug"))
		t.Logf("round %d: %s → %+v", round, reattach, resp)
		if err != nil {
			t.Fatalf("round %d: CreatePayment through the reattached plugin: %v", round, err)
		}
		if got := info(t, h, "tp"); got.PID != 0 || got.Restarts != 0 {
			t.Errorf("round %d: info = %+v, want no pid of ours and no restarts", round, got)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if err := h.Close(ctx); err != nil {
			t.Errorf("round %d: Close: %v", round, err)
		}
		cancel()
		if err := cmd.Process.Signal(syscall.Signal(0)); err != nil {
			t.Fatalf("round %d: the debug plugin did not survive the host closing: %v", round, err)
		}
	}

	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
		if waitErr != nil {
			t.Errorf("plugin in debug mode after Ctrl-C: %v, want a clean exit", waitErr)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("plugin in debug mode ignored Ctrl-C")
	}
}

// TestPluginRunByHandExplainsItself: sdk.Serve returns ErrNotLaunchedByHost
// and the plugin's main turns it into a message and exit status 1.
func TestPluginRunByHandExplainsItself(t *testing.T) {
	cmd := exec.Command(filepath.Join(pluginsDir, "testprovider"))
	cmd.Env = []string{}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("run by hand: %v, want exit status 1", err)
	}
	if !strings.Contains(stderr.String(), sdk.ErrNotLaunchedByHost.Error()) {
		t.Errorf("stderr %q does not explain that this is a plugin", stderr.String())
	}
}

func TestReattachConfigRejected(t *testing.T) {
	for name, raw := range map[string]string{
		"not json":         "{",
		"unknown instance": `{"nope":{"Protocol":"grpc","ProtocolVersion":1,"Pid":1,"Addr":{"Network":"unix","String":"/tmp/x"}}}`,
		"netrpc":           `{"tp":{"Protocol":"netrpc","ProtocolVersion":1,"Pid":1,"Addr":{"Network":"unix","String":"/tmp/x"}}}`,
		"future protocol":  `{"tp":{"Protocol":"grpc","ProtocolVersion":9,"Pid":1,"Addr":{"Network":"unix","String":"/tmp/x"}}}`,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := pluginhostNew(raw)
			if err == nil || !strings.Contains(err.Error(), "plugins.reattach") {
				t.Errorf("New with plugins.reattach %s: %v, want an error naming plugins.reattach", raw, err)
			}
		})
	}
}

func pluginhostNew(reattach string) (*pluginhost.Host, error) {
	return pluginhost.New(config.PluginsConfig{Dir: pluginsDir, Instances: []config.PluginInstance{testProvider("tp")}, Reattach: reattach}, pluginhost.Options{})
}
