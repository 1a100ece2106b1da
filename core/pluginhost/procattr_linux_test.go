package pluginhost

import (
	"errors"
	"os/exec"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// TestDieWithHostSignalsTheChild checks the kernel side of dieWithHost on a
// child that does not watch its parent (sleep, like a plugin built without
// the SDK): the parent-death signal fires when the thread that started the
// child ends. The test ends that thread on purpose, the way a dead host's
// threads end, by starting the child from a goroutine locked to its thread
// and returning without unlocking.
func TestDieWithHostSignalsTheChild(t *testing.T) {
	cmd := exec.Command("sleep", "60")
	dieWithHost(cmd)
	// The main thread is never ended (Go parks it instead), so the child
	// is started from another one.
	started := make(chan error, 1)
	for {
		onMain := make(chan bool, 1)
		go func() {
			runtime.LockOSThread()
			if syscall.Gettid() == syscall.Getpid() {
				runtime.UnlockOSThread()
				onMain <- true
				return
			}
			onMain <- false
			started <- cmd.Start() // never unlocked: the thread exits with this goroutine
		}()
		if !<-onMain {
			break
		}
	}
	if err := <-started; err != nil {
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	select {
	case err := <-waited:
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatalf("child ended with %v, want a signal", err)
		}
		ws := ee.Sys().(syscall.WaitStatus)
		if !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
			t.Fatalf("child ended with %v, want SIGKILL", err)
		}
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("the child outlived the thread that started it")
	}
}
