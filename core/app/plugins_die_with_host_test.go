package app_test

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/testbin"
)

// TestPluginsDieWithTheirHost runs the real binaries: `switchyard serve`
// with two sandbox plugin processes is killed with SIGKILL (as the OOM
// killer would), and no plugin process may outlive it.
func TestPluginsDieWithTheirHost(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	bin := bins.Switchyard(t)
	sandbox := bins.Plugin(t, "sandbox")
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "sy.yaml")
	yaml := `
public: {addr: "127.0.0.1:0"}
admin: {addr: "127.0.0.1:0", tokens: ["` + adminToken + `"]}
store: {dsn: "sqlite:` + filepath.Join(dir, "sy.db") + `"}
secrets: {keys: [{id: k1, key: MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=}]}
plugins:
  dir: ` + filepath.Dir(sandbox) + `
  instances:
    - {id: sandbox-a, kind: provider, binary: sandbox, settings: {signing_secret: orphan-test-secret-0123456789}}
    - {id: sandbox-b, kind: provider, binary: sandbox, settings: {signing_secret: orphan-test-secret-0123456789}}
`
	if err := os.WriteFile(cfgPath, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve", "--config", cfgPath)
	cmd.Env = hermeticEnv()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var plugins []int
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		for _, pid := range testbin.WaitGone(plugins, 0) {
			_ = syscall.Kill(pid, syscall.SIGKILL) // do not leak them if the test failed
		}
	})
	sc := bufio.NewScanner(stdout)
	ready := false
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "public listener: ") {
			ready = true
			break
		}
	}
	if !ready {
		t.Fatal("serve never reported its listeners")
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()

	// serve reports its listeners after the plugins started.
	want, err := filepath.EvalSymlinks(sandbox)
	if err != nil {
		t.Fatal(err)
	}
	for _, pid := range testbin.Children(t, cmd.Process.Pid) {
		if testbin.Exe(pid) == want {
			plugins = append(plugins, pid)
		}
	}
	if len(plugins) != 2 {
		t.Fatalf("serve (pid %d) runs %d sandbox plugin processes, want 2", cmd.Process.Pid, len(plugins))
	}

	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if alive := testbin.WaitGone(plugins, 20*time.Second); len(alive) > 0 {
		t.Fatalf("plugin processes %v outlived their host killed with SIGKILL", alive)
	}
}
