package main

import (
	"bufio"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/testbin"
	"github.com/switchyard/switchyard/sdk"
)

var bins testbin.Builder

// TestPluginExitsWhenItsHostDies checks the plugin's own watch (sdk.Serve),
// without the parent-death signal Switchyard's host also sets: the host
// here is a shell that starts the real sandbox binary with the handshake
// cookie, as any go-plugin host would, and is then killed with SIGKILL.
func TestPluginExitsWhenItsHostDies(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	bin := bins.Plugin(t, "sandbox")
	host := exec.Command("/bin/sh", "-c", `"$0" >/dev/null 2>&1 & echo "$!"; wait`, bin)
	host.Env = []string{sdk.MagicCookieKey + "=" + sdk.MagicCookieValue, "PATH=/usr/bin:/bin"}
	out, err := host.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := host.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = host.Process.Kill(); _ = host.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("host printed no plugin pid: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if testbin.Running(pid) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	})

	// The plugin serves while its host lives.
	time.Sleep(time.Second)
	if !testbin.Running(pid) {
		t.Fatal("the plugin exited while its host was alive")
	}

	if err := host.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = host.Wait()
	if alive := testbin.WaitGone([]int{pid}, 15*time.Second); len(alive) > 0 {
		t.Fatalf("sandbox plugin %d outlived its host killed with SIGKILL", pid)
	}
}
